import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostScriptsDir, runCommand } from '../helpers/host-scripts';
import { tempDirsRemovedAfterAll } from '../helpers/temp-dirs';

/*
 * scripts/host/backup_archive.py on its own: the manifest inside an archive written from backup.sh's
 * work directory, verified as restore.sh and restore-drill.sh verify it, and the drill's table.
 * The scripts run it for real in test/host/backup.test.ts and restore.test.ts (PostgreSQL, s3rver).
 */

const tempDir = tempDirsRemovedAfterAll();
const program = join(hostScriptsDir, 'backup_archive.py');
const run = (...args: string[]) => runCommand('python3', [program, ...args]);
const sha256 = async (path: string) => (await runCommand('sha256sum', [path])).stdout.split(' ')[0];

/** backup.sh's work directory: the dump, the counts, the size and (unless `redis` is false) the AOF archive. */
function workDir(redis = true): string {
  const work = tempDir('backup-archive-');
  writeFileSync(join(work, 'postgres.dump'), 'PGDMP dump bytes');
  writeFileSync(join(work, 'tables.tsv'), 'public.orders\t250\npublic.users\t3\n');
  writeFileSync(join(work, 'database.bytes'), '8192\n');
  if (redis) writeFileSync(join(work, 'redis-aof.tar'), 'aof bytes');
  return work;
}

const manifestOf = async (work: string, ...rest: string[]) =>
  run('manifest', work, 'hostrt', 'test', 'hostrt', '2026-01-02T03:04:05Z', ...(rest.length ? rest : ['service redis:/data']));

test('manifest: every file by its sha256 (a missing one as null), the row counts, the size and where Redis came from', async () => {
  const work = workDir();
  expect(await manifestOf(work)).toMatchObject({ code: 0, stdout: '', stderr: '' });
  expect(JSON.parse(readFileSync(join(work, 'manifest.json'), 'utf8'))).toEqual({
    schemaVersion: 2,
    app: 'hostrt',
    environment: 'test',
    createdAt: '2026-01-02T03:04:05Z',
    database: 'hostrt',
    databaseBytes: 8192,
    files: { 'postgres.dump': await sha256(join(work, 'postgres.dump')), 'redis-aof.tar': await sha256(join(work, 'redis-aof.tar')) },
    redisSource: 'service redis:/data',
    tableRowsAtBackup: { 'public.orders': 250, 'public.users': 3 },
  });
  const withoutRedis = workDir(false);
  await manifestOf(withoutRedis, 'none');
  expect(JSON.parse(readFileSync(join(withoutRedis, 'manifest.json'), 'utf8'))).toMatchObject({ files: { 'redis-aof.tar': null }, redisSource: 'none' });
  // What it cannot read is one line, exit 1, and no manifest.
  const broken = workDir();
  writeFileSync(join(broken, 'tables.tsv'), 'public.orders 250\n');
  const refused = await manifestOf(broken);
  expect(refused).toMatchObject({ code: 1, stderr: 'ValueError: not enough values to unpack (expected 2, got 1)\n' });
  expect(existsSync(join(broken, 'manifest.json'))).toBe(false);
});

describe('verify and verify-counts: an unpacked archive against its manifest', () => {
  async function unpacked(): Promise<string> {
    const work = workDir();
    await manifestOf(work);
    return work;
  }

  test('intact: verify prints createdAt in seconds; verify-counts writes the recorded counts (sorted) and the size', async () => {
    const root = await unpacked();
    expect(await run('verify', root)).toMatchObject({ code: 0, stdout: `${Date.UTC(2026, 0, 2, 3, 4, 5) / 1000}\n`, stderr: '' });
    const out = tempDir('backup-archive-');
    expect(await run('verify-counts', root, out)).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(out, 'recorded.tsv'), 'utf8')).toBe('public.orders\t250\npublic.users\t3\n');
    expect(readFileSync(join(out, 'database.bytes'), 'utf8')).toBe('8192\n');
  });

  test('a file that differs from its sha256 is named, with both sums, by both', async () => {
    const root = await unpacked();
    const recorded = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')).files['redis-aof.tar'];
    writeFileSync(join(root, 'redis-aof.tar'), 'tampered');
    const actual = await sha256(join(root, 'redis-aof.tar'));
    for (const args of [
      ['verify', root],
      ['verify-counts', root, tempDir('backup-archive-')],
    ]) {
      expect(await run(...args)).toMatchObject({ code: 1, stdout: '', stderr: `redis-aof.tar: sha256 ${actual}, manifest says ${recorded}\n` });
    }
  });

  test('verify-counts refuses a manifest without row counts; a missing file or manifest is one line', async () => {
    const root = await unpacked();
    const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
    writeFileSync(join(root, 'manifest.json'), JSON.stringify({ ...manifest, tableRowsAtBackup: { 'public.users': '3' } }));
    expect((await run('verify', root)).code).toBe(0);
    const out = tempDir('backup-archive-');
    expect(await run('verify-counts', root, out)).toMatchObject({
      code: 1,
      stderr: 'the manifest records no row counts (tableRowsAtBackup): nothing to compare the restore with\n',
    });
    expect(existsSync(join(out, 'recorded.tsv'))).toBe(false);

    const empty = tempDir('backup-archive-');
    mkdirSync(join(empty, 'unpacked'));
    const missing = await run('verify', join(empty, 'unpacked'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^FileNotFoundError: \[Errno 2\] No such file or directory: '[^']+manifest\.json'\n$/);
  });
});

test('compare: the drill table; exit 0 when every table came back with its count, 3 naming what is missing, lost or extra', async () => {
  const dir = tempDir('backup-archive-');
  const counts = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const recorded = counts('recorded.tsv', 'public.orders\t250\npublic.users\t3\n');
  const same = await run('compare', recorded, counts('same.tsv', 'public.orders\t250\npublic.users\t3\npublic.new\t1\n'), 'test/k.tar.gz');
  expect(same).toMatchObject({ code: 0, stderr: '' });
  const row = (name: string, s: string, r: string, result: string) => `${name.padEnd(40)} ${s.padStart(12)} ${r.padStart(12)}  ${result}`;
  expect(same.stdout.split('\n')).toEqual([
    'restore drill of test/k.tar.gz',
    row('table', 'recorded', 'restored', 'result'),
    row('public.new', '-', '1', 'not recorded'),
    row('public.orders', '250', '250', 'ok'),
    row('public.users', '3', '3', 'ok'),
    'tables: 2 recorded, 3 restored, 0 missing or with other row counts than recorded',
    '',
  ]);
  const bad = await run('compare', counts('bad-recorded.tsv', 'a\t5\nb\t5\nc\t5\n'), counts('bad.tsv', 'a\t4\nb\t6\n'), 'k');
  expect(bad.code).toBe(3);
  expect(bad.stdout).toContain(row('a', '5', '4', 'LOST 1'));
  expect(bad.stdout).toContain(row('b', '5', '6', 'EXTRA 1'));
  expect(bad.stdout).toContain(row('c', '5', '-', 'MISSING'));
  expect(bad.stdout).toContain('tables: 3 recorded, 2 restored, 3 missing or with other row counts than recorded');
});

test('bad usage: exit 2 and the usage line, never the exit of a failed comparison', async () => {
  for (const args of [[], ['verify'], ['compare', 'a', 'b'], ['restore', 'x']]) {
    const result = await run(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^usage: backup_archive\.py manifest WORK /);
  }
});
