import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GIT_REF_PATTERN } from '../../lib/config/git-ref';
import { GitFixture } from '../helpers/git-fixture';
import { freePort, httpBody, runHostScript, stopStrayCommands } from '../helpers/host-scripts';
import { type LoadResult, startLoadLoop } from '../helpers/load-loop';
import { type Nginx, startNginx } from '../helpers/nginx';
import { buildBusyboxImage, podmanEnv, removePodmanProject, strictPodmanCompose } from '../helpers/podman';

/*
 * Blue/green on one host for real (scripts/host/switch.sh): releases of a busybox httpd app run
 * by podman-compose as two Compose projects on two loopback ports, Debian's nginx in front of them
 * on its own prefix, switched by rewriting its upstream include file and a graceful reload. A
 * bounded request loop through nginx counts failed requests during each switch. The tests run in
 * order and share one host, as releases on a real host do.
 */

const suffix = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
const project = `hostrtbg${suffix}`;
const baseImage = `localhost/hostrt-bg-busybox-${suffix}`;
const appImage = `localhost/hostrt-bg-app-${suffix}:latest`;
const root = mkdtempSync('/tmp/hostrt-bluegreen-');
const stateDir = join(root, 'state');
const stateFile = join(stateDir, 'deploy_state.json');
const auditLog = join(stateDir, 'audit.log');
const meminfo = join(root, 'meminfo');
const fixture = new GitFixture(join(root, 'git'));
const podman = podmanEnv(join(root, 'podman'));
let env: Record<string, string>;
let nginx: Nginx;

/**
 * One release: busybox httpd serving `healthz` and the smoke pages. nginx sends /public-check to
 * the app's /public.html: a release without that page passes smoke on its own port and fails it
 * through nginx (a proxy-path mistake, the case the second smoke exists for).
 */
function release(body: string, options: { publicPage?: boolean; listenPort?: number } = {}): Record<string, string | null> {
  return {
    '.gitignore': '.env.production\n',
    'compose.yml': [
      'services:',
      '  web:',
      '    build: .',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolates it from the environment
      '    image: ${WEB_IMAGE}',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolates it from the environment (the colour's port)
      '    ports: ["127.0.0.1:${WEB_PORT}:8080"]',
      '    env_file: .env.production',
      '    stop_signal: SIGKILL',
      '',
    ].join('\n'),
    Containerfile: [`FROM ${baseImage}`, 'COPY www /www', 'ENTRYPOINT ["/bin/busybox"]', `CMD ["httpd", "-f", "-p", "${options.listenPort ?? 8080}", "-h", "/www"]`, ''].join('\n'),
    'www/healthz': body,
    // On a colour's own port /public-check is this file; through nginx it is /public.html.
    'www/public-check': 'ok\n',
    'www/public.html': options.publicPage === false ? null : 'ok\n',
  };
}

const deploy = (ref: string, extra: Record<string, string> = {}) => runHostScript('deploy.sh', [ref], { ...env, ...extra });
const rollback = (extra: Record<string, string> = {}) => runHostScript('rollback.sh', [], { ...env, ...extra });
const throughNginx = () => httpBody(`${nginx.url}/healthz`);
const state = () => JSON.parse(readFileSync(stateFile, 'utf8'));
const lastAudit = () => readFileSync(auditLog, 'utf8').trim().split('\n').at(-1) ?? '';
const running = (colour: string) =>
  execFileSync('podman', ['ps', '-q', '--filter', `label=com.docker.compose.project=${project}-${colour}`], { env: { ...process.env, ...podman } })
    .toString()
    .trim();
const setMemoryMb = (mb: number) => writeFileSync(meminfo, `MemTotal:        4000000 kB\nMemFree:          100000 kB\nMemAvailable:   ${String(mb * 1024).padStart(8)} kB\n`);

/** Runs `action` while a bounded request loop sends requests through nginx; returns both outcomes. */
async function underLoad<T>(action: () => Promise<T>): Promise<{ outcome: T; load: LoadResult }> {
  const loop = startLoadLoop({ url: `${nginx.url}/healthz`, concurrency: 4, maxRequests: 50000, maxMs: 200000 });
  const outcome = await action();
  return { outcome, load: await loop.stop() };
}

beforeAll(async () => {
  buildBusyboxImage(baseImage, root, podman);
  fixture.commit(release('release v1\n'), 'v1', 'v1');
  fixture.commit(release('release v2\n'), 'v2', 'v2');
  fixture.commit(release('public smoke fails\n', { publicPage: false }), 'fails its smoke through nginx only', 'public-fails');
  fixture.commit(release('never healthy\n', { listenPort: 9999 }), 'listens on the wrong port', 'no-answer');
  fixture.commit(release('release v3\n'), 'v3', 'v3');
  fixture.cloneTo();
  writeFileSync(join(fixture.checkout, '.env.production'), 'SECRET=1\n', { mode: 0o600 });
  const [bluePort, greenPort, nginxPort, nothing] = [await freePort(), await freePort(), await freePort(), await freePort()];
  nginx = startNginx(join(root, 'nginx'), {
    port: nginxPort,
    upstreamName: 'hostrt_app',
    initialUpstreamPort: nothing,
    locations: '        location = /public-check {\n            proxy_pass http://hostrt_app/public.html;\n        }',
  });
  writeFileSync(
    join(root, 'smoke.json'),
    JSON.stringify({
      checks: [
        { name: 'health', method: 'GET', path: '/healthz', headers: {}, auth: false, expectStatus: '200', json: [] },
        { name: 'public-check', method: 'GET', path: '/public-check', headers: {}, auth: false, expectStatus: '2xx', json: [] },
      ],
    }),
  );
  setMemoryMb(4000);
  env = {
    ...podman,
    ...nginx.env,
    APP_NAME: 'hostrt',
    ENV_NAME: 'test',
    APP_DIR: fixture.checkout,
    STATE_DIR: stateDir,
    COMPOSE_CMD: strictPodmanCompose(root),
    COMPOSE_PROJECT: project,
    COMPOSE_FILE: 'compose.yml',
    COMPOSE_CONFIG_ARGS: '--dry-run ps',
    COMPOSE_PULL_ARGS: '',
    COMPOSE_UP_ARGS: 'up -d --force-recreate',
    CONTAINER_CMD: 'podman',
    HEALTH_URL: `http://127.0.0.1:${nothing}/healthz`,
    HEALTH_TIMEOUT: '20',
    HEALTH_INTERVAL: '0.2',
    MIN_FREE_MB: '1',
    DISK_PATHS: root,
    DEPLOY_ACTOR: 'jest',
    WEB_IMAGE: appImage,
    GIT_REF_PATTERN,
    SMOKE_PLAN: join(root, 'smoke.json'),
    BLUE_GREEN: 'true',
    BLUE_PORT: String(bluePort),
    GREEN_PORT: String(greenPort),
    COLOUR_PORT_VAR: 'WEB_PORT',
    PUBLIC_SMOKE_URL: nginx.url,
    DRAIN_SECONDS: '1',
    MEMINFO_FILE: meminfo,
    COLOUR_MEMORY_NEED_MB: '512',
  };
}, 120000);

jest.setTimeout(300000);

afterEach(async () => {
  await stopStrayCommands();
});

afterAll(() => {
  nginx?.stop();
  for (const colour of ['blue', 'green']) removePodmanProject(`${project}-${colour}`, [], podman);
  removePodmanProject(project, [appImage, baseImage], podman);
  rmSync(root, { recursive: true, force: true });
});

test('first deploy: the release starts as blue, nginx switches to it, the state file records the colour', async () => {
  const result = await deploy('v1');
  expect(result.stderr).toContain('nginx switched to blue');
  expect(result.code).toBe(0);
  expect(await throughNginx()).toBe('200 release v1');
  expect(state()).toMatchObject({ current: { ref: 'v1' }, servingColour: 'blue' });
  expect(lastAudit()).toMatch(/op=deploy result=ok .*colour=blue previousColour=none switchMs=\d+/);
  expect(running('blue')).not.toBe('');
});

test('a deploy under a request loop: green starts beside blue, nginx switches, blue stops; no request fails', async () => {
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

test('a release that fails its smoke through nginx: nginx switches back to the old colour, still running, and the new one stops; no request fails', async () => {
  const before = readFileSync(stateFile, 'utf8');
  const { outcome, load } = await underLoad(() => deploy('public-fails'));
  expect(outcome.stderr).toContain('FAIL public-check');
  expect(outcome.stderr).toMatch(/nginx is back on green \(v2, [0-9a-f]{12}\) after \d+ ms; blue is stopped and the state file is unchanged/);
  expect(outcome.code).toBe(1);
  expect(load.failures).toEqual([]);
  expect(load.failed).toBe(0);
  expect(await throughNginx()).toBe('200 release v2');
  expect(readFileSync(stateFile, 'utf8')).toBe(before);
  expect(lastAudit()).toMatch(/op=deploy result=failed .* colour=green switchMs=\d+ switchBackMs=\d+ message=".*smoke checks through nginx.*; nginx switched back to green"$/);
  expect(running('blue')).toBe('');
  expect(running('green')).not.toBe('');
});

test('a release that never gets healthy on its own port is stopped before nginx switches; the old colour never stopped serving', async () => {
  const before = readFileSync(stateFile, 'utf8');
  const upstream = readFileSync(env.NGINX_UPSTREAM_FILE, 'utf8');
  const result = await deploy('no-answer', { HEALTH_TIMEOUT: '3' });
  expect(result.stderr).toMatch(/failed before the switch: no-answer is unhealthy/);
  expect(result.code).toBe(1);
  expect(readFileSync(env.NGINX_UPSTREAM_FILE, 'utf8')).toBe(upstream);
  expect(await throughNginx()).toBe('200 release v2');
  expect(readFileSync(stateFile, 'utf8')).toBe(before);
  expect(running('blue')).toBe('');
});

test('too little free memory for a second colour: the serving colour restarts in place, with a warning in the output and the audit log', async () => {
  setMemoryMb(300);
  try {
    const result = await deploy('v3');
    expect(result.stderr).toContain('warning: only 300 MB available');
    expect(result.stderr).toContain('restarting green in place instead of blue/green');
    expect(result.code).toBe(0);
    expect(await throughNginx()).toBe('200 release v3');
    expect(state()).toMatchObject({ current: { ref: 'v3' }, servingColour: 'green' });
    const lines = readFileSync(auditLog, 'utf8').trim().split('\n');
    expect(lines.some((l) => /op=deploy result=fallback-in-place .*colour=green memAvailableMB=300 needMB=512/.test(l))).toBe(true);
    expect(running('blue')).toBe('');
  } finally {
    setMemoryMb(4000);
  }
});

test('rollback uses the same switch: the previous release starts as the other colour, under load without a failed request', async () => {
  const { outcome, load } = await underLoad(() => rollback());
  expect(outcome.code).toBe(0);
  expect(load.failed).toBe(0);
  expect(await throughNginx()).toBe('200 release v2');
  expect(state()).toMatchObject({ current: { ref: 'v2' }, previous: { ref: 'v3' }, servingColour: 'blue' });
  expect(lastAudit()).toMatch(/op=rollback result=ok .*colour=blue previousColour=green switchMs=\d+/);
  expect(running('green')).toBe('');
});
