import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostScriptsDir, runCommand } from '../helpers/host-scripts';
import { tempDirsRemovedAfterAll } from '../helpers/temp-dirs';

/*
 * scripts/host/recorded_commit.py on its own: which commit host-boot.sh starts at boot. host-boot.sh
 * runs it for real in test/host/host-lifecycle.test.ts.
 */

const tempDir = tempDirsRemovedAfterAll();
const program = join(hostScriptsDir, 'recorded_commit.py');
const SHA = '0123456789abcdef0123456789abcdef01234567';

async function recorded(text: string) {
  const path = join(tempDir('recorded-commit-'), 'deploy_state.json');
  writeFileSync(path, text);
  return runCommand('python3', [program, path]);
}

test('prints the current commit, or an empty line when none is recorded', async () => {
  expect(await recorded(JSON.stringify({ current: { ref: 'main', commit: SHA }, previous: null }))).toMatchObject({ code: 0, stdout: `${SHA}\n`, stderr: '' });
  for (const none of [{}, { current: null }, { current: {} }, []]) expect(await recorded(JSON.stringify(none))).toMatchObject({ code: 0, stdout: '\n' });
});

test('a file that is not JSON, or a commit that is not a full sha: the reason in one line on stdout, exit 1', async () => {
  const garbled = await recorded('{"current": ');
  expect(garbled).toMatchObject({ code: 1, stderr: '' });
  expect(garbled.stdout).toMatch(/^JSONDecodeError: Expecting value: [^\n]+\n$/);
  for (const commit of ['abc123', `${SHA}; reboot`, SHA.toUpperCase(), 42]) {
    const result = await recorded(JSON.stringify({ current: { commit } }));
    expect(result).toMatchObject({ code: 1, stdout: `current.commit ${typeof commit === 'number' ? commit : `'${commit}'`} is not a full commit sha\n` });
  }
  const usage = await runCommand('python3', [program]);
  expect(usage).toMatchObject({ code: 2, stderr: 'usage: recorded_commit.py STATE_FILE\n' });
});
