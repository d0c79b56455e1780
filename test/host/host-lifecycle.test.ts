import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HostApis } from '../helpers/host-apis';
import { freePort, recorderScript, runHostScript, stopStrayCommands } from '../helpers/host-scripts';
import { expectOutcome } from '../helpers/outcomes';

/*
 * The host's lifecycle for real: host-boot.sh (data volume → address → app), host-stop.sh and
 * interruption-watch.sh (Spot warning and the group's termination lifecycle hook) against local
 * stand-ins for IMDSv2, EC2, Auto Scaling and Route53 (test/helpers/host-apis.ts, the AWS CLI with
 * --endpoint-url), a real ext4 file system on a loop device as the data volume, and a real
 * PostgreSQL (fsync on) whose data directory lives on it. Needs root and loop devices; where the
 * sandbox has none, the volume tests are reported as skipped with the reason (never passed).
 */

function loopUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (losetup, mkfs.ext4, mount, runuser)';
  const probe = spawnSync('losetup', ['-f'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `no free loop device: ${probe.stderr.trim()}`;
}
const unavailable = loopUnavailable();
const loopTest = unavailable ? test.skip : test;
if (unavailable) console.warn(`host lifecycle tests skipped: ${unavailable}`);

const VOLUME = 'vol-0a1b2c3d4e5f60718';
const ALLOCATION = 'eipalloc-0123456789abcdef0';
const GROUP = 'auraxis-dev-host';
const HOOK = 'auraxis-dev-clean-stop';
const ZONE = 'Z0123456789ABCDEFGHIJ';
const DEPLOY_DOCUMENT = 'auraxis-dev-deploy';
const TLS_DOCUMENT = 'auraxis-dev-tls';
const FIREWALL_DOCUMENT = 'auraxis-dev-firewall';
const BACKUP_DOCUMENT = 'auraxis-dev-backup';
const COMMAND_LOG_GROUP = '/auraxis/dev/commands';
/** The release a deploy recorded in the state file on the volume. */
const RECORDED_COMMIT = '0123456789abcdef0123456789abcdef01234567';

const root = mkdtempSync('/tmp/hostrt-lifecycle-');
// The postgres user must reach the data directory on the mounted volume below this directory.
chmodSync(root, 0o755);
const paths = {
  mount: join(root, 'state'),
  dockerVolumes: join(root, 'docker/volumes'),
  fstab: join(root, 'fstab'),
  systemd: join(root, 'systemd'),
  run: join(root, 'run'),
  socket: join(root, 'pgsock'),
  calls: join(root, 'app.calls'),
  recorded: join(root, 'recorded.calls'),
};
mkdirSync(paths.socket, { mode: 0o777 });
chmodSync(paths.socket, 0o777);
const app = resolve(__dirname, 'fixtures/volume-app.sh');
const pgBin = `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))[0]}/bin`;
const devices: string[] = [];
const apis = new HostApis(root);
let pgPort = 0;

/** A command that records its arguments in paths.recorded and exits with `code`. */
function recorder(name: string, code = 0): string {
  const file = join(root, name);
  writeFileSync(file, recorderScript(paths.recorded, `exit ${code}`), { mode: 0o755 });
  return file;
}

function settings(device: string, extra: Record<string, string> = {}): Record<string, string> {
  const systemctl = recorder('systemctl');
  return {
    ...apis.awsEnv,
    LIFECYCLE_ENV_FILE: join(root, 'no-lifecycle-env'),
    LIFECYCLE_RUN_DIR: paths.run,
    DATA_VOLUME_ID: VOLUME,
    DATA_VOLUME_DEVICE: device,
    DATA_MOUNT_POINT: paths.mount,
    DATA_VOLUME_LABEL: 'app-data',
    DOCKER_VOLUMES_DIR: paths.dockerVolumes,
    FSTAB_FILE: paths.fstab,
    SYSTEMD_DIR: paths.systemd,
    SYSTEMCTL_CMD: systemctl,
    ADDRESS_MODE: 'elastic-ip',
    EIP_ALLOCATION_ID: ALLOCATION,
    APP_START_CMD: `bash ${app} start`,
    APP_STOP_CMD: `bash ${app} stop-web`,
    PG_FLUSH_CMD: `bash ${app} flush-pg`,
    REDIS_FLUSH_CMD: `${recorder('redis-cli')} SAVE`,
    SERVICES_STOP_CMD: `bash ${app} stop-db`,
    ASG_NAME: GROUP,
    LIFECYCLE_HOOK_NAME: HOOK,
    DEPLOY_DOCUMENT: DEPLOY_DOCUMENT,
    TLS_DOCUMENT,
    FIREWALL_DOCUMENT,
    BACKUP_DOCUMENT,
    COMMAND_LOG_GROUP: COMMAND_LOG_GROUP,
    DETACH_POLL_SECONDS: '0',
    DETACH_TIMEOUT: '5',
    WATCH_INTERVAL: '0',
    APP_CALLS: paths.calls,
    PGDATA_DIR: join(paths.dockerVolumes, 'pgdata'),
    PG_PORT: String(pgPort),
    PG_BIN: pgBin,
    PG_SOCKET_DIR: paths.socket,
    ...extra,
  };
}

function loopDevice(name: string): string {
  const file = join(root, name);
  execFileSync('truncate', ['-s', '128M', file]);
  const device = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim();
  devices.push(device);
  return device;
}

const psql = (sql: string) =>
  execFileSync('psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(pgPort), '-U', 'postgres'], {
    input: sql,
    stdio: 'pipe',
  })
    .toString()
    .trim();
const auditLog = () => join(paths.mount, 'audit.log');
const isMounted = (target: string) => spawnSync('mountpoint', ['-q', target]).status === 0;
/** The audit log on the data volume: `op result` of each line, plus the lines themselves. */
const auditLines = () => readFileSync(join(paths.mount, 'audit.log'), 'utf8').trim().split('\n');
const auditOps = () => auditLines().map((line) => `${/ op=(\S+)/.exec(line)?.[1]} ${/ result=(\S+)/.exec(line)?.[1]}`);
const appCalls = () => readFileSync(paths.calls, 'utf8').trim().split('\n');
const recorded = () => {
  try {
    return readFileSync(paths.recorded, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};
const secondsFromNow = (s: number) => new Date(Date.now() + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

/** Leaves nothing behind a test: PostgreSQL stopped, both mounts gone, the run records cleared. */
function cleanHost(): void {
  spawnSync('runuser', ['-u', 'postgres', '--', join(pgBin, 'pg_ctl'), '-D', join(paths.dockerVolumes, 'pgdata'), '-m', 'immediate', 'stop'], {
    stdio: 'pipe',
  });
  for (const target of [paths.dockerVolumes, paths.mount]) spawnSync('umount', [target]);
  rmSync(paths.run, { recursive: true, force: true });
  rmSync(paths.systemd, { recursive: true, force: true });
  rmSync(paths.calls, { force: true });
  rmSync(paths.recorded, { force: true });
}

beforeAll(async () => {
  pgPort = await freePort();
  await apis.start();
});
beforeEach(() => {
  apis.calls.length = 0;
  apis.failing.clear();
  apis.detachingFor = 1;
  apis.rejectedMetadataReads = 0;
  Object.assign(apis.metadata, {
    instanceId: 'i-0aaaaaaaaaaaaaaa1',
    publicIpv4: '198.51.100.7',
    targetLifecycleState: 'InService',
    spotInstanceAction: undefined,
  });
  apis.volumes.set(VOLUME, 'in-use');
});
afterEach(async () => {
  // A test that timed out must not leave its script looping against the next test's host.
  await stopStrayCommands();
  cleanHost();
});
afterAll(async () => {
  cleanHost();
  await apis.stop();
  for (const device of devices) spawnSync('losetup', ['-d', device]);
  rmSync(root, { recursive: true, force: true });
});

loopTest(
  'a Spot interruption, then the lifecycle hook: committed rows survive, the volume is detached, the hook completed; a second host serves the same data at the same address',
  async () => {
    const device = loopDevice('spot.img');
    writeFileSync(paths.fstab, '');

    // First host: boot, then commit data.
    const boot = await runHostScript('host-boot.sh', [], settings(device));
    expect(boot.stderr).toContain('host ready');
    expectOutcome('host-boot', 0, boot, auditLog());
    expect(apis.callsOf('AssociateAddress').map((c) => [c.params.AllocationId, c.params.InstanceId, c.params.AllowReassociation])).toEqual([
      [ALLOCATION, 'i-0aaaaaaaaaaaaaaa1', 'true'],
    ]);
    // A new environment: nothing recorded, so the boot deploys nothing (the first deploy is a person's).
    expect(boot.stderr).toContain('records no release (a new environment): nothing to start');
    expect(apis.callsOf('SendCommand')).toEqual([]);
    psql("CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 500) g;");
    psql("BEGIN; INSERT INTO orders VALUES (501, 'last committed'); COMMIT;");
    // A deploy records its release in the state file on the volume (as release.sh does).
    writeFileSync(join(paths.mount, 'deploy_state.json'), JSON.stringify({ current: { ref: 'origin/master', commit: RECORDED_COMMIT } }));
    // A person applied TLS, the firewall and the backup timer: lib.sh's record_applied notes each on the volume.
    mkdirSync(join(paths.mount, 'applied'));
    for (const name of ['tls', 'firewall', 'backup-timer']) writeFileSync(join(paths.mount, 'applied', name), '2026-01-01T00:00:00Z\n');

    // The warning: the final backup has time, then the clean stop; no hook yet. EC2 announces two
    // minutes; five here, so a loaded machine's slow AWS CLI calls cannot eat the backup's margin.
    apis.metadata.spotInstanceAction = { action: 'terminate', time: secondsFromNow(300) };
    const spot = await runHostScript('interruption-watch.sh', ['--once'], settings(device, { BACKUP_CMD: recorder('backup.sh') }));
    expect(spot.code).toBe(0);
    expect(spot.stderr).toContain('final backup done');
    expect(appCalls()).toEqual(['start ok', 'stop-web ok', 'flush-pg ok', 'stop-db ok']);
    expect(recorded()).toEqual(['systemctl daemon-reload', 'backup.sh ', 'redis-cli SAVE']);
    expect(isMounted(paths.dockerVolumes)).toBe(false);
    expect(isMounted(paths.mount)).toBe(false);
    expect(apis.callsOf('DetachVolume').map((c) => [c.params.VolumeId, c.params.InstanceId])).toEqual([[VOLUME, 'i-0aaaaaaaaaaaaaaa1']]);
    expect(apis.volumes.get(VOLUME)).toBe('available');
    expect(apis.callsOf('CompleteLifecycleAction')).toEqual([]);

    // The group marks the instance Terminated: the stop finds every step done and completes the hook.
    apis.metadata.targetLifecycleState = 'Terminated';
    const hook = await runHostScript('interruption-watch.sh', ['--once'], settings(device));
    expect(hook.code).toBe(0);
    expect(appCalls()).toHaveLength(4);
    expect(apis.callsOf('DetachVolume')).toHaveLength(1);
    expect(apis.callsOf('CompleteLifecycleAction').map((c) => c.params)).toEqual([
      expect.objectContaining({ LifecycleHookName: HOOK, AutoScalingGroupName: GROUP, InstanceId: 'i-0aaaaaaaaaaaaaaa1', LifecycleActionResult: 'CONTINUE' }),
    ]);

    // The replacement: same volume, new instance; the address follows, the data is all there.
    apis.metadata.instanceId = 'i-0bbbbbbbbbbbbbbb2';
    apis.metadata.spotInstanceAction = undefined;
    apis.metadata.targetLifecycleState = 'InService';
    apis.volumes.set(VOLUME, 'in-use');
    const second = await runHostScript('host-boot.sh', [], settings(device));
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('already holds a ext4 file system: not formatting');
    expect(apis.callsOf('AssociateAddress').map((c) => [c.params.AllocationId, c.params.InstanceId])).toEqual([
      [ALLOCATION, 'i-0aaaaaaaaaaaaaaa1'],
      [ALLOCATION, 'i-0bbbbbbbbbbbbbbb2'],
    ]);
    expect(psql('SELECT count(*), max(id) FROM orders;')).toBe('501|501');
    expect(psql('SELECT item FROM orders WHERE id = 501;')).toBe('last committed');
    // ... and the release the volume records is deployed again on the new instance, pinned to its commit.
    expect(apis.callsOf('SendCommand').map((c) => c.params)).toEqual([
      {
        DocumentName: DEPLOY_DOCUMENT,
        InstanceIds: 'i-0bbbbbbbbbbbbbbb2',
        'Parameters.gitRef': RECORDED_COMMIT,
        'Parameters.requestedBy': 'host-boot',
        'CloudWatchOutputConfig.CloudWatchOutputEnabled': 'true',
        'CloudWatchOutputConfig.CloudWatchLogGroupName': COMMAND_LOG_GROUP,
        Comment: 'host-boot: the recorded release on replacement i-0bbbbbbbbbbbbbbb2',
      },
      // ... then what the volume records as applied before, each to itself: the site and its kept
      // certificate, the firewall, the backup timer (timer only: the release is still deploying).
      ...[
        [TLS_DOCUMENT, 'tls', { 'Parameters.dryRun': 'false' }],
        [FIREWALL_DOCUMENT, 'firewall', { 'Parameters.action': 'apply', 'Parameters.dryRun': 'false' }],
        [BACKUP_DOCUMENT, 'backup-timer', { 'Parameters.timerOnly': 'true' }],
      ].map(([document, name, parameters]) => ({
        DocumentName: document,
        InstanceIds: 'i-0bbbbbbbbbbbbbbb2',
        ...(parameters as Record<string, string>),
        'CloudWatchOutputConfig.CloudWatchOutputEnabled': 'true',
        'CloudWatchOutputConfig.CloudWatchLogGroupName': COMMAND_LOG_GROUP,
        Comment: `host-boot: ${name} again on replacement i-0bbbbbbbbbbbbbbb2`,
      })),
    ]);
    expect(second.stderr).toContain(`recorded release: ${RECORDED_COMMIT} (command cmd-`);
    expect(second.stderr).toContain('applied again: tls firewall backup-timer');
    // One history on the volume: both boots, the final backup the Spot warning ran, each setting applied again.
    expect(auditOps()).toEqual(['host-boot ok', 'final-backup ok', 'host-reapply ok', 'host-reapply ok', 'host-reapply ok', 'host-boot ok']);
    expect(
      auditLines()
        .slice(2, 5)
        .map((line) => /setting=(\S+) document=(\S+)/.exec(line)?.slice(1)),
    ).toEqual([
      ['tls', TLS_DOCUMENT],
      ['firewall', FIREWALL_DOCUMENT],
      ['backup-timer', BACKUP_DOCUMENT],
    ]);
    // The watcher's own line, read now that the volume is mounted again.
    expectOutcome('interruption-watch', 0, spot, auditLog());
    expect(auditLines()[5]).toContain(`recorded release: ${RECORDED_COMMIT}`);
    // Every metadata read carried a token (IMDSv2 only).
    expect(apis.rejectedMetadataReads).toBe(0);
  },
  120000,
);

loopTest(
  'a scheduled environment: the host UPSERTs its own record (zone, name, short TTL, its public IPv4) before the app starts',
  async () => {
    const device = loopDevice('dns.img');
    writeFileSync(paths.fstab, '');
    const env = settings(device, { ADDRESS_MODE: 'dns', EIP_ALLOCATION_ID: '', HOSTED_ZONE_ID: ZONE, RECORD_NAME: 'dev.api.example.com', RECORD_TTL: '60' });
    const boot = await runHostScript('host-boot.sh', [], env);
    expect(boot.code).toBe(0);
    expect(apis.callsOf('ChangeResourceRecordSets').map((c) => c.params)).toEqual([
      { HostedZoneId: ZONE, Action: 'UPSERT', Name: 'dev.api.example.com', Type: 'A', TTL: '60', Value: '198.51.100.7' },
    ]);
    expect(apis.callsOf('AssociateAddress')).toEqual([]);
    expect(appCalls()).toEqual(['start ok']);
  },
  120000,
);

loopTest(
  'the address cannot be moved: the app is not started, and the message says which step failed',
  async () => {
    const device = loopDevice('noaddress.img');
    writeFileSync(paths.fstab, '');
    apis.failing.set('AssociateAddress', 'UnauthorizedOperation');
    const boot = await runHostScript('host-boot.sh', [], settings(device));
    expect(boot.code).toBe(1);
    expect(boot.stderr).toContain(`associating the Elastic IP ${ALLOCATION} with i-0aaaaaaaaaaaaaaa1 failed`);
    expect(boot.stderr).toContain('UnauthorizedOperation');
    expect(boot.stderr).toContain('the app is not started');
    expect(recorded()).toEqual(['systemctl daemon-reload']);
    expect(() => readFileSync(paths.calls)).toThrow();
  },
  60000,
);

test('no data volume: neither the address nor the app is touched', async () => {
  const boot = await runHostScript('host-boot.sh', [], settings(join(root, 'not-a-device')));
  expect(boot.code).toBe(1);
  expect(boot.stderr).toContain('the data volume is not mounted (data-volume.sh failed): the app is not started');
  expect(apis.calls).toEqual([]);
});

loopTest(
  'a volume still in use is never detached: the hook is completed with ABANDON and the stop exits 1 naming the mount',
  async () => {
    const device = loopDevice('busy.img');
    writeFileSync(paths.fstab, '');
    expect((await runHostScript('host-boot.sh', [], settings(device))).code).toBe(0);
    // Something outside the app keeps a file open on the volume.
    const holder = spawn('sleep', ['60'], { cwd: paths.mount, stdio: 'ignore' });
    try {
      apis.metadata.targetLifecycleState = 'Terminated';
      const stop = await runHostScript('interruption-watch.sh', ['--once'], settings(device));
      expectOutcome('interruption-watch', 1, stop, auditLog());
      expect(stop.stderr).toContain(`could not unmount ${paths.mount}`);
      expect(stop.stderr).toContain(`NOT detaching ${VOLUME}`);
      expect(stop.stderr).toContain(`clean stop FAILED with 1 failure(s); ${VOLUME} is still mounted`);
      expect(apis.callsOf('DetachVolume')).toEqual([]);
      expect(apis.callsOf('CompleteLifecycleAction').map((c) => c.params.LifecycleActionResult)).toEqual(['ABANDON']);
    } finally {
      holder.kill('SIGKILL');
    }
  },
  120000,
);

loopTest(
  'a detach EC2 never finishes is reported after DETACH_TIMEOUT, and the hook is completed with ABANDON',
  async () => {
    const device = loopDevice('stuck.img');
    writeFileSync(paths.fstab, '');
    expect((await runHostScript('host-boot.sh', [], settings(device))).code).toBe(0);
    apis.detachingFor = Number.POSITIVE_INFINITY;
    apis.metadata.targetLifecycleState = 'Terminated';
    const stop = await runHostScript('host-stop.sh', ['--reason', 'lifecycle'], settings(device, { DETACH_TIMEOUT: '1' }));
    expectOutcome('host-stop', 1, stop, auditLog());
    expect(stop.stderr).toContain(`${VOLUME} was not available within 1s (state detaching)`);
    expect(apis.callsOf('CompleteLifecycleAction').map((c) => c.params.LifecycleActionResult)).toEqual(['ABANDON']);
  },
  120000,
);

loopTest(
  'a Spot warning with too little time left skips the final backup and stops at once',
  async () => {
    const device = loopDevice('late.img');
    writeFileSync(paths.fstab, '');
    expect((await runHostScript('host-boot.sh', [], settings(device))).code).toBe(0);
    apis.metadata.spotInstanceAction = { action: 'terminate', time: secondsFromNow(40) };
    const spot = await runHostScript('interruption-watch.sh', ['--once'], settings(device, { BACKUP_CMD: recorder('backup.sh') }));
    expect(spot.code).toBe(0);
    expect(spot.stderr).toMatch(/no time for a final backup \(\d+s left, need 90s\): stopping at once/);
    expect(recorded()).not.toContain('backup.sh ');
    expect(apis.callsOf('DetachVolume')).toHaveLength(1);
  },
  120000,
);

loopTest(
  'a final backup that fails is audited as failed with its exit code, and the clean stop still runs',
  async () => {
    const device = loopDevice('badbackup.img');
    writeFileSync(paths.fstab, '');
    expect((await runHostScript('host-boot.sh', [], settings(device))).code).toBe(0);
    apis.metadata.spotInstanceAction = { action: 'terminate', time: secondsFromNow(300) };
    const spot = await runHostScript('interruption-watch.sh', ['--once'], settings(device, { BACKUP_CMD: recorder('backup.sh', 3) }));
    expect(spot.code).toBe(0);
    expect(spot.stderr).toContain('the final backup failed or was cut off (exit 3)');
    expect(apis.callsOf('DetachVolume')).toHaveLength(1);
    // The next boot mounts the volume again: the failure is in its audit log.
    apis.volumes.set(VOLUME, 'in-use');
    expect((await runHostScript('host-boot.sh', [], settings(device))).code).toBe(0);
    expect(auditOps()).toEqual(['host-boot ok', 'final-backup failed', 'host-boot ok']);
    expectOutcome('interruption-watch', 0, spot, auditLog());
    expect(auditLines()[1]).toContain('exit=3');
  },
  120000,
);

loopTest(
  'a state file that is not JSON: the boot fails at the release step, says so, and audits it',
  async () => {
    const device = loopDevice('badstate.img');
    writeFileSync(paths.fstab, '');
    expect((await runHostScript('host-boot.sh', [], settings(device))).code).toBe(0);
    writeFileSync(join(paths.mount, 'deploy_state.json'), '{not json');
    // The app stopped, as on a new instance (its PostgreSQL is started again by the boot).
    execFileSync('bash', [app, 'stop-db'], { env: { ...process.env, ...settings(device) } });
    const boot = await runHostScript('host-boot.sh', [], settings(device));
    expectOutcome('host-boot', 1, boot, auditLog());
    expect(boot.stderr).toContain(`the state file ${join(paths.mount, 'deploy_state.json')} cannot be read (JSONDecodeError`);
    expect(apis.callsOf('SendCommand')).toEqual([]);
    expect(auditOps()).toEqual(['host-boot ok', 'host-boot failed']);
  },
  120000,
);

loopTest(
  'the termination hook alone: host-stop exits 0, the volume detached, the hook completed with CONTINUE',
  async () => {
    const device = loopDevice('hook.img');
    writeFileSync(paths.fstab, '');
    expect((await runHostScript('host-boot.sh', [], settings(device))).code).toBe(0);
    const stop = await runHostScript('host-stop.sh', ['--reason', 'lifecycle'], settings(device));
    expectOutcome('host-stop', 0, stop, auditLog());
    expect(isMounted(paths.mount)).toBe(false);
    expect(apis.volumes.get(VOLUME)).toBe('available');
    expect(apis.callsOf('CompleteLifecycleAction').map((c) => c.params.LifecycleActionResult)).toEqual(['CONTINUE']);
  },
  120000,
);

test('nothing announced: the watcher stops nothing', async () => {
  const watch = await runHostScript('interruption-watch.sh', ['--once'], settings('/dev/null'));
  expect(watch.code).toBe(0);
  expect(watch.stderr).toBe('');
  expect(apis.calls).toEqual([]);
  expect(apis.rejectedMetadataReads).toBe(0);
});

test('settings errors name every missing setting at once and change nothing', async () => {
  const stop = await runHostScript('host-stop.sh', ['--reason', 'lifecycle'], settings('/dev/null', { ASG_NAME: '', LIFECYCLE_HOOK_NAME: '' }));
  expectOutcome('host-stop', 2, stop, auditLog());
  expect(stop.stderr).toContain('not set: ASG_NAME LIFECYCLE_HOOK_NAME');
  const boot = await runHostScript('host-boot.sh', [], settings('/dev/null', { ADDRESS_MODE: 'dns', HOSTED_ZONE_ID: '', RECORD_NAME: '' }));
  expectOutcome('host-boot', 2, boot, auditLog());
  expect(boot.stderr).toContain('not set: HOSTED_ZONE_ID RECORD_NAME');
  const watch = await runHostScript('interruption-watch.sh', ['--twice'], settings('/dev/null'));
  expectOutcome('interruption-watch', 2, watch, auditLog());
  expect(watch.stderr).toContain('usage: interruption-watch.sh [--once]');
  expect(apis.calls).toEqual([]);
});
