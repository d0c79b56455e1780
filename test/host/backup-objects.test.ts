import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostScriptsDir, runCommand } from '../helpers/host-scripts';
import { tempDirsRemovedAfterAll } from '../helpers/temp-dirs';

/*
 * scripts/host/backup_objects.py on its own: the manifest object of an archive, the candidates of a
 * listing, and the check of a manifest against what S3 recorded. backup-lib.sh runs it for real in
 * test/host/backup.test.ts and restore.test.ts (s3rver and the AWS CLI).
 */

const tempDir = tempDirsRemovedAfterAll();
const program = join(hostScriptsDir, 'backup_objects.py');
const run = (...args: string[]) => runCommand('python3', [program, ...args]);
const PATTERN = '^test/hostrt-test-[0-9]{8}T[0-9]{6}Z\\.tar\\.gz$';

function file(name: string, text: string): string {
  const path = join(tempDir('backup-objects-'), name);
  writeFileSync(path, text);
  return path;
}

test('manifest: key, bytes and sha256 of the file, the times, app, environment and database, one JSON line', async () => {
  const archive = file('backup.tar.gz', 'archive bytes\n');
  const result = await run(
    'manifest',
    'test/hostrt-test-20260102T030405Z.tar.gz',
    archive,
    '2026-01-02T03:04:05Z',
    '2026-01-02T03:04:09Z',
    'hostrt',
    'test',
    'hostrt',
  );
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout.split('\n')).toHaveLength(2);
  expect(JSON.parse(result.stdout)).toEqual({
    schemaVersion: 1,
    key: 'test/hostrt-test-20260102T030405Z.tar.gz',
    bytes: 14,
    sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    createdAt: '2026-01-02T03:04:05Z',
    uploadedAt: '2026-01-02T03:04:09Z',
    app: 'hostrt',
    environment: 'test',
    database: 'hostrt',
  });
  // The file's own, as sha256sum computes it.
  const sha = (await runCommand('sha256sum', [archive])).stdout.split(' ')[0];
  expect(JSON.parse(result.stdout).sha256).toBe(sha);
});

test('candidates: the backups of the pattern, newest by the time S3 recorded (not by name), each with its manifest and when that was stored', async () => {
  const listing = file(
    'list.json',
    JSON.stringify([
      ['test/hostrt-test-20260101T000000Z.tar.gz', '2026-01-03T10:00:00.000Z', 100],
      ['test/hostrt-test-20260101T000000Z.manifest.json', '2026-01-03T10:00:01.000Z', 300],
      // A far-future name stored earlier: older by what S3 recorded.
      ['test/hostrt-test-29991231T235959Z.tar.gz', '2026-01-02T10:00:00.000Z', 200],
      ['test/other-app-20260101T000000Z.tar.gz', '2026-01-04T10:00:00.000Z', 5],
      ['test/safety/hostrt-test-20260101T000000Z-before-restore.dump', '2026-01-05T10:00:00.000Z', 5],
    ]),
  );
  const all = await run('candidates', listing, PATTERN, '');
  expect(all).toMatchObject({ code: 0, stderr: '' });
  expect(all.stdout).toBe(
    [
      'test/hostrt-test-20260101T000000Z.tar.gz\t2026-01-03T10:00:00Z\t100\ttest/hostrt-test-20260101T000000Z.manifest.json\t2026-01-03T10:00:01.000Z',
      'test/hostrt-test-29991231T235959Z.tar.gz\t2026-01-02T10:00:00Z\t200\ttest/hostrt-test-29991231T235959Z.manifest.json\t',
      '',
    ].join('\n'),
  );
  const wanted = await run('candidates', listing, PATTERN, 'test/hostrt-test-29991231T235959Z.tar.gz');
  expect(wanted.stdout.split('\n')).toHaveLength(2);
  expect(wanted.stdout).toMatch(/^test\/hostrt-test-29991231T235959Z\.tar\.gz\t/);
  // An empty prefix: the CLI prints null.
  expect(await run('candidates', file('empty.json', 'null'), PATTERN, '')).toMatchObject({ code: 0, stdout: '' });
  const garbled = await run('candidates', file('bad.json', '[["only-a-key"]]'), PATTERN, '');
  expect(garbled.code).toBe(1);
  expect(garbled.stderr).toMatch(/^backup_objects: ValueError: [^\n]+\n$/);
});

describe('check: the manifest vouches for the archive S3 holds, or the reason it does not', () => {
  const KEY = 'test/hostrt-test-20260102T030405Z.tar.gz';
  const SHA = 'a'.repeat(64);
  const manifest = (fields: Record<string, unknown> = {}) =>
    file(
      'manifest.json',
      JSON.stringify({ key: KEY, bytes: 100, sha256: SHA, createdAt: '2026-01-02T03:04:05Z', uploadedAt: '2026-01-02T03:05:00Z', ...fields }),
    );
  const check = (path: string, stored = '2026-01-02T03:04:30Z', manifestStored = '2026-01-02T03:05:01Z', size = '100') =>
    run('check', path, KEY, size, stored, manifestStored, '300');

  test('vouching: prints the sha256 it records', async () => {
    expect(await check(manifest())).toMatchObject({ code: 0, stdout: `${SHA}\n`, stderr: '' });
    // Within the clock skew either side.
    expect((await check(manifest(), '2026-01-02T02:59:06Z')).code).toBe(0);
  });

  test.each([
    ['another key', { key: 'test/hostrt-test-20260101T000000Z.tar.gz' }, {}, 'its manifest names another backup (test/hostrt-test-20260101T000000Z.tar.gz)'],
    [
      'archive stored after its manifest',
      {},
      { stored: '2026-01-02T03:06:00Z' },
      'stored after its manifest was written (overwritten?): archive stored 2026-01-02T03:06:00Z, manifest 2026-01-02T03:05:01Z',
    ],
    ['another size', {}, { size: '99' }, '99 bytes, its manifest says 100'],
    [
      'stored long before it was created',
      {},
      { stored: '2026-01-02T02:00:00Z' },
      'stored at 2026-01-02T02:00:00Z, outside the times its manifest gives (2026-01-02T03:04:05Z to 2026-01-02T03:05:00Z)',
    ],
    ['no sha256', { sha256: '' }, {}, 'its manifest holds no sha256'],
    ['a field missing', { createdAt: undefined }, {}, "its manifest is not readable (KeyError: 'createdAt')"],
    ['a time that is not one', { uploadedAt: 'yesterday' }, {}, "its manifest is not readable (ValueError: Invalid isoformat string: 'yesterday')"],
  ])('%s', async (_name, fields, at: { stored?: string; size?: string }, reason) => {
    const result = await check(manifest(fields), at.stored, undefined, at.size);
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: `${reason}\n` });
  });

  test('not JSON at all', async () => {
    const result = await check(file('manifest.json', '<Error>'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^its manifest is not readable \(JSONDecodeError: Expecting value: [^\n]+\)\n$/);
  });
});

test('bad usage: exit 2 and the usage line', async () => {
  for (const args of [[], ['manifest', 'k'], ['check'], ['list']]) {
    const result = await run(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^usage: backup_objects\.py manifest KEY FILE /);
  }
});
