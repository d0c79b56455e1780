import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostScriptsDir, runCommand } from '../helpers/host-scripts';
import { tempDirsRemovedAfterAll } from '../helpers/temp-dirs';

/*
 * scripts/host/status_report.py on its own: the files status.sh gathers into its work directory and
 * the facts it probed as arguments in, the report out. status.sh runs it for real in
 * test/host/deploy.test.ts and blue-green.test.ts; here each branch of the report is fed directly.
 */

const tempDir = tempDirsRemovedAfterAll();
const program = join(hostScriptsDir, 'status_report.py');

const release = (ref: string, commit: string, action?: string) => ({
  ref,
  commit,
  deployedBy: 'jest',
  deployedAt: '2026-01-02T03:04:05Z',
  ...(action ? { action } : {}),
});
const CURRENT = release('main', 'a'.repeat(40));
const PREVIOUS = release('v1', 'b'.repeat(40), 'rollback');

interface Facts {
  readonly commit?: string;
  readonly clean?: string;
  readonly code?: string;
  readonly running?: string;
  readonly blueGreen?: string;
  readonly upstreamPort?: string;
  readonly serving?: string;
  readonly servingPort?: string;
  readonly other?: string;
}

/** A work directory holding `files` (health.err always), as status.sh leaves it. */
function work(files: Record<string, string>): string {
  const dir = tempDir('status-report-');
  for (const [name, text] of Object.entries({ 'health.err': '', ...files })) writeFileSync(join(dir, name), text);
  return dir;
}

function report(format: 'json' | 'text', dir: string, facts: Facts = {}) {
  return runCommand('python3', [
    program,
    format,
    dir,
    'hostrt',
    'prod',
    '/srv/hostrt',
    facts.commit ?? CURRENT.commit,
    facts.clean ?? 'true',
    'http://127.0.0.1:8080/healthz',
    facts.code ?? '200',
    facts.running ?? '',
    facts.blueGreen ?? 'false',
    '/etc/nginx/hostrt-upstream.conf',
    facts.upstreamPort ?? '',
    facts.serving ?? '',
    facts.servingPort ?? '',
    facts.other ?? '',
  ]);
}

const podman = (entries: object[]) => JSON.stringify(entries);
const container = (name: string, service: string, state: string) => ({
  Names: [name],
  Labels: { 'com.docker.compose.service': service },
  State: state,
  Status: state === 'running' ? 'Up 5 minutes' : 'Exited (0)',
  Image: 'localhost/hostrt:v2',
});

test('JSON: releases, checkout, health, containers (podman array and docker lines), secrets and the last backup', async () => {
  const takenAt = new Date(Date.now() - 30 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const dir = work({
    'state.json': JSON.stringify({ current: CURRENT, previous: PREVIOUS }),
    'containers.json': podman([container('hostrt-web-1', 'web', 'running'), container('hostrt-db-1', 'db', 'exited')]),
    'secrets.json': JSON.stringify({ path: '/hostrt/prod/', versions: { API_KEY: 3 } }),
    'last-backup.json': JSON.stringify({ key: 'prod/hostrt-prod-1.tar.gz', takenAt }),
  });
  const result = await report('json', dir, { clean: 'false' });
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const parsed = JSON.parse(result.stdout);
  expect(parsed).toMatchObject({
    app: 'hostrt',
    environment: 'prod',
    current: CURRENT,
    previous: PREVIOUS,
    checkout: { path: '/srv/hostrt', commit: CURRENT.commit, clean: false, matchesCurrent: true },
    health: { url: 'http://127.0.0.1:8080/healthz', ok: true, httpStatus: 200, error: null },
    secrets: { path: '/hostrt/prod/', versions: { API_KEY: 3 } },
    inProgress: null,
    consistency: null,
  });
  // Sorted by name.
  expect(parsed.containers).toEqual([
    { name: 'hostrt-db-1', service: 'db', state: 'exited', status: 'Exited (0)', image: 'localhost/hostrt:v2' },
    { name: 'hostrt-web-1', service: 'web', state: 'running', status: 'Up 5 minutes', image: 'localhost/hostrt:v2' },
  ]);
  expect(parsed.backup.key).toBe('prod/hostrt-prod-1.tar.gz');
  expect(parsed.backup.ageSeconds).toBeGreaterThanOrEqual(30 * 60);
  expect(parsed.backup.ageSeconds).toBeLessThan(35 * 60);

  // docker: one object per line, labels as "k=v,k=v".
  const docker = work({
    'containers.json': `${JSON.stringify({ Names: 'hostrt-web-1', Labels: 'a=b,com.docker.compose.service=web', State: 'running', Status: 'Up', Image: 'x' })}\n`,
  });
  const fromDocker = JSON.parse((await report('json', docker)).stdout);
  expect(fromDocker.containers).toEqual([{ name: 'hostrt-web-1', service: 'web', state: 'running', status: 'Up', image: 'x' }]);
  expect(fromDocker).toMatchObject({ current: null, checkout: { matchesCurrent: null }, secrets: null, backup: null });
});

test('text: one line per fact, a failing probe and a checkout off the current release said in capitals', async () => {
  const dir = work({
    'state.json': JSON.stringify({ current: CURRENT, previous: PREVIOUS }),
    'containers.json': podman([container('hostrt-web-1', 'web', 'running')]),
    'health.err': 'curl: (7) Failed to connect',
  });
  const result = await report('text', dir, { commit: 'c'.repeat(40), clean: 'false', code: '000' });
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout.split('\n')).toEqual([
    'app:        hostrt (prod)',
    `current:    main (${'a'.repeat(12)}) by jest at 2026-01-02T03:04:05Z [deploy]`,
    `previous:   v1 (${'b'.repeat(12)}) by jest at 2026-01-02T03:04:05Z [rollback]`,
    `checkout:   /srv/hostrt at ${'c'.repeat(12)}, UNCOMMITTED CHANGES, DIFFERS FROM CURRENT RELEASE`,
    'health:     http://127.0.0.1:8080/healthz FAILING (curl: (7) Failed to connect)',
    'secrets:    no env file rendered from Parameter Store',
    'backup:     none recorded on this host',
    'containers: 1',
    `  ${'hostrt-web-1'.padEnd(30)} ${'web'.padEnd(12)} ${'running'.padEnd(10)} Up 5 minutes`,
    '',
  ]);
  const failing = await report('text', work({}), { code: '503' });
  expect(failing.stdout).toContain('health:     http://127.0.0.1:8080/healthz FAILING (503)');
  expect(failing.stdout).toContain('current:    none recorded');
});

test('an operation in progress: running, INTERRUPTED with the release to bring back, or an interrupted restore with its database state', async () => {
  const progress =
    'op=deploy\nref=v3\ncommit=' +
    'd'.repeat(40) +
    '\nphase=health\npid=4242\nstarted=2026-01-02T03:04:05Z\nactor=jest\ngoodRef=main\ngoodCommit=' +
    'a'.repeat(40) +
    '\n';
  const running = await report('text', work({ progress }), { running: 'true' });
  expect(running.stdout).toContain(`running:    deploy of v3 (${'d'.repeat(12)}), phase health, pid 4242, started 2026-01-02T03:04:05Z by jest`);
  const asJson = JSON.parse((await report('json', work({ progress }), { running: 'true' })).stdout);
  expect(asJson.inProgress).toMatchObject({ op: 'deploy', ref: 'v3', phase: 'health', pid: '4242', running: true });

  const interrupted = await report('text', work({ progress }), { running: 'false' });
  expect(interrupted.stdout).toContain(
    `INTERRUPTED: deploy of v3 (${'d'.repeat(12)}), phase health, pid 4242, started 2026-01-02T03:04:05Z by jest; its process is gone. Run rollback (or deploy) to bring back the last good release main (${'a'.repeat(12)})`,
  );

  const restore = 'op=restore\nref=prod/hostrt-prod-1.tar.gz\nphase=restoring\npid=77\nstarted=2026-01-02T03:04:05Z\nactor=jest\n';
  const dir = work({ progress: restore, 'restore-database': 'the database may be partly restored\n' });
  const restoreText = await report('text', dir, { running: 'false' });
  expect(restoreText.stdout).toContain(
    'INTERRUPTED: restore of prod/hostrt-prod-1.tar.gz, phase restoring, pid 77, started 2026-01-02T03:04:05Z by jest; its process is gone and the app may be stopped; the database may be partly restored. Run ops restore --resume --env prod (or the next deploy) to start the app again on the database as it is',
  );
  expect(JSON.parse((await report('json', dir, { running: 'false' })).stdout).inProgress).toMatchObject({
    database: 'the database may be partly restored',
    running: false,
  });
});

describe('blue/green consistency between the upstream include, the state file and the containers', () => {
  const serving = { blueGreen: 'true', serving: 'blue', servingPort: '8081', other: 'green' };
  const blueRuns = podman([container('hostrt-blue-web-1', 'web', 'running')]);

  test('agreeing: ok, said on the nginx line', async () => {
    const dir = work({ 'containers.json': blueRuns, 'other.json': '' });
    const json = JSON.parse((await report('json', dir, { ...serving, upstreamPort: '8081' })).stdout);
    expect(json.consistency).toEqual({ ok: true, upstreamPort: '8081', servingColour: 'blue', servingPort: 8081, problems: [] });
    expect((await report('text', dir, { ...serving, upstreamPort: '8081' })).stdout).toContain(
      'nginx:      upstream on blue (port 8081), as the state file records',
    );
  });

  test('each disagreement named: include missing or on another port, serving colour down, the other colour left running', async () => {
    const otherRuns = podman([container('hostrt-green-web-1', 'web', 'running')]);
    const missing = JSON.parse((await report('json', work({ 'containers.json': '', 'other.json': otherRuns }), serving)).stdout);
    expect(missing.consistency).toEqual({
      ok: false,
      upstreamPort: null,
      servingColour: 'blue',
      servingPort: 8081,
      problems: [
        "nginx's upstream include /etc/nginx/hostrt-upstream.conf is missing; the state file records blue (port 8081) serving",
        'the state file records blue serving, but none of its containers runs',
        'green runs beside the serving blue, and no deploy or rollback is running (left by an interrupted one?)',
      ],
    });
    const elsewhere = await report('text', work({ 'containers.json': blueRuns }), { ...serving, upstreamPort: '8082' });
    expect(elsewhere.stdout).toContain(
      "nginx:      DISAGREEMENT: nginx's upstream include /etc/nginx/hostrt-upstream.conf names port 8082, but the state file records blue on port 8081",
    );
    // While a deploy runs, the other colour running is the change itself.
    const changing = await report('json', work({ 'containers.json': blueRuns, 'other.json': otherRuns, progress: 'op=deploy\n' }), {
      ...serving,
      upstreamPort: '8081',
      running: 'true',
    });
    expect(JSON.parse(changing.stdout).consistency).toMatchObject({ ok: true, problems: [] });
  });
});

test('a report that cannot be built is one line on stderr and exit 1, no traceback; bad usage is exit 2', async () => {
  const broken = await report('json', work({ 'state.json': '{not json' }));
  expect(broken.code).toBe(1);
  expect(broken.stdout).toBe('');
  expect(broken.stderr).toMatch(/^status: JSONDecodeError: [^\n]+\n$/);

  const usage = await runCommand('python3', [program, 'yaml']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/^usage: status_report\.py json\|text WORK /);
  expect(usage.stderr).not.toContain('Traceback');
});
