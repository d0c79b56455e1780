import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BlueGreenHost, type Colour, type ServingRelease, setUpBlueGreenHost } from '../helpers/blue-green-host';
import { freePort, httpBody, runHostScript, stopStrayCommands } from '../helpers/host-scripts';
import { type LoadResult, startLoadLoop } from '../helpers/load-loop';
import { PostgresCluster } from '../helpers/postgres';
import { S3Server } from '../helpers/s3';
import { SsmServer } from '../helpers/ssm-server';

/*
 * Blue/green on one host for real (scripts/host/switch.sh): releases of a busybox httpd app run
 * by podman-compose as two Compose projects on two loopback ports, Debian's nginx in front of them
 * on its own prefix, switched by rewriting its upstream include file and a graceful reload. A
 * bounded request loop through nginx counts failed requests during each switch. The tests share
 * one host (test/helpers/blue-green-host.ts), and each starts from the state its GIVEN names
 * (`host.given`), so any one of them runs alone or in any order.
 */

let host: BlueGreenHost;
const deploy = (ref: string, extra: Record<string, string> = {}) => host.deploy(ref, extra);
const rollback = () => host.rollback();
const throughNginx = () => httpBody(`${host.nginx.url}/healthz`);
const state = () => JSON.parse(readFileSync(host.stateFile, 'utf8'));
const auditLines = () => readFileSync(host.auditLog, 'utf8').trim().split('\n');
const lastAudit = () => auditLines().at(-1) ?? '';
const running = (colour: Colour) => host.running(colour);
const given = (serving: ServingRelease | null, previous?: string) => host.given(serving, previous);

/** Runs `action` while a bounded request loop sends requests through nginx; returns both outcomes. */
async function underLoad<T>(action: () => Promise<T>): Promise<{ outcome: T; load: LoadResult }> {
  const loop = startLoadLoop({ url: `${host.nginx.url}/healthz`, concurrency: 4, maxRequests: 50000, maxMs: 200000 });
  const outcome = await action();
  return { outcome, load: await loop.stop() };
}

beforeAll(async () => {
  host = await setUpBlueGreenHost();
}, 300_000);

jest.setTimeout(900_000);

afterEach(async () => {
  await stopStrayCommands();
});

afterAll(() => {
  host?.remove();
});

test('first deploy: the release starts as blue, nginx switches to it, the state file records the colour', async () => {
  await given(null);
  const result = await deploy('v1');
  expect(result.stderr).toContain('nginx switched to blue');
  expect(result.code).toBe(0);
  expect(await throughNginx()).toBe('200 release v1');
  expect(state()).toMatchObject({ current: { ref: 'v1' }, servingColour: 'blue' });
  expect(lastAudit()).toMatch(/op=deploy result=ok .*colour=blue previousColour=none switchMs=\d+/);
  expect(running('blue')).not.toBe('');
});

test('a deploy under a request loop: green starts beside blue, nginx switches, blue stops; no request fails', async () => {
  await given({ ref: 'v1', colour: 'blue' });
  const { outcome, load } = await underLoad(() => deploy('v2'));
  expect(outcome.stderr).toContain('starting v2');
  expect(outcome.code).toBe(0);
  expect(load.failures).toEqual([]);
  expect(load.failed).toBe(0);
  expect(load.requests).toBeGreaterThan(20);
  expect(await throughNginx()).toBe('200 release v2');
  expect(state()).toMatchObject({ current: { ref: 'v2' }, previous: { ref: 'v1' }, servingColour: 'green' });
  expect(lastAudit()).toMatch(/op=deploy result=ok .*colour=green previousColour=blue switchMs=\d+/);
  expect(running('blue')).toBe('');
  expect(running('green')).not.toBe('');
});

test('status reports the serving colour: its health on its own port and its containers (the in-place port answers nothing)', async () => {
  await given({ ref: 'v2', colour: 'green' }, 'v1');
  const status = JSON.parse((await runHostScript('status.sh', ['--json'], host.env)).stdout);
  expect(status.health).toMatchObject({ ok: true, httpStatus: 200 });
  expect(status.health.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.env.GREEN_PORT}/healthz$`));
  expect(status.containers.length).toBeGreaterThan(0);
  // Positive control: with blue/green off the same host is probed on the in-place address, which nothing serves.
  const inPlace = JSON.parse((await runHostScript('status.sh', ['--json'], { ...host.env, BLUE_GREEN: 'false' })).stdout);
  expect(inPlace.health.url).not.toBe(status.health.url);
  expect(inPlace.health.ok).toBe(false);
});

test("status reports any disagreement between nginx's upstream include, the state file and the running containers", async () => {
  await given({ ref: 'v2', colour: 'green' }, 'v1');
  const status = async () => JSON.parse((await runHostScript('status.sh', ['--json'], host.env)).stdout);
  const text = async () => (await runHostScript('status.sh', [], host.env)).stdout;
  expect((await status()).consistency).toEqual({
    ok: true,
    upstreamPort: host.env.GREEN_PORT,
    servingColour: 'green',
    servingPort: Number(host.env.GREEN_PORT),
    problems: [],
  });
  expect(await text()).toContain(`nginx:      upstream on green (port ${host.env.GREEN_PORT}), as the state file records`);
  const include = readFileSync(host.env.NGINX_UPSTREAM_FILE, 'utf8');
  try {
    // The include names blue's port (a hand edit, a kill between writing it and recording)
    writeFileSync(host.env.NGINX_UPSTREAM_FILE, include.replace(`:${host.env.GREEN_PORT};`, `:${host.env.BLUE_PORT};`));
    const report = await status();
    expect(report.consistency.ok).toBe(false);
    expect(report.consistency.problems).toEqual([
      `nginx's upstream include ${host.env.NGINX_UPSTREAM_FILE} names port ${host.env.BLUE_PORT}, but the state file records green on port ${host.env.GREEN_PORT}`,
    ]);
    expect(await text()).toContain(`nginx:      DISAGREEMENT: nginx's upstream include ${host.env.NGINX_UPSTREAM_FILE} names port ${host.env.BLUE_PORT}`);
  } finally {
    writeFileSync(host.env.NGINX_UPSTREAM_FILE, include);
  }
  // The serving colour's containers stopped, and the other colour running beside it
  const podman = (...args: string[]) => execFileSync('podman', args, { env: { ...process.env, ...host.env }, stdio: 'pipe' });
  const green = running('green').split('\n');
  podman('stop', '-t', '0', ...green);
  podman(
    'run',
    '-d',
    '--rm',
    '--label',
    `com.docker.compose.project=${host.project}-blue`,
    '--name',
    `${host.project}-stray-blue`,
    `localhost/${host.project}-busybox`,
    '/bin/busybox',
    'sleep',
    '600',
  );
  try {
    expect((await status()).consistency.problems).toEqual([
      'the state file records green serving, but none of its containers runs',
      'blue runs beside the serving green, and no deploy or rollback is running (left by an interrupted one?)',
    ]);
  } finally {
    podman('rm', '-f', `${host.project}-stray-blue`);
    podman('start', ...green);
  }
});

test('a release that fails its smoke through nginx: nginx switches back to the old colour, still running, and the new one stops; no request fails', async () => {
  await given({ ref: 'v2', colour: 'green' }, 'v1');
  const before = readFileSync(host.stateFile, 'utf8');
  const { outcome, load } = await underLoad(() => deploy('public-fails'));
  expect(outcome.stderr).toContain('FAIL public-check');
  expect(outcome.stderr).toMatch(/nginx is back on green \(v2, [0-9a-f]{12}\) after \d+ ms; blue is stopped and the state file is unchanged/);
  expect(outcome.code).toBe(1);
  expect(load.failures).toEqual([]);
  expect(load.failed).toBe(0);
  expect(await throughNginx()).toBe('200 release v2');
  expect(readFileSync(host.stateFile, 'utf8')).toBe(before);
  expect(lastAudit()).toMatch(
    /op=deploy result=failed .* colour=green switchMs=\d+ switchBackMs=\d+ message=".*smoke checks through nginx.*; nginx switched back to green"$/,
  );
  expect(running('blue')).toBe('');
  expect(running('green')).not.toBe('');
});

test('a release that never gets healthy on its own port is stopped before nginx switches; the old colour never stopped serving', async () => {
  await given({ ref: 'v2', colour: 'green' }, 'v1');
  const before = readFileSync(host.stateFile, 'utf8');
  const upstream = readFileSync(host.env.NGINX_UPSTREAM_FILE, 'utf8');
  const result = await deploy('no-answer', { HEALTH_TIMEOUT: '3' });
  expect(result.stderr).toMatch(/failed before the switch: no-answer is unhealthy/);
  expect(result.code).toBe(1);
  expect(readFileSync(host.env.NGINX_UPSTREAM_FILE, 'utf8')).toBe(upstream);
  expect(await throughNginx()).toBe('200 release v2');
  expect(readFileSync(host.stateFile, 'utf8')).toBe(before);
  expect(running('blue')).toBe('');
});

test('too little free memory for a second colour: the serving colour restarts in place, with a warning in the output and the audit log', async () => {
  await given({ ref: 'v2', colour: 'green' }, 'v1');
  host.setMemoryMb(300);
  try {
    const result = await deploy('v3');
    expect(result.stderr).toContain('warning: only 300 MB available');
    expect(result.stderr).toContain('restarting green in place instead of blue/green');
    expect(result.code).toBe(0);
    expect(await throughNginx()).toBe('200 release v3');
    expect(state()).toMatchObject({ current: { ref: 'v3' }, servingColour: 'green' });
    expect(auditLines().some((l) => /op=deploy result=fallback-in-place .*colour=green memAvailableMB=300 needMB=512/.test(l))).toBe(true);
    expect(running('blue')).toBe('');
  } finally {
    host.setMemoryMb(4000);
  }
});

test('rollback uses the same switch: the previous release starts as the other colour, under load without a failed request', async () => {
  await given({ ref: 'v3', colour: 'green' }, 'v2');
  const { outcome, load } = await underLoad(() => rollback());
  expect(outcome.code).toBe(0);
  expect(load.failed).toBe(0);
  expect(await throughNginx()).toBe('200 release v2');
  expect(state()).toMatchObject({ current: { ref: 'v2' }, previous: { ref: 'v3' }, servingColour: 'blue' });
  expect(lastAudit()).toMatch(/op=rollback result=ok .*colour=blue previousColour=green switchMs=\d+/);
  expect(running('green')).toBe('');
});

test('a secret rotation restart recreates the serving colour on the new value, health-gated on its own port; the other colour and the in-place project stay stopped', async () => {
  await given({ ref: 'v2', colour: 'green' }, 'v1');
  const ssm = new SsmServer(host.root);
  await ssm.start();
  const envFile = join(host.env.APP_DIR, '.env.production');
  const handWritten = readFileSync(envFile, 'utf8');
  try {
    ssm.put('/hostrt/test/ROTATED_KEY', 'rotated-value-2');
    const before = running('green');
    const result = await runHostScript('secrets.sh', ['restart', 'ROTATED_KEY'], {
      ...host.env,
      ...ssm.awsEnv,
      SECRETS_PATH: '/hostrt/test/',
      SECRETS_REQUIRED: 'ROTATED_KEY',
      AWS_SSM_ENDPOINT_ARGS: `--endpoint-url ${ssm.endpoint}`,
    });
    expect(result.stderr).toContain('restarted with the new value of ROTATED_KEY (version 1); healthy');
    expect(result.code).toBe(0);
    const after = running('green');
    expect(after).not.toBe('');
    expect(after).not.toBe(before); // recreated, so it read the new env file
    const podman = (...args: string[]) =>
      execFileSync('podman', args, { env: { ...process.env, ...host.env } })
        .toString()
        .trim();
    const containerEnv = podman('inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', after.split('\n')[0]).split('\n');
    expect(containerEnv).toContain('ROTATED_KEY=rotated-value-2');
    expect(running('blue')).toBe('');
    expect(host.runningInPlace()).toBe('');
    expect(await throughNginx()).toBe('200 release v2');
    expect(lastAudit()).toMatch(/op=security\.key_rotation\.restart result=ok .*secret=ROTATED_KEY version=1/);
  } finally {
    writeFileSync(envFile, handWritten, { mode: 0o600 });
    await ssm.stop();
  }
});

test('a deploy that fails on a bad new secret value: the serving colour keeps its values, and the env file and the version record still describe it', async () => {
  await given({ ref: 'v2', colour: 'green' }, 'v1');
  const ssm = new SsmServer(host.root);
  await ssm.start();
  const envFile = join(host.env.APP_DIR, '.env.production');
  const handWritten = readFileSync(envFile, 'utf8');
  const secretsEnv = {
    ...ssm.awsEnv,
    SECRETS_PATH: '/hostrt/test/',
    SECRETS_REQUIRED: 'ROTATED_KEY',
    AWS_SSM_ENDPOINT_ARGS: `--endpoint-url ${ssm.endpoint}`,
    HEALTH_TIMEOUT: '5',
  };
  try {
    // GIVEN v3 serves on blue, started with ROTATED_KEY version 1
    ssm.put('/hostrt/test/ROTATED_KEY', 'good-value-1');
    expect((await deploy('v3', secretsEnv)).code).toBe(0);
    const recordedVersions = () => JSON.parse(readFileSync(join(host.env.STATE_DIR, 'secrets.json'), 'utf8')).versions;
    expect(recordedVersions()).toEqual({ ROTATED_KEY: 1 });
    // WHEN version 2 is a value the app refuses, and v2 is deployed with it
    ssm.put('/hostrt/test/ROTATED_KEY', 'rejected-value-2');
    const result = await deploy('v2', secretsEnv);
    // THEN v3 on blue still serves, on its values, and the records say so
    expect(result.code).toBe(1);
    expect(await throughNginx()).toBe('200 release v3');
    expect(recordedVersions()).toEqual({ ROTATED_KEY: 1 });
    expect(readFileSync(envFile, 'utf8')).toBe('ROTATED_KEY=good-value-1\n');
    expect(running('green')).toBe('');
  } finally {
    writeFileSync(envFile, handWritten, { mode: 0o600 });
    rmSync(join(host.env.STATE_DIR, 'secrets.json'), { force: true });
    await ssm.stop();
  }
});

test('a restore on a switched host stops the serving colour while pg_restore runs, then starts it again behind nginx; the in-place project never starts', async () => {
  await given({ ref: 'v2', colour: 'green' }, 'v1');
  const dir = mkdtempSync(join(host.root, 'restore-'));
  const bucket = 'hostrt-bluegreen';
  const postgres = new PostgresCluster(await freePort());
  const s3 = new S3Server(join(dir, 's3'), await freePort(), bucket);
  await s3.start();
  postgres.start();
  try {
    postgres.psql('CREATE DATABASE hostrt');
    postgres.psql("CREATE TABLE users (email text); INSERT INTO users VALUES ('kept')", 'hostrt');
    // What the serving colour answered while pg_restore ran: a pg_restore ahead on PATH asks it first.
    const probe = join(dir, 'colour-during-restore');
    mkdirSync(join(dir, 'bin'));
    const realPgRestore = execFileSync('sh', ['-c', 'command -v pg_restore']).toString().trim();
    writeFileSync(
      join(dir, 'bin/pg_restore'),
      `#!/bin/sh\ncurl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${host.env.GREEN_PORT}/healthz >'${probe}'\nexec '${realPgRestore}' "$@"\n`,
      { mode: 0o755 },
    );
    // podman-compose 1.0 has no `config`: the one service of the test app, as `docker compose config --services` lists it.
    const compose = join(dir, 'compose');
    writeFileSync(compose, `#!/bin/sh\ncase " $* " in *" config --services "*) echo web; exit 0 ;; esac\nexec '${host.env.COMPOSE_CMD}' "$@"\n`, {
      mode: 0o755,
    });
    const env = {
      ...host.env,
      ...s3.awsEnv,
      ...postgres.env,
      PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      COMPOSE_CMD: compose,
      PG_TOOLS_VIA: 'local',
      PGDATABASE: 'hostrt',
      BACKUP_BUCKET: bucket,
      BACKUP_PREFIX: 'test/',
      AWS_S3_ENDPOINT_ARGS: `--endpoint-url ${s3.endpoint}`,
      BACKUP_WORK_DIR: join(dir, 'work'),
      REDIS_SERVICE: '',
    };
    const backup = await runHostScript('backup.sh', ['run'], env);
    expect(backup.code).toBe(0);
    postgres.psql("INSERT INTO users VALUES ('late')", 'hostrt');

    const result = await runHostScript('restore.sh', ['latest'], env);
    expect(result.stderr).toContain('stopping the serving colour green');
    expect(result.code).toBe(0);
    expect(readFileSync(probe, 'utf8')).toBe('000'); // nothing answered on green's port: no writes during the restore
    expect(postgres.psql("SELECT string_agg(email, ',') FROM users", 'hostrt')).toBe('kept');
    expect(running('green')).not.toBe('');
    expect(running('blue')).toBe('');
    expect(host.runningInPlace()).toBe('');
    expect(await throughNginx()).toBe('200 release v2');
    expect(lastAudit()).toMatch(/op=restore result=ok .*key=test\/hostrt-test-\d{8}T\d{6}Z\.tar\.gz/);
  } finally {
    postgres.stop();
    await s3.stop();
  }
});
