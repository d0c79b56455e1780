import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../helpers/git-fixture';
import { heldCommand, lockHeldBy, terminatedAt } from '../helpers/hold';
import { httpBody, runHostScript, type ScriptResult, stopStrayCommands } from '../helpers/host-scripts';
import { expectOutcome } from '../helpers/outcomes';
import { ReleaseHost, type ReleaseOptions } from '../helpers/release-host';

/*
 * deploy.sh, rollback.sh and status.sh for real: a bare git origin and a host checkout in a temp
 * dir, containers run by podman-compose (busybox httpd serving a health file), the state file and
 * audit log on disk. The tests share one host; each starts from the releases it names (given), so
 * any one of them runs alone with -t.
 */

const host = new ReleaseHost('hostrt');
const { fixture, stateDir, stateFile } = host;
const commits: Record<string, string> = {};
let env: Record<string, string>;
const release = (body: string | null, options: ReleaseOptions = {}) => host.release(body, options);
const deploy = (ref: string, extra: Record<string, string> = {}) => host.deploy(ref, extra);
const rollback = (extra: Record<string, string> = {}) => host.rollback(extra);
const served = () => host.served();
const state = () => host.state();
const auditLines = () => host.auditLines();

/** Asserts a refused or failed attempt left the release serving and the state file byte-identical. */
async function expectUntouched(result: ScriptResult, code: number, message: string | RegExp, stateBefore: string, body = '200 release v2'): Promise<void> {
  expect(result.stderr).toMatch(message);
  expect(result.code).toBe(code);
  expect(await served()).toBe(body);
  expect(readFileSync(stateFile, 'utf8')).toBe(stateBefore);
}

/** Releases as deploy.sh records them: the tag v1 and the branch main (at v2). */
const v1 = () => ({ ref: 'v1', commit: commits.v1, body: 'release v1' });
const main = () => ({ ref: 'main', commit: commits.v2, body: 'release v2' });

/** Runs `body` with the git remote unreachable (origin moved away), putting it back after. */
async function withoutOrigin(body: () => Promise<void>): Promise<void> {
  renameSync(fixture.origin, `${fixture.origin}.away`);
  try {
    await body();
  } finally {
    renameSync(`${fixture.origin}.away`, fixture.origin);
  }
}

beforeAll(async () => {
  await host.start();
  env = host.env;
  commits.v1 = fixture.commit(release('release v1\n'), 'v1', 'v1');
  commits.noAnswer = fixture.commit(release('never served\n', { listenPort: 9999 }), 'listens on the wrong port', 'no-answer');
  commits.noBuild = fixture.commit(release('never built\n', { copyMissing: true }), 'does not build', 'no-build');
  commits.smokeFails = fixture.commit(release('healthy but incomplete\n', { noIndex: true }), 'healthy, fails its smoke check', 'smoke-fails');
  commits.v2 = fixture.commit(release('release v2\n'), 'v2', 'v2');
  fixture.cloneTo();
  writeFileSync(join(fixture.checkout, '.env.production'), 'SECRET=1\n', { mode: 0o600 });
  // The smoke plan the deploy document would carry: health, and the index page must be served.
  writeFileSync(
    join(host.root, 'smoke.json'),
    JSON.stringify({
      checks: [
        { name: 'health', method: 'GET', path: '/healthz', headers: {}, auth: false, expectStatus: '200', json: [] },
        { name: 'index', method: 'GET', path: '/index.html', headers: {}, auth: false, expectStatus: '2xx', json: [] },
      ],
    }),
  );
  Object.assign(env, { SMOKE_PLAN: join(host.root, 'smoke.json'), SMOKE_BASE_URL: new URL(host.healthUrl).origin });
}, 300_000);

// Bounded per test: a test runs up to three deploy cycles (fetch, podman build, Compose up, health
// wait); on this shared 2-core machine at a load of ~30 one health-failure test exceeded 60 s.
jest.setTimeout(600_000);

// A test that failed or timed out must not leave its deploy holding the lock into the next test.
afterEach(async () => {
  await stopStrayCommands();
});

afterAll(() => host.dispose());

test('first deploy: takes over a stale lock, serves the release and records it', async () => {
  await host.given(null);
  // GIVEN a lock file left by a deploy whose process died (its pid no longer runs)
  const dead = spawn('true');
  await new Promise((done) => dead.once('exit', done));
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'deploy.lock'), `pid=${dead.pid} op=deploy ref=v0 started=2020-01-01T00:00:00Z actor=ghost\n`);

  // WHEN
  const result = await deploy('v1');

  // THEN
  expect(result.stderr).toContain(`stale lock found in ${join(stateDir, 'deploy.lock')} (holder 'pid=${dead.pid} op=deploy ref=v0`);
  expectOutcome('deploy', 0, result, host.auditLog);
  expect(await served()).toBe('200 release v1');
  expect(state()).toMatchObject({
    schemaVersion: 1,
    app: 'hostrt',
    environment: 'test',
    previous: null,
    current: { ref: 'v1', commit: commits.v1, deployedBy: 'jest', action: 'deploy' },
  });
  expect(readFileSync(join(stateDir, 'deploy.lock'), 'utf8')).toBe('');
  expect(auditLines().some((l) => / op=deploy result=stale-lock actor=jest .*holder="pid=\d+ op=deploy ref=v0/.test(l))).toBe(true);
  expect(auditLines().at(-1)).toMatch(new RegExp(`op=deploy result=ok actor=jest pid=\\d+ ref=v1 commit=${commits.v1} `));
});

test('two deploys at once: one switches to the new release, the other fails clearly on the lock', async () => {
  await host.given(v1());
  // WHEN two deploys of the branch start together
  const results = await Promise.all([deploy('main'), deploy('main')]);

  // THEN exactly one ran; the other names the lock and its holder
  const codes = results.map((r) => r.code).sort();
  expect(codes).toEqual([0, 75]);
  const loser = results.find((r) => r.code === 75)!;
  expectOutcome('deploy', 75, loser, host.auditLog);
  expect(loser.stderr).toMatch(/another deploy or rollback is running \(lock .*deploy\.lock held by: pid=\d+ op=deploy ref=main started=/);
  expect(await served()).toBe('200 release v2');
  expect(state()).toMatchObject({ current: { ref: 'main', commit: commits.v2 }, previous: { ref: 'v1', commit: commits.v1 } });
  expect(auditLines().filter((l) => l.includes('op=deploy result=refused') && l.includes('holds the lock'))).toHaveLength(1);
});

test('status: current and previous releases, health and containers, as JSON and as text', async () => {
  await host.given(main(), v1());
  const json = await runHostScript('status.sh', ['--json'], env);
  expectOutcome('status', 0, json, host.auditLog);
  const report = JSON.parse(json.stdout);
  expect(report).toMatchObject({
    app: 'hostrt',
    current: { ref: 'main', commit: commits.v2 },
    previous: { ref: 'v1', commit: commits.v1 },
    checkout: { commit: commits.v2, clean: true, matchesCurrent: true },
    health: { url: host.healthUrl, ok: true, httpStatus: 200 },
  });
  expect(report.containers).toEqual([expect.objectContaining({ service: 'web', state: 'running', image: host.appImage })]);

  const text = await runHostScript('status.sh', [], env);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain(`current:    main (${commits.v2.slice(0, 12)}) by jest`);
  expect(text.stdout).toContain(`previous:   v1 (${commits.v1.slice(0, 12)})`);
  expect(text.stdout).toContain(`health:     ${host.healthUrl} ok (HTTP 200)`);
  expect(text.stdout).toMatch(/web\s+running/);
});

test('a release whose health URL never answers is replaced by the previous one, which serves again', async () => {
  await host.given(main(), v1());
  const before = readFileSync(stateFile, 'utf8');
  const result = await deploy('no-answer');
  expectOutcome('deploy', 1, result, host.auditLog);
  await expectUntouched(
    result,
    1,
    /deploy of no-answer failed: no-answer is unhealthy: .*healthz did not answer within 3s.*The last good release main \(\w{12}\) is back and healthy/s,
    before,
  );
  expect(git(fixture.checkout, 'rev-parse', 'HEAD')).toBe(commits.v2);
  expect(auditLines().at(-1)).toMatch(/op=deploy result=failed .*ref=no-answer .*restored=/);
});

test('a ref that does not build fails before any container changes; the release keeps serving', async () => {
  await host.given(main(), v1());
  const before = readFileSync(stateFile, 'utf8');
  const result = await deploy('no-build');
  await expectUntouched(result, 1, /deploy of no-build failed: no-build does not build \(compose build failed\)\. The last good release main/, before);
  expect(git(fixture.checkout, 'rev-parse', 'HEAD')).toBe(commits.v2);
});

test('a release that is healthy but fails its smoke checks is replaced by the previous one; the message names the logs command', async () => {
  await host.given(main(), v1());
  const before = readFileSync(stateFile, 'utf8');
  const result = await deploy('smoke-fails');
  expect(result.stderr).toContain('FAIL index: GET /index.html -> 404: expected 2xx');
  await expectUntouched(
    result,
    1,
    /deploy of smoke-fails failed: smoke-fails failed its smoke checks against http:\/\/127\.0\.0\.1:\d+ \(smoke: 1 passed, 1 failed .*\); see why with: npm run ops -- logs --env test --since 15m\. The last good release main/,
    before,
  );
  expect(await httpBody(host.healthUrl.replace('/healthz', '/index.html'))).toBe('200 app');
});

test('the one-shot migration runs after the build, before the release serves; its output is audited, and a failing one stops the deploy', async () => {
  await host.given(main(), v1());
  // A failing migration: nothing was started, the old release serves, the state file is unchanged.
  const before = readFileSync(stateFile, 'utf8');
  const failed = await deploy('v1', { MIGRATE_SERVICE: 'web', MIGRATE_COMMAND: 'false' });
  await expectUntouched(failed, 1, /deploy of v1 failed: the migration of v1 failed: compose run --rm web false exited 1\. The last good release main/, before);
  expect(auditLines().some((l) => / op=deploy result=migrate-failed .*ref=v1 message="compose run --rm web false exited 1; output: /.test(l))).toBe(true);

  // A passing one: its output lands in the audit log before the release is started.
  const ok = await deploy('main', { MIGRATE_SERVICE: 'web', MIGRATE_COMMAND: 'echo migrated-to-head' });
  expect(ok.code).toBe(0);
  const lines = auditLines();
  const migrated = lines.findIndex((l) => / op=deploy result=migrated .*ref=main message="migration ok; output: .*migrated-to-head/.test(l));
  expect(migrated).toBeGreaterThan(-1);
  expect(lines.findIndex((l, i) => i > migrated && / op=deploy result=ok .*ref=main /.test(l))).toBeGreaterThan(migrated);
  expect(await served()).toBe('200 release v2');
  // Two deploys in one test.
}, 900_000);

describe('bad input is refused with a clear message, the release serving and the state file intact', () => {
  test('an unknown ref', async () => {
    await host.given(main(), v1());
    const before = readFileSync(stateFile, 'utf8');
    const result = await deploy('release-that-does-not-exist');
    await expectUntouched(result, 2, "unknown ref 'release-that-does-not-exist'", before);
    expectOutcome('deploy', 2, result, host.auditLog);
  });

  test('a ref with shell or revision syntax', async () => {
    await host.given(main(), v1());
    const before = readFileSync(stateFile, 'utf8');
    await expectUntouched(await deploy('v1;reboot'), 2, "'v1;reboot' is not an acceptable git ref", before);
    await expectUntouched(await deploy('v1..v2'), 2, "'v1..v2' is not an acceptable git ref", before);
  });

  test('a missing env file, and one readable by others', async () => {
    await host.given(main(), v1());
    const before = readFileSync(stateFile, 'utf8');
    const envFile = join(fixture.checkout, '.env.production');
    renameSync(envFile, `${envFile}.away`);
    try {
      const result = await deploy('v1');
      expectOutcome('deploy', 65, result, host.auditLog);
      await expectUntouched(result, 65, `refusing to deploy: env file ${envFile} is missing`, before);
    } finally {
      renameSync(`${envFile}.away`, envFile);
    }
    chmodSync(envFile, 0o644);
    try {
      await expectUntouched(await deploy('v1'), 65, `env file ${envFile} has mode 644; it holds secrets and must be mode 0600`, before);
    } finally {
      chmodSync(envFile, 0o600);
    }
  });

  test('a full disk (less free space than MIN_FREE_MB)', async () => {
    await host.given(main(), v1());
    const before = readFileSync(stateFile, 'utf8');
    await expectUntouched(
      await deploy('v1', { MIN_FREE_MB: '999999999' }),
      65,
      /refusing to deploy: only \d+ MB free on the file system of .*, at least 999999999 MB needed/,
      before,
    );
  });

  test('uncommitted changes in the checkout', async () => {
    await host.given(main(), v1());
    const before = readFileSync(stateFile, 'utf8');
    const file = join(fixture.checkout, 'www/index.html');
    writeFileSync(file, 'edited on the host\n');
    try {
      await expectUntouched(await deploy('v1'), 65, /refusing to deploy: .* has uncommitted changes \( M www\/index\.html/, before);
    } finally {
      git(fixture.checkout, 'checkout', '--', 'www/index.html');
    }
  });

  test("a second checkout that differs (the runbook's /opt/auraxis vs /opt/flask_expenses)", async () => {
    await host.given(main(), v1());
    const before = readFileSync(stateFile, 'utf8');
    const legacy = join(host.root, 'legacy-checkout');
    rmSync(legacy, { recursive: true, force: true });
    fixture.cloneTo(legacy);
    git(legacy, 'checkout', '-q', '--detach', commits.v1);
    const result = await deploy('v1', { LEGACY_APP_DIRS: legacy });
    await expectUntouched(
      result,
      65,
      `refusing to deploy: second checkout ${legacy} (at ${commits.v1.slice(0, 12)}) differs from ${fixture.checkout} (at ${commits.v2.slice(0, 12)})`,
      before,
    );
    expect(auditLines().at(-1)).toContain(`op=deploy result=refused actor=jest`);
  });
});

describe('with the git remote unreachable', () => {
  test('rollback puts the previous release back by commit, without fetching', async () => {
    await host.given(main(), v1());
    await withoutOrigin(async () => {
      const result = await rollback();
      expect(result.stderr).not.toContain('fetch');
      expectOutcome('rollback', 0, result, host.auditLog);
      expect(await served()).toBe('200 release v1');
      expect(state()).toMatchObject({ current: { ref: 'v1', commit: commits.v1, action: 'rollback' }, previous: { ref: 'main', commit: commits.v2 } });
      expect(git(fixture.checkout, 'rev-parse', 'HEAD')).toBe(commits.v1);
      expect(auditLines().at(-1)).toMatch(new RegExp(`op=rollback result=ok actor=jest pid=\\d+ ref=v1 commit=${commits.v1} previous=${commits.v2}`));
    });
  });

  test('deploy fails clearly on the fetch and leaves the rolled-back release serving', async () => {
    await host.given(v1(), main());
    await withoutOrigin(async () => {
      const before = readFileSync(stateFile, 'utf8');
      await expectUntouched(await deploy('v2'), 65, 'refusing to deploy v2: git fetch from origin failed', before, '200 release v1');
      expect(existsSync(fixture.origin)).toBe(false);
    });
  });
});

describe('every way rollback and status end is documented (lib/host-runtime/outcomes.ts)', () => {
  test('rollback to a previous release that is not healthy: the current one is put back (exit 1)', async () => {
    await host.given(main(), { ref: 'no-answer', commit: commits.noAnswer, body: 'never served' });
    const before = readFileSync(stateFile, 'utf8');
    const result = await rollback();
    expectOutcome('rollback', 1, result, host.auditLog);
    await expectUntouched(result, 1, /rollback of no-answer failed: no-answer is unhealthy/, before);
  });

  test('rollback takes no arguments (exit 2); status takes --json or --text (exit 2); nothing changes', async () => {
    await host.given(main(), v1());
    const before = readFileSync(stateFile, 'utf8');
    const result = await runHostScript('rollback.sh', ['v1'], env);
    expectOutcome('rollback', 2, result, host.auditLog);
    await expectUntouched(result, 2, 'usage: rollback.sh', before);
    const status = await runHostScript('status.sh', ['--yaml'], env);
    expectOutcome('status', 2, status, host.auditLog);
    expect(status.stderr).toContain('usage: status.sh [--json|--text]');
  });

  test('a status report that cannot be built is one line and exit 1 (no traceback)', async () => {
    await host.given(main(), v1());
    const result = await runHostScript('status.sh', ['--json'], { ...env, CONTAINER_CMD: 'printf {not-json' });
    expectOutcome('status', 1, result, host.auditLog);
    expect(result.stderr).toMatch(/^.*status: JSONDecodeError: .*\n.*error: could not build the status report/m);
    expect(result.stderr).not.toContain('Traceback');
  });

  test('rollback while another operation holds the lock is refused (75), naming the holder', async () => {
    await host.given(main(), v1());
    const before = readFileSync(stateFile, 'utf8');
    const lock = join(stateDir, 'deploy.lock');
    const held = await lockHeldBy(lock, 'op=restore backup=latest started=now actor=ops');
    try {
      const result = await rollback();
      expectOutcome('rollback', 75, result, host.auditLog);
      await expectUntouched(result, 75, /another deploy or rollback is running \(lock .* held by: pid=\d+ op=restore/, before);
    } finally {
      await held.release();
    }
  });

  test('SIGTERM to a rollback: exit 143, audited as interrupted, nothing changed yet', async () => {
    await host.given(main(), v1());
    const before = readFileSync(stateFile, 'utf8');
    const held = heldCommand(join(host.root, 'held-rollback'), 'python3');
    const result = await terminatedAt(held, 'rollback.sh', [], env);
    expectOutcome('rollback', 143, result, host.auditLog);
    expect(auditLines().at(-1)).toMatch(/op=rollback result=interrupted .*exit=143 message="interrupted by SIGTERM; nothing was changed"/);
    await expectUntouched(result, 143, 'interrupted by SIGTERM', before);
  });
});
