import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { environmentsOf, type NamedEnvironment } from '../../lib/config';
import { hostDocumentSpecs } from '../../lib/host-runtime/documents';
import { parseOutcome } from '../../lib/host-runtime/outcome';
import { shippedConfig } from '../helpers/config-fixtures';
import { heldCommand, lockHeldBy, terminatedAt } from '../helpers/hold';
import { httpBody, runCommand, runHostScript, type ScriptResult } from '../helpers/host-scripts';
import { expectOutcome } from '../helpers/outcomes';
import { removePodmanProject } from '../helpers/podman';
import { ReleaseHost } from '../helpers/release-host';
import { SsmServer } from '../helpers/ssm-server';

/*
 * scripts/host/secrets.sh for real: the AWS CLI (as on the instance) reads a local SSM endpoint
 * started here, deploy.sh renders the env file from it, and a rotation restart runs real
 * containers (podman-compose, busybox) of an app that refuses to serve with a "rejected" key.
 * Every output of every run is kept and searched for the secret values at the end.
 */

// Real builds and containers on a shared 2-core machine: generous per-test limits (never speed assertions).
jest.setTimeout(600_000);

const suffix = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
const host = new ReleaseHost('hostsec');
const { root, stateDir, auditLog, fixture } = host;
const ssm = new SsmServer(root);
const PATH = '/hostsec/test/';
let env: Record<string, string>;
let healthUrl: string;

/** Every value ever stored: none may appear in any output. Distinctive so a grep cannot miss. */
const values = {
  DATABASE_URL: `postgres://app:pw-${suffix}-Qx7@db/app`,
  SECRET_KEY: `sk-${suffix}-Vb3`,
  ENCRYPTION_KEY: `ek-${suffix}-Lm2`,
  REDIS_PASSWORD: `rp-${suffix}-Hd8`,
  rejected: `rejected-ek-${suffix}-Pz4`,
  rotated: `ek2-${suffix}-Wy5`,
  prod: `prod-only-${suffix}-Tr6`,
};
/** Everything a run printed, for the leak test. */
const outputs: string[] = [];

async function run(result: Promise<ScriptResult>): Promise<ScriptResult> {
  const r = await result;
  outputs.push(r.stdout, r.stderr);
  return r;
}
const deploy = (ref: string) => run(runHostScript('deploy.sh', [ref], env));
const secrets = (...args: string[]) => run(runHostScript('secrets.sh', args, env));
const envFile = () => join(fixture.checkout, '.env.production');
const auditLines = () => (existsSync(auditLog) ? readFileSync(auditLog, 'utf8').trim().split('\n') : []);
const recorded = () => JSON.parse(readFileSync(join(stateDir, 'secrets.json'), 'utf8'));

/** The store every test starts from: each value at version 1 (SECRET_KEY only when asked), answering. */
function givenStore({ secretKey = true } = {}): void {
  ssm.failWith = undefined;
  for (const name of ['DATABASE_URL', 'SECRET_KEY', 'ENCRYPTION_KEY', 'REDIS_PASSWORD', 'LEFTOVER_TOKEN']) ssm.delete(`${PATH}${name}`);
  ssm.delete('/hostsec/prod/SECRET_KEY');
  // Another environment's value under its own path: never read by this host.
  ssm.put('/hostsec/prod/SECRET_KEY', values.prod);
  ssm.put(`${PATH}DATABASE_URL`, values.DATABASE_URL);
  if (secretKey) ssm.put(`${PATH}SECRET_KEY`, values.SECRET_KEY);
  ssm.put(`${PATH}ENCRYPTION_KEY`, values.ENCRYPTION_KEY);
  ssm.put(`${PATH}REDIS_PASSWORD`, values.REDIS_PASSWORD);
  ssm.put(`${PATH}LEFTOVER_TOKEN`, 'leftover-value');
}

/** Nothing deployed yet: no containers, no env file, an empty state directory. */
async function givenNothingDeployed(): Promise<void> {
  removePodmanProject(host.project, [], host.podman);
  rmSync(envFile(), { force: true });
  await host.given(null);
}

/** v1 deployed for real from the store of `givenStore` (every secret at version 1), serving. */
async function givenDeployed(): Promise<void> {
  givenStore();
  await givenNothingDeployed();
  const result = await deploy('v1');
  if (result.code !== 0) throw new Error(`setup: deploying v1 failed (exit ${result.code}): ${result.stderr}`);
}

/** A release whose app serves /healthz unless ENCRYPTION_KEY starts with "rejected" (then it only sleeps). */
const release = (body: string) =>
  host.release(body, {
    entrypoint: [
      '/bin/busybox',
      'sh',
      '-c',
      'case "$ENCRYPTION_KEY" in rejected*) exec /bin/busybox sleep 3600 ;; esac; exec /bin/busybox httpd -f -p 8080 -h /www',
    ],
  });

beforeAll(async () => {
  await ssm.start();
  await host.start({
    ...ssm.awsEnv,
    SECRETS_PATH: PATH,
    SECRETS_REQUIRED: 'DATABASE_URL SECRET_KEY ENCRYPTION_KEY',
    SECRETS_OPTIONAL: 'REDIS_PASSWORD SENTRY_DSN',
    AWS_SSM_ENDPOINT_ARGS: `--endpoint-url ${ssm.endpoint}`,
    TMPDIR: join(root, 'tmp'),
  });
  env = host.env;
  healthUrl = host.healthUrl;
  fixture.commit(release('release v1\n'), 'v1', 'v1');
  fixture.cloneTo();
  execFileSync('mkdir', ['-p', env.TMPDIR]);
}, 300_000);

afterAll(async () => {
  await ssm.stop();
  host.dispose();
});

test('a missing required secret refuses the deploy before any change, naming the key (exit 65)', async () => {
  givenStore({ secretKey: false });
  await givenNothingDeployed();
  // GIVEN SECRET_KEY is not in the store WHEN deploying
  const result = await deploy('v1');

  // THEN
  expect(result.stderr).toContain(`refusing to deploy: required secret SECRET_KEY missing from Parameter Store path ${PATH}; nothing was changed`);
  expect(result.code).toBe(65);
  expect(existsSync(envFile())).toBe(false);
  expect(existsSync(join(stateDir, 'deploy_state.json'))).toBe(false);
  expect(existsSync(join(stateDir, 'secrets.json'))).toBe(false);
  expect(await httpBody(healthUrl)).toMatch(/^error/);
  expect(auditLines().at(-1)).toMatch(/op=deploy result=refused actor=jest .*ref=v1 path=\/hostsec\/test\/ message="required secret SECRET_KEY missing/);
});

/** Everything one refused deploy showed anyone: its output and the audit log. */
const shown = (result: ScriptResult) => [result.stdout, result.stderr, auditLines().join('\n')].join('\n');

test('a stored value with a line break refuses the deploy, naming the key and version, never a line of the value (exit 65)', async () => {
  givenStore();
  await givenNothingDeployed();
  // GIVEN a DATABASE_URL whose value has a line break, each line distinctive
  const lines = [`pgline1-${suffix}-Ka9`, `pgline2-${suffix}-Jr4`, `pgline3-${suffix}-Tz1`];
  const version = ssm.put(`${PATH}DATABASE_URL`, `${lines[0]}\n${lines[1]}\r\n${lines[2]}`);

  // WHEN
  const result = await deploy('v1');

  // THEN refused before any change, with the key, the version and the rule
  expect(result.code).toBe(65);
  expect(result.stderr).toContain(
    `refusing to deploy: secret DATABASE_URL (version ${version}) holds a line break or NUL, which an env file cannot carry; nothing was changed`,
  );
  expect(existsSync(envFile())).toBe(false);
  expect(existsSync(join(stateDir, 'secrets.json'))).toBe(false);
  // No line of the value, and no escaped form of it, anywhere it could be read
  for (const line of lines) expect({ line, leaked: shown(result).includes(line) }).toEqual({ line, leaked: false });
  expect(shown(result)).toContain('secret DATABASE_URL (version'); // positive control: the search reads the refusal itself
});

test('a parameter that is not a SecureString refuses the deploy, naming the key and its type, never the value (exit 65)', async () => {
  givenStore();
  await givenNothingDeployed();
  // GIVEN SECRET_KEY stored as a plain String (readable without decryption, shown in the console)
  const value = `plain-${suffix}-Qe3`;
  ssm.put(`${PATH}SECRET_KEY`, value, { type: 'String' });

  const result = await deploy('v1');

  expect(result.code).toBe(65);
  expect(result.stderr).toContain(
    'refusing to deploy: secret SECRET_KEY is a String, not a SecureString: store it again with ops secrets set; nothing was changed',
  );
  expect(existsSync(envFile())).toBe(false);
  expect(shown(result).includes(value)).toBe(false);
  expect(auditLines().at(-1)).toMatch(/op=deploy result=refused actor=jest .*message="secret SECRET_KEY is a String, not a SecureString/);
});

test('an unreadable store refuses the deploy before any change (exit 65), with the CLI error', async () => {
  givenStore();
  await givenNothingDeployed();
  ssm.failWith = 'AccessDeniedException';
  try {
    const result = await deploy('v1');
    expect(result.stderr).toContain(`refusing to deploy: could not read Parameter Store path ${PATH}: `);
    expect(result.stderr).toContain('AccessDeniedException');
    expect(result.code).toBe(65);
    expect(existsSync(envFile())).toBe(false);
  } finally {
    ssm.failWith = undefined;
  }
});

test('deploy renders the env file (0600, declared names only, every page), records the versions, then starts', async () => {
  givenStore();
  await givenNothingDeployed();
  // WHEN (all required secrets present; 5 parameters under the path, served 2 per page)
  ssm.requests.length = 0;
  const result = await deploy('v1');

  // THEN
  expect(result.code).toBe(0);
  expect(await httpBody(healthUrl)).toBe('200 release v1');
  expect(statSync(envFile()).mode & 0o777).toBe(0o600);
  expect(readFileSync(envFile(), 'utf8')).toBe(
    `DATABASE_URL=${values.DATABASE_URL}\nSECRET_KEY=${values.SECRET_KEY}\nENCRYPTION_KEY=${values.ENCRYPTION_KEY}\nREDIS_PASSWORD=${values.REDIS_PASSWORD}\n`,
  );
  expect(result.stderr).toContain(`Parameter Store path ${PATH} holds parameters the config does not declare (not rendered): LEFTOVER_TOKEN`);
  const byPath = ssm.requests.filter((r) => r.action === 'GetParametersByPath');
  expect(byPath.length).toBeGreaterThanOrEqual(3);
  for (const r of byPath) expect(r.body).toMatchObject({ Path: PATH, WithDecryption: true });
  expect(byPath.some((r) => r.body.NextToken)).toBe(true);
  expect(ssm.requests.every((r) => JSON.stringify(r.body).includes('/hostsec/prod/') === false)).toBe(true);
  expect(recorded()).toMatchObject({ path: PATH, renderedBy: 'jest', versions: { DATABASE_URL: 1, SECRET_KEY: 1, ENCRYPTION_KEY: 1, REDIS_PASSWORD: 1 } });
  expect(auditLines().some((l) => /op=deploy result=secrets-rendered .*versions=DATABASE_URL:1,SECRET_KEY:1,ENCRYPTION_KEY:1,REDIS_PASSWORD:1/.test(l))).toBe(
    true,
  );
  // No temporary copy of the CLI's answer is left behind.
  expect(execFileSync('ls', ['-A', env.TMPDIR]).toString()).toBe('');
});

test('versions and status show what the running release was started with', async () => {
  await givenDeployed();
  const result = await secrets('versions');
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ path: PATH, versions: { ENCRYPTION_KEY: 1 } });
  const status = await run(runHostScript('status.sh', ['--json'], env));
  expect(JSON.parse(status.stdout).secrets).toMatchObject({ path: PATH, versions: { DATABASE_URL: 1, SECRET_KEY: 1, ENCRYPTION_KEY: 1, REDIS_PASSWORD: 1 } });
  const text = await run(runHostScript('status.sh', [], env));
  expect(text.stdout).toContain(`secrets:    ${PATH} DATABASE_URL:1 ENCRYPTION_KEY:1 REDIS_PASSWORD:1 SECRET_KEY:1`);
});

test('rotation restart with a value the app rejects: unhealthy, previous values back, healthy, exit 1', async () => {
  await givenDeployed();
  // GIVEN a new ENCRYPTION_KEY version the app refuses to start with
  const rejectedVersion = ssm.put(`${PATH}ENCRYPTION_KEY`, values.rejected);
  expect(rejectedVersion).toBe(2);

  // WHEN
  const result = await secrets('restart', 'ENCRYPTION_KEY');

  // THEN
  expect(result.stderr).toContain('the release was unhealthy with the new value of ENCRYPTION_KEY');
  expect(result.stderr).toContain('The previous values are back and the release is healthy');
  expectOutcome('secrets restart', 1, result, auditLog);
  expect(await httpBody(healthUrl)).toBe('200 release v1');
  expect(readFileSync(envFile(), 'utf8')).toContain(`ENCRYPTION_KEY=${values.ENCRYPTION_KEY}\n`);
  expect(statSync(envFile()).mode & 0o777).toBe(0o600);
  expect(recorded().versions.ENCRYPTION_KEY).toBe(1);
  expect(auditLines().at(-1)).toMatch(
    /op=security.key_rotation.restart result=failed actor=jest .*secret=ENCRYPTION_KEY message="unhealthy with the new value of ENCRYPTION_KEY/,
  );
});

test('a deploy that fails on a bad new secret value: the last good release is back on the previous values, and the env file and the version record describe what runs (exit 1)', async () => {
  await givenDeployed();
  // GIVEN a new ENCRYPTION_KEY version the app refuses to start with
  expect(ssm.put(`${PATH}ENCRYPTION_KEY`, values.rejected)).toBe(2);

  // WHEN the same release is deployed again (so it renders the new value)
  const result = await deploy('v1');

  // THEN
  expect(result.stderr).toContain('deploy of v1 failed');
  expect(result.code).toBe(1);
  expect(await httpBody(healthUrl)).toBe('200 release v1');
  expect(readFileSync(envFile(), 'utf8')).toContain(`ENCRYPTION_KEY=${values.ENCRYPTION_KEY}\n`);
  expect(statSync(envFile()).mode & 0o777).toBe(0o600);
  expect(recorded().versions).toEqual({ DATABASE_URL: 1, SECRET_KEY: 1, ENCRYPTION_KEY: 1, REDIS_PASSWORD: 1 });
  expect((await secrets('versions')).stdout).toContain('"ENCRYPTION_KEY": 1');
  expect(auditLines().at(-1)).toMatch(/op=deploy result=failed actor=jest /);
});

test('rotation restart with a good value: restarted healthy on the new version, exit 0', async () => {
  await givenDeployed();
  const version = ssm.put(`${PATH}ENCRYPTION_KEY`, values.rotated);
  const result = await secrets('restart', 'ENCRYPTION_KEY');
  expectOutcome('secrets restart', 0, result, auditLog);
  expect(await httpBody(healthUrl)).toBe('200 release v1');
  expect(readFileSync(envFile(), 'utf8')).toContain(`ENCRYPTION_KEY=${values.rotated}\n`);
  expect(version).toBe(2);
  expect(recorded().versions.ENCRYPTION_KEY).toBe(version);
  expect(auditLines().at(-1)).toMatch(/op=security.key_rotation.restart result=ok .*secret=ENCRYPTION_KEY version=2/);
});

test('ops rotate audit lines: security.key_rotation.<event> with the secret name', async () => {
  givenStore();
  await host.given(null);
  const result = await secrets('audit', 'ENCRYPTION_KEY', 'rolled_back', 'ok');
  expect(result.code).toBe(0);
  expect(auditLines().at(-1)).toMatch(/op=security.key_rotation.rolled_back result=ok actor=jest .*secret=ENCRYPTION_KEY/);
  expect((await secrets('audit', 'ENCRYPTION_KEY', 'deleted', 'ok')).code).toBe(2);
});

test('the secrets document, rendered as SSM runs it, installs the scripts and reports versions', async () => {
  await givenDeployed();
  const config = shippedConfig();
  const prod = environmentsOf(config).find((e) => e.name === 'prod') as NamedEnvironment;
  const spec = hostDocumentSpecs(config.app, prod, { backupBucketName: 'b' }).find((s) => s.operation === 'secrets');
  const script = (spec?.runCommand ?? [])
    .join('\n')
    .replace(/\{\{ (\w+) \}\}/g, (_, name: string) => (name === 'action' ? 'versions' : (spec?.parameters[name]?.default ?? '')));
  const result = await run(runCommand('sh', ['-c', script], { ...env, HOST_LIB_DIR: join(root, 'lib') }));
  expect(result.code).toBe(0);
  // Before the outcome marker ops reads (lib/host-runtime/outcome.ts), the JSON.
  expect(parseOutcome(result.stdout).exitCode).toBe(0);
  expect(JSON.parse(parseOutcome(result.stdout).output).versions).toMatchObject({ DATABASE_URL: 1, ENCRYPTION_KEY: 1 });
  // The document wrote host.env with names and the path, never a value.
  // Each invocation runs its own content-addressed copy: lib/secrets/<sha256>/.
  const [installed] = readdirSync(join(root, 'lib/secrets')).filter((d) => /^[0-9a-f]{64}$/.test(d));
  const hostEnv = readFileSync(join(root, 'lib/secrets', installed, 'host.env'), 'utf8');
  expect(hostEnv).toContain('SECRETS_PATH=/auraxis/prod/\n');
  expect(hostEnv).toContain('SECRETS_REQUIRED=DATABASE_URL SECRET_KEY ENCRYPTION_KEY POSTGRES_PASSWORD REDIS_PASSWORD\n');
});

describe('every way a rotation restart ends is documented (lib/host-runtime/outcomes.ts)', () => {
  test('a name that is not a secret name is bad usage (exit 2)', async () => {
    expectOutcome('secrets restart', 2, await secrets('restart', 'encryption_key'), auditLog);
  });

  test('a required secret missing from the store is refused before any change (exit 65)', async () => {
    await givenDeployed();
    ssm.delete(`${PATH}SECRET_KEY`);
    try {
      const result = await secrets('restart', 'ENCRYPTION_KEY');
      expectOutcome('secrets restart', 65, result, auditLog);
      expect(recorded().versions.SECRET_KEY).toBe(1);
    } finally {
      ssm.put(`${PATH}SECRET_KEY`, values.SECRET_KEY);
    }
  });

  test('unhealthy on the new value and on the previous one too: exit 3, audited critical (act now)', async () => {
    await givenDeployed();
    ssm.put(`${PATH}ENCRYPTION_KEY`, values.rotated);
    // The health URL answers nothing, whatever the values.
    const result = await run(
      runHostScript('secrets.sh', ['restart', 'ENCRYPTION_KEY'], { ...env, HEALTH_URL: 'http://127.0.0.1:9/healthz', HEALTH_TIMEOUT: '2' }),
    );
    expectOutcome('secrets restart', 3, result, auditLog);
    expect(result.stderr).toContain('With the previous values back it is STILL unhealthy');
    expect(readFileSync(envFile(), 'utf8')).toContain(`ENCRYPTION_KEY=${values.ENCRYPTION_KEY}\n`);
    expect(recorded().versions.ENCRYPTION_KEY).toBe(1);
  });

  test('another operation holding the lock: refused (exit 75)', async () => {
    await givenDeployed();
    const lock = join(stateDir, 'deploy.lock');
    const held = await lockHeldBy(lock, 'op=restore backup=latest started=now actor=ops');
    try {
      expectOutcome('secrets restart', 75, await secrets('restart', 'ENCRYPTION_KEY'), auditLog);
    } finally {
      await held.release();
    }
  });

  test('SIGTERM to a rotation restart: exit 143, audited as interrupted; the env file and the record as they were', async () => {
    await givenDeployed();
    ssm.put(`${PATH}ENCRYPTION_KEY`, values.rotated);
    const before = readFileSync(envFile(), 'utf8');
    const held = heldCommand(join(root, 'held-rotation'), 'python3');
    const result = await run(terminatedAt(held, 'secrets.sh', ['restart', 'ENCRYPTION_KEY'], env));
    expectOutcome('secrets restart', 143, result, auditLog);
    expect(readFileSync(envFile(), 'utf8')).toBe(before);
    expect(recorded().versions.ENCRYPTION_KEY).toBe(1);
  });
});

test('leak test: no value appears on stdout, stderr or in the audit log of any run', async () => {
  // Runs of its own (a deploy, a rejected and a good rotation, versions), beside those of the tests before it.
  await givenDeployed();
  ssm.put(`${PATH}ENCRYPTION_KEY`, values.rejected);
  expect((await secrets('restart', 'ENCRYPTION_KEY')).code).toBe(1);
  ssm.put(`${PATH}ENCRYPTION_KEY`, values.rotated);
  expect((await secrets('restart', 'ENCRYPTION_KEY')).code).toBe(0);
  expect((await secrets('versions')).code).toBe(0);
  const channels = [...outputs, readFileSync(auditLog, 'utf8')].join('\n');
  expect(channels.length).toBeGreaterThan(1000);
  for (const [name, value] of Object.entries(values)) {
    expect({ name, leaked: channels.includes(value) }).toEqual({ name, leaked: false });
  }
  // Positive control: the search does find a value where one is (the env file).
  expect(readFileSync(envFile(), 'utf8').includes(values.DATABASE_URL)).toBe(true);
});
