import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostScriptsDir, runCommand } from '../helpers/host-scripts';
import { tempDirsRemovedAfterAll } from '../helpers/temp-dirs';

/*
 * scripts/host/state_file.py on its own: check, get and record on a state file in a temporary
 * directory. lib.sh runs it for every deploy, rollback, restore and status (test/host/deploy.test.ts,
 * blue-green.test.ts, faults.test.ts).
 */

const tempDir = tempDirsRemovedAfterAll();
const program = join(hostScriptsDir, 'state_file.py');
const run = (...args: string[]) => runCommand('python3', [program, ...args]);
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** record with the app and actor fixed; colour and port empty unless given. */
const record = (path: string, action: string, ref: string, commit: string, colour = '', port = '') =>
  run('record', path, 'hostrt', 'prod', action, ref, commit, 'jest', '2026-01-02T03:04:05Z', colour, port);
const read = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

test('record: the first release is current; the next moves it to previous; a redeploy of the same commit keeps the rollback target', async () => {
  const path = join(tempDir('state-'), 'nested', 'deploy_state.json');
  expect(await record(path, 'deploy', 'v1', A)).toMatchObject({ code: 0, stdout: '', stderr: '' });
  const v1 = { ref: 'v1', commit: A, deployedAt: '2026-01-02T03:04:05Z', deployedBy: 'jest', action: 'deploy' };
  expect(read(path)).toEqual({ schemaVersion: 1, app: 'hostrt', environment: 'prod', current: v1, previous: null, updatedAt: '2026-01-02T03:04:05Z' });

  await record(path, 'deploy', 'main', B);
  expect(read(path)).toMatchObject({ current: { ref: 'main', commit: B }, previous: v1 });
  await record(path, 'redeploy', 'main', B);
  expect(read(path)).toMatchObject({ current: { ref: 'main', commit: B, action: 'redeploy' }, previous: v1 });
  // Pretty-printed, one trailing line break, no temporary file left beside it.
  expect(readFileSync(path, 'utf8')).toMatch(/^\{\n {2}"schemaVersion": 1,[\s\S]*\}\n$/);
  expect(readdirSync(join(path, '..'))).toEqual(['deploy_state.json']);
});

test('record under blue/green: a colour and port are recorded; an in-place restart keeps them; a colour without a port drops the old port', async () => {
  const path = join(tempDir('state-'), 'deploy_state.json');
  await record(path, 'deploy', 'v1', A, 'blue', '8081');
  expect(read(path)).toMatchObject({ servingColour: 'blue', servingPort: 8081 });
  await record(path, 'restart', 'v1', A);
  expect(read(path)).toMatchObject({ servingColour: 'blue', servingPort: 8081 });
  await record(path, 'deploy', 'v2', B, 'green');
  expect(read(path).servingColour).toBe('green');
  expect(read(path)).not.toHaveProperty('servingPort');
  // Without blue/green nothing about colours is written.
  const plain = join(tempDir('state-'), 'deploy_state.json');
  await record(plain, 'deploy', 'v1', A);
  expect(Object.keys(read(plain))).not.toContain('servingColour');
});

test('get: a dotted path prints the value, nothing when absent; check: exit 0 only for a JSON object', async () => {
  const path = join(tempDir('state-'), 'deploy_state.json');
  await record(path, 'deploy', 'v1', A, 'blue', '8081');
  expect(await run('get', path, 'current.commit')).toMatchObject({ code: 0, stdout: `${A}\n` });
  expect(await run('get', path, 'servingPort')).toMatchObject({ code: 0, stdout: '8081\n' });
  expect(await run('get', path, 'previous.commit')).toMatchObject({ code: 0, stdout: '' });
  expect(await run('get', path, 'current.commit.deeper')).toMatchObject({ code: 0, stdout: '' });
  expect((await run('check', path)).code).toBe(0);

  const dir = tempDir('state-');
  for (const [name, text] of [
    ['array.json', '[]'],
    ['garbled.json', '{"current": '],
  ]) {
    writeFileSync(join(dir, name), text);
    expect(await run('check', join(dir, name))).toMatchObject({ code: 1, stdout: '', stderr: '' });
  }
  const garbled = await run('get', join(dir, 'garbled.json'), 'current.commit');
  expect(garbled.code).toBe(1);
  expect(garbled.stderr).toMatch(/^state file .*garbled\.json: Expecting value: line 1 column 13 \(char 12\)\n$/);
});

test('record that cannot write: one line, exit 1, the old file as it was; a garbled file is not overwritten', async () => {
  const dir = tempDir('state-');
  const path = join(dir, 'deploy_state.json');
  await record(path, 'deploy', 'v1', A);
  // Its directory cannot be made (a file stands where it would be): one line, nothing written.
  const blocked = await record(join(path, 'deploy_state.json'), 'deploy', 'v2', B);
  expect(blocked).toMatchObject({ code: 1, stdout: '' });
  expect(blocked.stderr).toMatch(/^FileExistsError: \[Errno 17\] File exists: [^\n]+\n$/);
  expect(read(path)).toMatchObject({ current: { ref: 'v1' } });
  writeFileSync(path, '{"current": ');
  const garbled = await record(path, 'deploy', 'v2', B);
  expect(garbled).toMatchObject({ code: 1, stdout: '' });
  expect(garbled.stderr).toMatch(/^JSONDecodeError: Expecting value: [^\n]+\n$/);
  expect(readFileSync(path, 'utf8')).toBe('{"current": ');
  expect(readdirSync(dir)).toEqual(['deploy_state.json']);
});

test('bad usage: exit 2 and the usage line', async () => {
  for (const args of [[], ['check'], ['get', 'x'], ['record', 'x'], ['delete', 'x']]) {
    const result = await run(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('usage: state_file.py check PATH | get PATH KEY.PATH | record PATH APP ENV ACTION REF COMMIT ACTOR NOW COLOUR PORT\n');
  }
});
