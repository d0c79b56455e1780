import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostScriptsDir, runCommand } from '../helpers/host-scripts';
import { tempDirsRemovedAfterAll } from '../helpers/temp-dirs';

/*
 * scripts/host/render_env_file.py on its own: Parameter Store's answer in, the env file, the pending
 * record of versions and the report the shell reads out. secrets-lib.sh runs it for real in
 * test/host/secrets.test.ts (through deploy.sh and secrets.sh, against a local SSM endpoint).
 */

const tempDir = tempDirsRemovedAfterAll();
const program = join(hostScriptsDir, 'render_env_file.py');
const PATH = '/hostrt/prod/';

interface Parameter {
  readonly Name: string;
  readonly Value: string;
  readonly Version: number;
  readonly Type?: string;
}
const secure = (name: string, value: string, version = 1): Parameter => ({ Name: `${PATH}${name}`, Value: value, Version: version, Type: 'SecureString' });

async function render(parameters: readonly Parameter[] | string, required: string, optional = '') {
  const dir = tempDir('render-env-');
  const answer = join(dir, 'parameters.json');
  writeFileSync(answer, typeof parameters === 'string' ? parameters : JSON.stringify({ Parameters: parameters }));
  const target = join(dir, '.env');
  const state = join(dir, 'secrets.json');
  const report = join(dir, 'report');
  const result = await runCommand('python3', [program, answer, PATH, target, state, report, required, optional, '2026-01-02T03:04:05Z', 'jest']);
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
  return { result, target, env: read(target), pending: read(`${state}.pending`), state: read(state), report: read(report) };
}

test('renders the declared names (required, then optional) mode 0600, versions pending, undeclared ones reported, values only in the env file', async () => {
  const out = await render(
    [secure('API_KEY', 's3cret-api', 4), secure('DATABASE_URL', 'postgres://u:pw@db/app', 2), secure('EXTRA', 'unused'), secure('SENTRY_DSN', 'https://dsn')],
    'DATABASE_URL API_KEY',
    'SENTRY_DSN MISSING_OPTIONAL',
  );
  expect(out.result).toMatchObject({ code: 0, stdout: '', stderr: '' });
  expect(out.env).toBe('DATABASE_URL=postgres://u:pw@db/app\nAPI_KEY=s3cret-api\nSENTRY_DSN=https://dsn\n');
  expect(statSync(out.target).mode & 0o777).toBe(0o600);
  expect(out.state).toBeUndefined();
  expect(JSON.parse(out.pending as string)).toEqual({
    path: PATH,
    renderedAt: '2026-01-02T03:04:05Z',
    renderedBy: 'jest',
    envFile: out.target,
    versions: { DATABASE_URL: 2, API_KEY: 4, SENTRY_DSN: 1 },
  });
  expect(out.report).toBe('UNKNOWN EXTRA\nVERSIONS DATABASE_URL:2,API_KEY:4,SENTRY_DSN:1\n');
  expect(out.report).not.toContain('s3cret');
});

test('refuses (65) with every problem named, never a value, and writes nothing: missing, multi-line, not a SecureString', async () => {
  const out = await render(
    [secure('API_KEY', 'line one\nline two hunter2', 7), { Name: `${PATH}TOKEN`, Value: 'plain-hunter2', Version: 3, Type: 'String' }],
    'DATABASE_URL REDIS_URL API_KEY TOKEN',
  );
  expect(out.result).toMatchObject({ code: 65, stdout: '', stderr: '' });
  expect(out.report).toBe(
    [
      'required secrets DATABASE_URL, REDIS_URL missing from Parameter Store path /hostrt/prod/',
      'secret API_KEY (version 7) holds a line break or NUL, which an env file cannot carry',
      'secret TOKEN is a String, not a SecureString: store it again with ops secrets set',
      '',
    ].join('\n'),
  );
  expect(out.report).not.toContain('hunter2');
  expect(out.env).toBeUndefined();
  expect(out.pending).toBeUndefined();
  // One missing name is singular; names outside the path are not the app's.
  const one = await render([{ ...secure('API_KEY', 'x'), Name: '/other/API_KEY' }], 'API_KEY');
  expect(one.report).toBe('required secret API_KEY missing from Parameter Store path /hostrt/prod/\n');
});

test('an answer it cannot read is one line naming the kind of error (exit 1, no traceback, no value); bad usage is exit 2', async () => {
  const garbled = await render('{"Parameters": [{"Name": "/hostrt/prod/API_KEY", "Value": "hunter2"', 'API_KEY');
  expect(garbled.result.code).toBe(1);
  expect(garbled.result.stderr).toBe('render_env_file: JSONDecodeError\n');
  expect(garbled.env).toBeUndefined();
  // A parameter without its version: the kind of error, not the value beside it.
  const partial = await render(JSON.stringify({ Parameters: [{ Name: `${PATH}API_KEY`, Value: 'hunter2', Type: 'SecureString' }] }), 'API_KEY');
  expect(partial.result).toMatchObject({ code: 1, stderr: 'render_env_file: KeyError\n' });
  expect(partial.env).toBeUndefined();

  const usage = await runCommand('python3', [program, 'only-one']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/^usage: render_env_file\.py PARAMETERS PATH TARGET /);
});
