import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { environmentsOf, type NamedEnvironment } from '../../lib/config';
import type { HostDocumentSpec } from '../../lib/host-runtime/document-spec';
import { hostDocumentSpecs } from '../../lib/host-runtime/documents';
import { shippedConfig } from '../helpers/config-fixtures';
import { renderedDocument } from '../helpers/documents';
import { faultCompose } from '../helpers/fault-compose';
import { git } from '../helpers/git-fixture';
import { runHostScript, startCommand, stopStrayCommands, waitForFile } from '../helpers/host-scripts';
import { expectOutcome } from '../helpers/outcomes';
import { ReleaseHost } from '../helpers/release-host';

/*
 * Fault injection on the real host flow (git origin + checkout, podman-compose with runc, state on
 * a small tmpfs): the faults an independent review saw, each with the outcome the scripts must
 * report and the release that must serve afterwards. Each test starts from the host state it names
 * (given), so any one of them runs alone with -t.
 */

// Bounded per test. A test runs up to four deploy/rollback cycles (git fetch, podman build, a
// Compose up, a health wait) plus its setup; on this shared 2-core machine at a load of 25-30 one
// cycle was seen taking 60-120 s, and a kill -9 test with two cycles and two status runs exceeded 240 s.
jest.setTimeout(900_000);

const host = new ReleaseHost('hostrtfault');
const { fixture, stateDir, stateFile, auditLog } = host;
const faults = join(host.root, 'faults');
const tags = ['v1', 'no-answer', 'v2', 'v3'] as const;
type Tag = (typeof tags)[number];
const commits = {} as Record<Tag, string>;

const deploy = (ref: string, extra: Record<string, string> = {}) => host.deploy(ref, extra);
const rollback = (extra: Record<string, string> = {}) => host.rollback(extra);
const status = () => host.status();
const served = () => host.served();
const state = () => host.state();
const auditText = () => (existsSync(auditLog) ? readFileSync(auditLog, 'utf8') : '');
const lastAudit = () => auditText().trim().split('\n').at(-1) ?? '';
const fault = (name: string) => writeFileSync(join(faults, name), '');
const clearFaults = () => {
  for (const name of readdirSync(faults)) rmSync(join(faults, name), { force: true });
};
const deployScript = join(__dirname, '../../scripts/host/deploy.sh');

beforeAll(async () => {
  mkdirSync(faults);
  mkdirSync(stateDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', stateDir]);
  await host.start();
  host.env.COMPOSE_CMD = faultCompose(host.root, host.env.COMPOSE_CMD, faults);
  commits.v1 = fixture.commit(host.release('release v1\n'), 'v1', 'v1');
  commits['no-answer'] = fixture.commit(host.release('never served\n', { listenPort: 9999 }), 'listens on the wrong port', 'no-answer');
  commits.v2 = fixture.commit(host.release('release v2\n'), 'v2', 'v2');
  commits.v3 = fixture.commit(host.release('release v3\n'), 'v3', 'v3');
  fixture.cloneTo();
  writeFileSync(join(fixture.checkout, '.env.production'), 'SECRET=1\n', { mode: 0o600 });
}, 300_000);

/** A release of `tag`, deployed as refs/tags/<tag>. */
const tagged = (tag: Tag | null) => tag && { ref: `refs/tags/${tag}`, commit: commits[tag], body: `release ${tag}` };

/**
 * Puts the host in a known state, whatever an earlier test (passed, failed or timed out) left:
 * no fault files, no stray scripts, the state directory writable, the origin's tags where beforeAll
 * made them and no extra branch, the checkout owned by root without core.fsmonitor; then
 * host.given: only a state file recording `current` and `previous`, and `current` serving.
 */
async function given(current: Tag | null, previous: Tag | null = null): Promise<void> {
  clearFaults();
  await stopStrayCommands();
  clearFaults();
  execFileSync('mount', ['-o', 'remount,rw', stateDir]);
  execFileSync('chown', ['-R', 'root', fixture.checkout]);
  try {
    git(fixture.checkout, 'config', '--unset', 'core.fsmonitor');
  } catch {
    // not set
  }
  if (git(fixture.origin, 'branch', '--list', 'v1') !== '') git(fixture.author, 'push', '-q', 'origin', ':refs/heads/v1');
  for (const tag of tags) {
    git(fixture.author, 'tag', '-f', tag, commits[tag]);
    git(fixture.author, 'push', '-q', '-f', 'origin', `refs/tags/${tag}`);
    git(fixture.checkout, 'update-ref', `refs/tags/${tag}`, commits[tag]);
  }
  await host.given(tagged(current), tagged(previous));
  clearFaults();
}

// A test that failed or timed out must not leave its deploy running, or a fault file, into the next.
afterEach(async () => {
  await stopStrayCommands();
  clearFaults();
});

afterAll(() => {
  clearFaults();
  try {
    execFileSync('umount', ['-l', stateDir]);
  } catch {
    // not mounted
  }
  host.dispose();
});

test('rollback with no previous release is refused (65) and audited; the first release keeps serving', async () => {
  await given(null);
  expect((await deploy('refs/tags/v1')).code).toBe(0);
  const before = readFileSync(stateFile, 'utf8');
  const result = await rollback();
  expect(result.stderr).toContain('refusing to roll back: ');
  expect(result.stderr).toContain('records no previous release');
  expectOutcome('rollback', 65, result, auditLog);
  expect(lastAudit()).toMatch(/op=rollback result=refused /);
  expect(readFileSync(stateFile, 'utf8')).toBe(before);
  expect(await served()).toBe('200 release v1');
});

test('redeploying the current commit keeps the rollback target', async () => {
  await given('v1');
  expect((await deploy('refs/tags/v2')).code).toBe(0);
  expect((await deploy('refs/tags/v2')).code).toBe(0);
  expect(state()).toMatchObject({ current: { commit: commits.v2 }, previous: { commit: commits.v1 } });

  const back = await rollback();
  expect(back.code).toBe(0);
  expect(await served()).toBe('200 release v1');
  expect(state()).toMatchObject({ current: { commit: commits.v1, action: 'rollback' }, previous: { commit: commits.v2 } });
  expect((await deploy('refs/tags/v2')).code).toBe(0);
});

describe('refs mean what they say', () => {
  test('a bare name that is both a tag and a branch is refused (2); refs/tags/<name> deploys the tag', async () => {
    await given('v2', 'v1');
    git(fixture.author, 'push', '-q', 'origin', `${commits.v3}:refs/heads/v1`);
    try {
      const before = readFileSync(stateFile, 'utf8');
      const result = await deploy('v1');
      expect(result.stderr).toContain("'v1' names both a tag and a branch of origin; say which: refs/tags/v1 or origin/v1");
      expect(result.code).toBe(2);
      expect(readFileSync(stateFile, 'utf8')).toBe(before);
      expect(await served()).toBe('200 release v2');
    } finally {
      git(fixture.author, 'push', '-q', 'origin', ':refs/heads/v1');
    }
  });

  test('a tag moved on the remote is refused (2) unless asked for with ALLOW_MOVED_TAG=true', async () => {
    await given('v2', 'v1');
    git(fixture.author, 'tag', '-f', 'v2', commits.v3);
    git(fixture.author, 'push', '-q', '-f', 'origin', 'refs/tags/v2');
    const before = readFileSync(stateFile, 'utf8');
    const refused = await deploy('refs/tags/v2');
    expect(refused.stderr).toContain(`tag 'v2' moved on origin: this host knows it as ${commits.v2.slice(0, 12)}, origin now says ${commits.v3.slice(0, 12)}`);
    expect(refused.code).toBe(2);
    expect(readFileSync(stateFile, 'utf8')).toBe(before);
    expect(await served()).toBe('200 release v2');

    const allowed = await deploy('refs/tags/v2', { ALLOW_MOVED_TAG: 'true' });
    expect(allowed.code).toBe(0);
    expect(await served()).toBe('200 release v3');
    expect(state()).toMatchObject({ current: { ref: 'refs/tags/v2', commit: commits.v3 }, previous: { commit: commits.v2 } });
  });

  test('an environment that requires pinned refs refuses a branch (2)', async () => {
    await given('v2', 'v1');
    const result = await deploy('main', { REQUIRE_PINNED_REF: 'true' });
    expect(result.stderr).toContain("'main' is not pinned, and this environment deploys pinned refs only");
    expect(result.code).toBe(2);
  });
});

describe('kill -9 mid-deploy', () => {
  test('during compose up: status reports it, rollback brings back the last good release (not previous) and says so', async () => {
    await given('v3', 'v2');
    // GIVEN a deploy killed right after its release came up (current v3, previous v2)
    fault('hold-after-up');
    const started = startCommand('bash', [deployScript, 'refs/tags/v1'], host.env);
    await waitForFile(join(faults, 'held'));
    process.kill(started.pid, 'SIGKILL');
    expect((await started.done).code).toBe(-1);
    clearFaults();
    expect(await served()).toBe('200 release v1');

    // THEN status names the interrupted deploy
    const report = await status();
    expect(report.inProgress).toMatchObject({ op: 'deploy', ref: 'refs/tags/v1', commit: commits.v1, phase: 'up', running: false, goodCommit: commits.v3 });
    const text = await runHostScript('status.sh', [], host.env);
    expect(text.stdout).toContain('INTERRUPTED: deploy of refs/tags/v1');

    // WHEN rollback runs
    const result = await rollback();

    // THEN the last good release (current) serves again, the state is unchanged, the audit says so
    expect(result.stderr).toContain(`found an interrupted deploy of refs/tags/v1`);
    expect(result.stderr).toContain('rolled back: the interrupted operation is undone and the state file is unchanged');
    expect(result.code).toBe(0);
    expect(await served()).toBe('200 release v3');
    expect(state()).toMatchObject({ current: { commit: commits.v3 }, previous: { commit: commits.v2 } });
    expect(auditText()).toMatch(new RegExp(`op=rollback result=recovered .*interruptedRef=refs/tags/v1 .*commit=${commits.v3}`));
    expect((await status()).inProgress).toBeNull();
  });

  test('during the health wait: the next deploy is not locked out, brings the last good release back, then deploys', async () => {
    await given('v3', 'v2');
    const started = startCommand('bash', [deployScript, 'refs/tags/no-answer'], {
      ...host.env,
      HEALTH_TIMEOUT: '60',
      HEALTH_INTERVAL: '5',
    });
    await waitForFile(join(faults, 'up-done'));
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(started.pid, 'SIGKILL');
    await started.done;
    clearFaults();

    const result = await deploy('refs/tags/v1');
    expect(result.stderr).toContain('found an interrupted deploy of refs/tags/no-answer');
    expect(result.code).toBe(0);
    expect(await served()).toBe('200 release v1');
    expect(state()).toMatchObject({ current: { commit: commits.v1 }, previous: { commit: commits.v3 } });
    expect(auditText()).toMatch(/op=deploy result=recovered .*interruptedRef=refs\/tags\/no-answer/);
  });
  test('a lock still held by processes a killed deploy left is taken over once they end; a live-looking hold past the grace is 75', async () => {
    await given('v1', 'v3');
    // GIVEN the lock record of a deploy that is gone, and a process it left holding the lock for 4 s
    const dead = startCommand('true', []);
    await dead.done;
    const lock = join(stateDir, 'deploy.lock');
    writeFileSync(lock, `pid=${dead.pid} op=deploy ref=refs/tags/v3 started=2026-01-01T00:00:00Z actor=ghost\n`);
    const orphan = startCommand('flock', ['-n', '-o', lock, 'sleep', '4']);
    await new Promise((r) => setTimeout(r, 500));

    // WHEN a deploy (of a ref that does not exist: refused after the lock, so no release cycle) starts
    const result = await deploy('release-that-does-not-exist');

    // THEN it waited for the orphan instead of exiting 75, took the lock over and ran
    expect(result.stderr).toContain(`the lock's holder (pid ${dead.pid}) is gone; waiting up to 15s`);
    expect(result.stderr).toContain("unknown ref 'release-that-does-not-exist'");
    expect(result.code).toBe(2);
    expect(auditText()).toMatch(new RegExp(`op=deploy result=stale-lock .*holder="pid=${dead.pid} `));
    expect((await orphan.done).code).toBe(0);

    // AND a hold that outlasts STALE_LOCK_GRACE_SECONDS is still refused with 75, naming the holder
    writeFileSync(lock, `pid=${dead.pid} op=deploy ref=refs/tags/v3 started=2026-01-01T00:00:00Z actor=ghost\n`);
    const longer = startCommand('flock', ['-n', '-o', lock, 'sleep', '30']);
    await new Promise((r) => setTimeout(r, 500));
    const refused = await deploy('refs/tags/v3', { STALE_LOCK_GRACE_SECONDS: '1' });
    expect(refused.stderr).toContain(`another deploy or rollback is running (lock ${lock} held by: pid=${dead.pid} op=deploy`);
    expect(refused.code).toBe(75);
    process.kill(longer.pid, 'SIGKILL');
    expect(await served()).toBe('200 release v1');
  });
});

describe('unwritable state', () => {
  test('a read-only state directory is refused before any change (65)', async () => {
    await given('v1', 'v3');
    const before = readFileSync(stateFile, 'utf8');
    execFileSync('mount', ['-o', 'remount,ro', stateDir]);
    try {
      const result = await deploy('refs/tags/v3');
      expect(result.stderr).toContain('refusing to deploy: cannot open the lock file');
      expect(result.stderr).not.toContain('Traceback');
      expect(result.code).toBe(65);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', stateDir]);
    }
    expect(readFileSync(stateFile, 'utf8')).toBe(before);
    expect(await served()).toBe('200 release v1');
  });

  test('a state directory that fills up after a healthy start: exit 4, the last good release put back, no traceback', async () => {
    await given('v1', 'v3');
    const before = readFileSync(stateFile, 'utf8');
    fault('hold-after-up');
    const started = startCommand('bash', [deployScript, 'refs/tags/v3'], host.env);
    await waitForFile(join(faults, 'held'));
    const filler = join(stateDir, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'pipe' });
    } catch {
      // dd stops with ENOSPC: the file system is full
    }
    clearFaults();
    const result = await started.done;
    rmSync(filler);
    expect(result.stderr).toMatch(
      /deploy of refs\/tags\/v3: refs\/tags\/v3 \(\w{12}\) came up healthy but could not be recorded in .*deploy_state\.json: OSError: .*No space left on device/,
    );
    expect(result.stderr).toContain(`The last good release refs/tags/v1 (${commits.v1.slice(0, 12)}) is back and healthy, as the state file says`);
    expect(result.stderr).not.toContain('Traceback');
    expectOutcome('deploy', 4, result, auditLog);
    expect(`${auditText()}\n${result.stderr}`).toMatch(/op=deploy result=unrecorded /);
    expect(readFileSync(stateFile, 'utf8')).toBe(before);
    expect(await served()).toBe('200 release v1');
    expect((await status()).checkout.matchesCurrent).toBe(true);
  });

  test('the same for a rollback: exit 4, the current release put back, as the state file says', async () => {
    await given('v1', 'v3');
    const before = readFileSync(stateFile, 'utf8');
    fault('hold-after-up');
    const started = startCommand('bash', [join(__dirname, '../../scripts/host/rollback.sh')], host.env);
    await waitForFile(join(faults, 'held'));
    const filler = join(stateDir, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'pipe' });
    } catch {
      // dd stops with ENOSPC: the file system is full
    }
    clearFaults();
    const result = await started.done;
    rmSync(filler);
    expect(result.stderr).toMatch(/rollback of refs\/tags\/v3: refs\/tags\/v3 \(\w{12}\) came up healthy but could not be recorded/);
    expectOutcome('rollback', 4, result, auditLog);
    expect(readFileSync(stateFile, 'utf8')).toBe(before);
    expect(await served()).toBe('200 release v1');
  });

  test('a state file that is not JSON is refused (65) by deploy and rollback', async () => {
    await given('v1', 'v3');
    const before = readFileSync(stateFile, 'utf8');
    writeFileSync(stateFile, '{ not json');
    try {
      for (const [op, run] of [
        ['deploy', () => deploy('refs/tags/v3')],
        ['rollback', () => rollback()],
      ] as const) {
        const result = await run();
        expect(result.stderr).toContain('is not valid JSON; nothing was changed');
        expect(result.code).toBe(65);
        expect(lastAudit()).toMatch(new RegExp(`op=${op} result=refused .*message="state file is not valid JSON"`));
      }
    } finally {
      writeFileSync(stateFile, before);
    }
    expect(await served()).toBe('200 release v1');
  });

  test('rollback without a state file is refused (65) with an audit line', async () => {
    await given('v1', 'v3');
    renameSync(stateFile, `${stateFile}.away`);
    try {
      const result = await rollback();
      expect(result.code).toBe(65);
      expect(lastAudit()).toMatch(/op=rollback result=refused .*no state file/);
    } finally {
      renameSync(`${stateFile}.away`, stateFile);
    }
  });
});

describe('when putting the last good release back fails too (exit 3)', () => {
  test('deploy: exit 3, audited critical; the record stays and the next deploy brings the last good release back', async () => {
    await given('v1', 'v3');
    fault('fail-up');
    const result = await deploy('refs/tags/v3');
    expect(result.stderr).toMatch(
      /deploy of refs\/tags\/v3 failed: compose up -d --force-recreate failed for refs\/tags\/v3\. Putting back refs\/tags\/v1 \(\w{12}\) ALSO failed/,
    );
    expectOutcome('deploy', 3, result, auditLog);
    expect(lastAudit()).toMatch(/op=deploy result=critical /);
    expect((await status()).inProgress).toMatchObject({ op: 'deploy', phase: 'restore-failed', running: false });
    clearFaults();

    const next = await deploy('refs/tags/v1');
    expect(next.stderr).toContain('found an interrupted deploy of refs/tags/v3');
    expect(next.code).toBe(0);
    expect(await served()).toBe('200 release v1');
  });

  test('rollback: exit 3, audited critical', async () => {
    await given('v1', 'v3');
    fault('fail-up');
    const result = await rollback();
    expect(result.stderr).toMatch(
      /rollback of refs\/tags\/v3 failed: compose up -d --force-recreate failed for refs\/tags\/v3\. Putting back refs\/tags\/v1 \(\w{12}\) ALSO failed/,
    );
    expectOutcome('rollback', 3, result, auditLog);
    expect(lastAudit()).toMatch(/op=rollback result=critical /);
    clearFaults();
    const recovered = await rollback();
    expect(recovered.code).toBe(0);
    expect(await served()).toBe('200 release v1');
    expect(state()).toMatchObject({ current: { commit: commits.v1 }, previous: { commit: commits.v3 } });
  });
});

test('a checkout owned by another user is refused (65); its core.fsmonitor never runs', async () => {
  await given('v1', 'v3');
  const marker = join(host.root, 'fsmonitor-ran');
  const hook = join(host.root, 'fsmonitor-hook');
  writeFileSync(hook, `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
  git(fixture.checkout, 'config', 'core.fsmonitor', hook);
  execFileSync('chown', ['-R', 'nobody', fixture.checkout]);
  try {
    const result = await deploy('refs/tags/v3');
    expect(result.stderr).toMatch(/refusing: the checkout .* is owned by uid \d+, not by root/);
    expect(result.code).toBe(65);
    expect(lastAudit()).toMatch(/op=deploy result=refused .*message="checkout owned by another user"/);
    expect(existsSync(marker)).toBe(false);
  } finally {
    execFileSync('chown', ['-R', 'root', fixture.checkout]);
    git(fixture.checkout, 'config', '--unset', 'core.fsmonitor');
  }
  expect(await served()).toBe('200 release v1');
});

test('the rendered deploy document run twice at once: one deploys, the other exits 75 naming the holder; no file of the first is rewritten', async () => {
  await given('v1', 'v3');
  const config = shippedConfig();
  const prod = environmentsOf(config).find((e) => e.name === 'prod') as NamedEnvironment;
  const spec = hostDocumentSpecs(config.app, prod, { backupBucketName: 'b' }).find((s) => s.operation === 'deploy') as HostDocumentSpec;
  const libDir = join(host.root, 'lib');
  rmSync(libDir, { recursive: true, force: true });
  // GIT_REF_PATTERN and REQUIRE_PINNED_REF come from the document's host.env.
  // The shipped config declares secrets in Parameter Store; this test has no store, so the env file
  // stays hand-placed (an empty SECRETS_PATH overrides host.env's, as the environment does on a host).
  // The document also carries prod's smoke plan (GraphQL, login): this busybox app has the health file
  // only; and prod's one-shot migration (prisma), which this app has not: none here. This test host
  // has no nginx, so the release changes in place (the blue/green path is test/host/blue-green.test.ts).
  const healthPlan = join(host.root, 'health-smoke.json');
  writeFileSync(
    healthPlan,
    JSON.stringify({
      checks: [{ name: 'health', method: 'GET', path: new URL(host.healthUrl).pathname, headers: {}, auth: false, expectStatus: '2xx', json: [] }],
    }),
  );
  const docEnv: Record<string, string> = {
    ...host.env,
    HOST_LIB_DIR: libDir,
    SECRETS_PATH: '',
    SECRETS_REQUIRED: '',
    SECRETS_OPTIONAL: '',
    SMOKE_PLAN: healthPlan,
    SMOKE_BASE_URL: new URL(host.healthUrl).origin,
    MIGRATE_SERVICE: '',
    MIGRATE_COMMAND: '',
    BLUE_GREEN: 'false',
  };
  delete docEnv.GIT_REF_PATTERN;

  fault('hold-after-up');
  const first = startCommand('sh', ['-c', renderedDocument(spec, { gitRef: 'refs/tags/v3', requestedBy: 'first' })], docEnv);
  await waitForFile(join(faults, 'held'));
  const dirs = readdirSync(join(libDir, 'deploy'));
  expect(dirs).toHaveLength(1);
  expect(dirs[0]).toMatch(/^[0-9a-f]{64}$/);
  const installed = join(libDir, 'deploy', dirs[0]);
  const stamp = () => readdirSync(installed).map((f) => `${f}:${statSync(join(installed, f)).mtimeMs}:${statSync(join(installed, f)).ino}`);
  const before = stamp();

  const second = await startCommand('sh', ['-c', renderedDocument(spec, { gitRef: 'refs/tags/v2', requestedBy: 'second' })], docEnv).done;
  expect(second.stderr).toMatch(/another deploy or rollback is running \(lock .* held by: pid=\d+ op=deploy ref=refs\/tags\/v3 started=\S+ actor=first\)/);
  expect(second.code).toBe(75);
  expect(stamp()).toEqual(before);
  expect(readdirSync(join(libDir, 'deploy'))).toEqual(dirs);

  clearFaults();
  const firstResult = await first.done;
  expect(firstResult.code).toBe(0);
  expect(await served()).toBe('200 release v3');
  expect(state()).toMatchObject({ current: { ref: 'refs/tags/v3', commit: commits.v3, deployedBy: 'first' } });
});
