import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nginxStartSettings } from '../../lib/host-runtime/first-boot';
import { nginxDropIn } from '../../lib/host-runtime/nginx';
import { runCommand, type ScriptResult } from '../helpers/host-scripts';
import { preStartOf, testPreStart } from '../helpers/nginx-boot';
import { expectOutcome } from '../helpers/outcomes';

/*
 * scripts/host/nginx-upstream.sh as nginx's pre-start step runs it on the host: with only the
 * drop-in's environment (test/helpers/nginx-boot.ts reads it from the drop-in's text), on a state
 * file and an include in a temporary directory.
 */

const root = mkdtempSync('/tmp/hostrt-upstream-');
const stateFile = join(root, 'state/deploy_state.json');
const include = join(root, 'conf.d/hostrt-upstream.conf');
const noAudit = join(root, 'no-audit.log');
const preStart = testPreStart({ appName: 'hostrt', stateFile, stateDir: join(root, 'state'), upstreamFile: include, upstreamName: 'hostrt_app' });

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The pre-start step with the drop-in's environment (plus `extra`) and nothing else. */
function preStartStep(extra: Record<string, string> = {}): Promise<ScriptResult> {
  const env = Object.entries({ ...preStart.env, ...extra }).map(([k, v]) => `${k}=${v}`);
  return runCommand('env', ['-i', `PATH=${process.env.PATH}`, ...env, 'bash', preStart.command]);
}

function given(state: unknown, includeText = 'upstream hostrt_app {\n    server 127.0.0.1:3001;\n}\n'): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'state'), { recursive: true });
  mkdirSync(join(root, 'conf.d'), { recursive: true });
  if (state !== undefined) writeFileSync(stateFile, typeof state === 'string' ? state : JSON.stringify(state));
  writeFileSync(include, includeText);
}

test('the include names the colour and port the state file records; a second start finds it so and says so', async () => {
  given({ current: { ref: 'v2' }, servingColour: 'green', servingPort: 3002 });
  const result = await preStartStep();
  expectOutcome('nginx-upstream', 0, result, noAudit);
  expect(readFileSync(include, 'utf8')).toBe(
    '# Written by scripts/host/switch.sh: the colour serving hostrt (green). Local edits are overwritten.\nupstream hostrt_app {\n    server 127.0.0.1:3002;\n}\n',
  );
  expect(result.stderr).toContain('now names green (port 3002), the colour');
  const again = await preStartStep();
  expect(again.stderr).toContain('names green (port 3002), as');
});

test('no colour recorded (in place, or nothing deployed), or a state file that cannot be read: the include is left as it is, with the reason', async () => {
  for (const [state, reason] of [
    [{ current: { ref: 'v1' } }, 'records no serving colour'],
    [undefined, 'records no serving colour'],
    ['{not json', 'warning: cannot read the serving colour'],
    [{ servingColour: 'purple', servingPort: 1 }, 'warning: cannot read the serving colour from'],
    [{ servingColour: 'green' }, 'records green without its port (servingPort) and GREEN_PORT is not set'],
  ] as const) {
    given(state, 'upstream hostrt_app {\n    server 127.0.0.1:9999;\n}\n');
    const result = await preStartStep();
    expectOutcome('nginx-upstream', 0, result, noAudit);
    expect(result.stderr).toContain(reason);
    expect(readFileSync(include, 'utf8')).toContain('server 127.0.0.1:9999;');
  }
  // A state from before servingPort, with the colour's port given: derived.
  given({ servingColour: 'green' });
  expect((await preStartStep({ GREEN_PORT: '3002' })).code).toBe(0);
  expect(readFileSync(include, 'utf8')).toContain('server 127.0.0.1:3002;');
});

test('an include that cannot be written fails the start (exit 1): nginx must not serve one that may name an unrecorded release', async () => {
  given({ servingColour: 'blue', servingPort: 3001 });
  const result = await preStartStep({ NGINX_UPSTREAM_FILE: join(root, 'no-such-dir/upstream.conf') });
  expectOutcome('nginx-upstream', 1, result, noAudit);
  expect(result.stderr).toContain(`error: cannot write ${join(root, 'no-such-dir/upstream.conf')}`);
});

test('a setting missing from the drop-in is a usage error (exit 2), naming it', async () => {
  given({ servingColour: 'blue', servingPort: 3001 });
  const result = await preStartStep({ NGINX_UPSTREAM_NAME: '' });
  expectOutcome('nginx-upstream', 2, result, noAudit);
  expect(result.stderr).toContain('NGINX_UPSTREAM_NAME is not set');
});

test('the production drop-in runs the installed script with the production paths', () => {
  const production = preStartOf(nginxDropIn(nginxStartSettings('auraxis')));
  expect(production).toEqual({
    command: '/usr/local/sbin/auraxis-nginx-upstream.sh',
    env: {
      APP_NAME: 'auraxis',
      STATE_FILE: '/var/lib/auraxis/deploy_state.json',
      NGINX_UPSTREAM_FILE: '/etc/nginx/conf.d/auraxis-upstream.conf',
      NGINX_UPSTREAM_NAME: 'auraxis_app',
    },
  });
});
