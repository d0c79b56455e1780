import { readFileSync } from 'node:fs';
import { type BlueGreenHost, type ServingRelease, setUpBlueGreenHost } from '../helpers/blue-green-host';
import { httpBody, runHostScript, stopStrayCommands } from '../helpers/host-scripts';
import { type LoadResult, startLoadLoop } from '../helpers/load-loop';

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
const running = (colour: 'blue' | 'green') => host.running(colour);
const given = (serving: ServingRelease | null, previous?: string) => host.given(serving, previous);

/** Runs `action` while a bounded request loop sends requests through nginx; returns both outcomes. */
async function underLoad<T>(action: () => Promise<T>): Promise<{ outcome: T; load: LoadResult }> {
  const loop = startLoadLoop({ url: `${host.nginx.url}/healthz`, concurrency: 4, maxRequests: 50000, maxMs: 200000 });
  const outcome = await action();
  return { outcome, load: await loop.stop() };
}

beforeAll(async () => {
  host = await setUpBlueGreenHost();
}, 120000);

jest.setTimeout(300000);

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
