import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { manifestKeyOf, removeBackup, uploadBackup } from '../helpers/backup-objects';
import { lockHeldBy } from '../helpers/hold';
import { freePort, hostScriptsDir, runCommand, runHostScript, startCommand, waitForFile } from '../helpers/host-scripts';
import { expectOutcome } from '../helpers/outcomes';
import { projectRoot } from '../helpers/paths';
import { PostgresCluster } from '../helpers/postgres';
import { nextSecond, S3Server } from '../helpers/s3';

/*
 * restore.sh and the backup-age metric for real: PostgreSQL from Debian's packages with a database
 * owned by an ordinary role, s3rver for the bucket, a CloudWatch stub endpoint that records what
 * the real AWS CLI sends, a Compose stub that records calls, and a health endpoint on loopback.
 * Each test states what it starts from (the seeded users, a fresh backup of them) and removes what
 * it crafted, so any order works.
 */

// A restore runs pg_dump, pg_restore and the AWS CLI several times; on this shared 2-core machine
// under load one restore was seen taking over a minute (two tests failed on a fixed 60 s): the
// host tier's ceiling (test/helpers/host-tier-timeout.ts, 10 minutes) bounds a test that hangs,
// and the waits inside are for conditions.

const root = mkdtempSync('/tmp/hostrt-restore-');
const bucket = 'hostrt-restore';
let postgres: PostgresCluster;
let s3: S3Server;
let cloudwatch: Server;
let health: Server;
const metricRequests: { target: string; body: string }[] = [];
let env: Record<string, string>;
const composeCalls = join(root, 'compose.calls');

const aws = (...args: string[]) => runCommand('aws', ['--endpoint-url', s3.endpoint, ...args], s3.awsEnv);
const auditLog = join(root, 'state/audit.log');
const auditLines = () => readFileSync(auditLog, 'utf8').trim().split('\n');
const users = () => postgres.psql("SELECT string_agg(email, ',' ORDER BY id) FROM users", 'hostrt');
const seededUsers = 'user1@example.com,user2@example.com,user3@example.com';

/** GIVEN the live database holds exactly the three seeded users (as its owner made them). */
function givenSeededUsers(): void {
  postgres.psql(
    `SET ROLE hostrt_owner;
     TRUNCATE users RESTART IDENTITY;
     INSERT INTO users (email) SELECT 'user' || n || '@example.com' FROM generate_series(1, 3) n;`,
    'hostrt',
  );
}

/** GIVEN the newest object under the prefix is a fresh backup of the live database: its run. */
async function givenNewestBackup() {
  await nextSecond(); // orders it after every earlier upload, and gives it a key of its own
  const result = await runHostScript('backup.sh', ['run'], { ...env, REDIS_SERVICE: '' });
  expect(result.code).toBe(0);
  return { ...result, key: result.stdout.trim().replace(`s3://${bucket}/`, '') };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

beforeAll(async () => {
  postgres = new PostgresCluster(await freePort());
  s3 = new S3Server(join(root, 's3'), await freePort(), bucket);
  await s3.start();
  postgres.start();
  postgres.psql('CREATE ROLE hostrt_owner LOGIN; CREATE DATABASE hostrt OWNER hostrt_owner;');
  postgres.psql('SET ROLE hostrt_owner; CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);', 'hostrt');

  cloudwatch = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      metricRequests.push({ target: String(req.headers['x-amz-target']), body });
      // CloudWatch's JSON 1.0 protocol, which this AWS CLI speaks: an empty object is success.
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{}');
    });
  });
  health = createServer((_req, res) => res.end('ok'));
  const [cloudwatchPort, healthPort] = [await listen(cloudwatch), await listen(health)];

  const appDir = join(root, 'app');
  mkdirSync(appDir);
  const compose = join(root, 'compose');
  writeFileSync(
    compose,
    `#!/bin/bash\nshift 4 # -p PROJECT -f FILE\necho "$*" >> '${composeCalls}'\nif [ "$1 $2" = "config --services" ]; then printf 'api\\npostgres\\nredis\\nworker\\n'; fi\n`,
    { mode: 0o755 },
  );
  env = {
    ...s3.awsEnv,
    ...postgres.env,
    APP_NAME: 'hostrt',
    ENV_NAME: 'test',
    APP_DIR: appDir,
    STATE_DIR: join(root, 'state'),
    PG_TOOLS_VIA: 'local',
    PGDATABASE: 'hostrt',
    BACKUP_BUCKET: bucket,
    BACKUP_PREFIX: 'test/',
    AWS_S3_ENDPOINT_ARGS: `--endpoint-url ${s3.endpoint}`,
    AWS_CLOUDWATCH_ENDPOINT_ARGS: `--endpoint-url http://127.0.0.1:${cloudwatchPort}`,
    BACKUP_METRIC_NAMESPACE: 'hostrt/Backups',
    BACKUP_WORK_DIR: join(root, 'work'),
    REDIS_SERVICE: 'redis',
    COMPOSE_CMD: compose,
    HEALTH_URL: `http://127.0.0.1:${healthPort}/healthz`,
    HEALTH_TIMEOUT: '10',
    DEPLOY_ACTOR: 'jest',
  };
}, 300_000);

afterAll(async () => {
  postgres?.stop();
  await s3?.stop();
  cloudwatch?.close();
  health?.close();
  rmSync(root, { recursive: true, force: true });
});

test('backup: publishes the newest backup age to CloudWatch (real AWS CLI, stub endpoint) and records it for status', async () => {
  metricRequests.length = 0;
  const result = await givenNewestBackup();
  const backupKey = result.key;
  expect(backupKey).toMatch(/^test\/hostrt-test-\d{8}T\d{6}Z\.tar\.gz$/);
  expect(metricRequests).toHaveLength(1);
  expect(metricRequests[0].target).toBe('GraniteServiceVersion20100801.PutMetricData');
  const sent = JSON.parse(metricRequests[0].body);
  expect(sent).toEqual({
    Namespace: 'hostrt/Backups',
    MetricData: [{ MetricName: 'NewestBackupAgeSeconds', Dimensions: [{ Name: 'Environment', Value: 'test' }], Value: expect.any(Number), Unit: 'Seconds' }],
  });
  expect(sent.MetricData[0].Value).toBeGreaterThanOrEqual(0);
  expect(result.stderr).toContain('published hostrt/Backups/NewestBackupAgeSeconds=');
  const last = JSON.parse(readFileSync(join(root, 'state/last-backup.json'), 'utf8'));
  expect(last).toMatchObject({ key: backupKey, bucket });
});

test('status shows the newest backup and its age', async () => {
  const { key: backupKey } = await givenNewestBackup();
  const json = await runHostScript('status.sh', ['--json'], { ...env, CONTAINER_CMD: 'true' });
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout);
  expect(report.backup).toMatchObject({ key: backupKey, bucket });
  expect(report.backup.ageSeconds).toBeGreaterThanOrEqual(0);
  const text = await runHostScript('status.sh', [], { ...env, CONTAINER_CMD: 'true' });
  expect(text.stdout).toMatch(new RegExp(`^backup: +${backupKey} taken \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z \\(\\d+ min ago\\)$`, 'm'));
});

test('the published age is the real age of the backup: one taken an hour ago is published as 3600 s, not 0', async () => {
  metricRequests.length = 0;
  const taken = new Date(Date.now() - 3600_000);
  const stamp = taken
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const key = `test/hostrt-test-${stamp}.tar.gz`;
  const result = await runCommand(
    'bash',
    ['-c', '. scripts/host/lib.sh && . scripts/host/backup-metric.sh && publish_backup_age "$@"', 'publish', key, stamp, '100'],
    { ...env, LAST_BACKUP_FILE: join(root, 'published-age.json') },
    projectRoot,
  );
  expect(result.code).toBe(0);
  expect(metricRequests).toHaveLength(1);
  const value = JSON.parse(metricRequests[0].body).MetricData[0].Value;
  // The age when it was published: an hour, plus the few seconds the AWS CLI took to start.
  expect(value).toBeGreaterThanOrEqual(3600);
  expect(value).toBeLessThan(3600 + 300);
});

test('the metric command is exactly this argv (builder in backup-metric.sh)', async () => {
  const script = `. scripts/host/lib.sh; . scripts/host/backup-metric.sh; backup_metric_argv 42`;
  const result = await runCommand(
    'bash',
    ['-c', script],
    { APP_NAME: 'hostrt', ENV_NAME: 'prod', BACKUP_METRIC_NAMESPACE: 'hostrt/Backups' },
    join(__dirname, '../..'),
  );
  expect(result.code).toBe(0);
  expect(result.stdout.split('\n').filter(Boolean)).toEqual([
    'cloudwatch',
    'put-metric-data',
    '--namespace',
    'hostrt/Backups',
    '--metric-data',
    'MetricName=NewestBackupAgeSeconds,Dimensions=[{Name=Environment,Value=prod}],Value=42,Unit=Seconds',
  ]);
});

test('restore: refuses a key of another environment before touching anything', async () => {
  const result = await runHostScript('restore.sh', ['prod/hostrt-prod-20260101T000000Z.tar.gz'], env);
  expectOutcome('restore', 2, result, auditLog);
  expect(result.stderr).toContain('is not a backup key of this environment');
});

test('restore: rows written after the backup are gone from the live database and kept in the safety backup; RTO and RPO are printed and audited', async () => {
  givenSeededUsers();
  const { key: backupKey } = await givenNewestBackup();
  postgres.psql("INSERT INTO users (email) VALUES ('late@example.com')", 'hostrt');
  writeFileSync(composeCalls, '');
  const result = await runHostScript('restore.sh', [backupKey], env);
  expect(result.stderr).toContain('restore complete');
  expectOutcome('restore', 0, result, auditLog);

  expect(users()).toBe(seededUsers);
  // Restored as the owner, not the superuser.
  expect(postgres.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'users'", 'hostrt')).toBe('hostrt_owner');
  // Only the app's services were stopped; the release was started again.
  expect(readFileSync(composeCalls, 'utf8')).toBe('config --services\nstop api worker\nup -d --remove-orphans\n');

  expect(result.stdout).toMatch(/^RTO: +\d+ s \(app stopped until healthy\)$/m);
  expect(result.stdout).toMatch(/^RPO: +\d+ s \(age of the backup when the restore was requested\)$/m);
  const safety = /^safety: +s3:\/\/hostrt-restore\/(test\/safety\/hostrt-test-\d{8}T\d{6}Z-before-restore\.dump)$/m.exec(result.stdout)?.[1] as string;
  expect(safety).toBeDefined();
  expect(auditLines().at(-1)).toMatch(
    new RegExp(`op=restore result=ok actor=jest pid=\\d+ key=${backupKey} safety=${safety} owner=hostrt_owner rtoSeconds=\\d+ rpoSeconds=\\d+`),
  );

  // The safety backup holds the late row.
  const local = join(root, 'safety.dump');
  expect((await aws('s3', 'cp', '--only-show-errors', `s3://${bucket}/${safety}`, local)).code).toBe(0);
  postgres.psql('CREATE DATABASE safety_check');
  try {
    const restored = await runCommand('pg_restore', ['-d', 'safety_check', '--no-owner', local], postgres.env);
    expect(restored.code).toBe(0);
    expect(postgres.psql("SELECT count(*) FROM users WHERE email = 'late@example.com'", 'safety_check')).toBe('1');
  } finally {
    postgres.psql('DROP DATABASE safety_check');
  }
});

test('restore latest: picks the newest backup by the time S3 recorded it, not by a crafted far-future key name', async () => {
  givenSeededUsers();
  const crafted = 'test/hostrt-test-29991231T235959Z.tar.gz';
  const garbage = join(root, 'garbage');
  writeFileSync(garbage, 'this is not a backup');
  await aws('s3', 'cp', '--only-show-errors', '--checksum-algorithm', 'CRC32', garbage, `s3://${bucket}/${crafted}`);
  try {
    const { key: real } = await givenNewestBackup();
    postgres.psql("INSERT INTO users (email) VALUES ('late@example.com')", 'hostrt');
    const result = await runHostScript('restore.sh', ['latest'], env);
    expect(result.stderr).toContain(`restoring s3://${bucket}/${real} into the live database hostrt`);
    expect(result.output).not.toContain('29991231T235959Z');
    expect(result.code).toBe(0);
    expect(users()).toBe(seededUsers);
  } finally {
    await aws('s3', 'rm', '--only-show-errors', `s3://${bucket}/${crafted}`);
  }
});

test('restore: a dump that does not restore leaves the live database as it was (one transaction) and starts the app again', async () => {
  givenSeededUsers();
  postgres.psql("INSERT INTO users (email) VALUES ('kept@example.com')", 'hostrt');
  const dir = join(root, 'broken');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'postgres.dump'), 'PGDMP truncated');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ createdAt: '2026-01-01T00:00:00Z', files: { 'postgres.dump': null } }));
  const tarball = join(root, 'broken.tar.gz');
  await runCommand('tar', ['-C', dir, '-czf', tarball, 'manifest.json', 'postgres.dump']);
  const broken = 'test/hostrt-test-29991231T235959Z.tar.gz';
  await nextSecond(); // the newest upload, so `latest` is this one
  // With the manifest a backup writes beside it: what the backup wrote, it just does not restore.
  await uploadBackup(s3, env, tarball, broken);
  try {
    writeFileSync(composeCalls, '');
    const result = await runHostScript('restore.sh', ['latest'], env);
    expectOutcome('restore', 3, result, auditLog);
    expect(result.stderr).toContain(`restore FAILED: pg_restore of ${broken} failed (the transaction rolled back: the live database is unchanged)`);
    expect(users()).toBe(`${seededUsers},kept@example.com`);
    expect(readFileSync(composeCalls, 'utf8')).toBe('config --services\nstop api worker\nup -d --remove-orphans\n');
    expect(auditLines().at(-1)).toMatch(/op=restore result=failed .*exit=3/);
  } finally {
    await removeBackup(s3, broken);
  }
});

/** A backup archive whose dump holds `emails` in users (an attacker's, or another database's), with its own inner manifest matching. */
async function otherContentBackup(name: string, emails: string[]): Promise<string> {
  const database = `hostrt_${name}`;
  postgres.psql(`CREATE DATABASE ${database}`);
  try {
    postgres.psql(
      `CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL); INSERT INTO users (email) VALUES ${emails.map((e) => `('${e}')`).join(', ')}`,
      database,
    );
    await nextSecond();
    const result = await runHostScript('backup.sh', ['run'], { ...env, PGDATABASE: database, REDIS_SERVICE: '', BACKUP_PREFIX: `${name}/`, ENV_NAME: 'test' });
    expect(result.code).toBe(0);
    const key = result.stdout.trim().replace(`s3://${bucket}/`, '');
    const file = join(root, `${name}.tar.gz`);
    expect((await aws('s3', 'cp', '--only-show-errors', `s3://${bucket}/${key}`, file)).code).toBe(0);
    await removeBackup(s3, key);
    return file;
  } finally {
    postgres.psql(`DROP DATABASE ${database}`);
  }
}

test('restore latest: an overwritten newest backup, a planted object without a manifest and one whose sha256 does not match its manifest are skipped, each named with its reason; the newest intact backup is restored and named', async () => {
  givenSeededUsers();
  const { key: intact } = await givenNewestBackup();
  postgres.psql("INSERT INTO users (email) VALUES ('late@example.com')", 'hostrt');
  const { key: overwritten } = await givenNewestBackup();
  const attackers = await otherContentBackup('evil', ['pwned@example.com']);
  // The newest backup overwritten after its manifest was written (its manifest stays)...
  await nextSecond();
  expect((await aws('s3', 'cp', '--only-show-errors', '--checksum-algorithm', 'CRC32', attackers, `s3://${bucket}/${overwritten}`)).code).toBe(0);
  // ...and two newer objects of the backup shape: one with no manifest, one whose manifest does not match it.
  const noManifest = 'test/hostrt-test-29991231T235959Z.tar.gz';
  const mismatched = 'test/hostrt-test-29991230T235959Z.tar.gz';
  await nextSecond();
  await uploadBackup(s3, env, attackers, noManifest, { manifest: false });
  await nextSecond();
  await uploadBackup(s3, env, attackers, mismatched, { sha256: '0'.repeat(64) });
  try {
    const result = await runHostScript('restore.sh', ['latest'], env);
    expect(result.stderr).toContain(`skipped ${mismatched}: its sha256 does not match its manifest`);
    expect(result.stderr).toContain(`skipped ${noManifest}: no manifest beside it (${manifestKeyOf(noManifest)})`);
    expect(result.stderr).toMatch(new RegExp(`skipped ${overwritten}: stored after its manifest was written \\(overwritten\\?\\)`));
    expect(result.stderr).toMatch(new RegExp(`chose ${intact}: the newest backup whose manifest and sha256 verify`));
    expect(result.code).toBe(0);
    expect(users()).toBe(seededUsers);
    expect(auditLines().at(-1)).toMatch(new RegExp(`op=restore result=ok .*key=${intact}`));
  } finally {
    for (const key of [noManifest, mismatched, overwritten]) await removeBackup(s3, key);
  }
});

test('restore latest: when no backup verifies, nothing is restored (exit 1) and each is named with its reason', async () => {
  givenSeededUsers();
  const { key } = await givenNewestBackup();
  const attackers = await otherContentBackup('evil2', ['pwned@example.com']);
  // Every backup under a prefix of its own, the one there overwritten.
  const only = key.replace(/^test\//, 'lone/').replace('-test-', '-lone-');
  await uploadBackup(s3, { ...env, ENV_NAME: 'lone' }, attackers, only, { sha256: '1'.repeat(64) });
  try {
    const result = await runHostScript('restore.sh', ['latest'], { ...env, ENV_NAME: 'lone', BACKUP_PREFIX: 'lone/' });
    expect(result.stderr).toContain(`skipped ${only}: its sha256 does not match its manifest`);
    expect(result.stderr).toContain('restore FAILED: no intact backup under s3://');
    expectOutcome('restore', 1, result, auditLog);
    expect(users()).toBe(seededUsers);
  } finally {
    await removeBackup(s3, only);
  }
});

test('backup on a full disk: a failed backup (exit 1) with its outcome audited; its partial files removed, nothing uploaded, the last-backup record and the metric unchanged', async () => {
  await givenNewestBackup();
  const lastBackup = readFileSync(join(root, 'state/last-backup.json'), 'utf8');
  // A database whose dump fits the work directory, but not once more as the archive packed from it.
  postgres.psql('CREATE DATABASE hostrt_big');
  const work = join(root, 'full-disk');
  mkdirSync(work, { recursive: true });
  try {
    postgres.psql('CREATE TABLE filler AS SELECT md5(random()::text) || md5(random()::text) AS t FROM generate_series(1, 20000)', 'hostrt_big');
    const dumpBytes = execFileSync('pg_dump', ['-Fc', '-d', 'hostrt_big'], { env: { ...process.env, ...postgres.env }, maxBuffer: 1 << 26 }).length;
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil((dumpBytes * 1.5) / 4096) * 4 + 64}k`, 'tmpfs', work]);
    const keysBefore = (await aws('s3api', 'list-objects-v2', '--bucket', bucket, '--query', 'Contents[].Key', '--output', 'text')).stdout;
    metricRequests.length = 0;

    const result = await runHostScript('backup.sh', ['run'], { ...env, PGDATABASE: 'hostrt_big', REDIS_SERVICE: '', BACKUP_WORK_DIR: work });

    expect(result.stderr).toContain('No space left on device');
    expectOutcome('backup', 1, result, auditLog);
    expect(auditLines().at(-1)).toMatch(/op=backup result=failed actor=jest .*exit=1 /);
    expect(readdirSync(work)).toEqual([]);
    expect((await aws('s3api', 'list-objects-v2', '--bucket', bucket, '--query', 'Contents[].Key', '--output', 'text')).stdout).toBe(keysBefore);
    expect(readFileSync(join(root, 'state/last-backup.json'), 'utf8')).toBe(lastBackup);
    expect(metricRequests).toEqual([]);
  } finally {
    spawnUmount(work);
    postgres.psql('DROP DATABASE hostrt_big');
  }
});

function spawnUmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir]);
  } catch {
    // not mounted
  }
}

test('kill -9 during a restore, while pg_restore runs: status reports the interrupted restore; restore --resume starts the app again on the database as it is and says which state that is', async () => {
  givenSeededUsers();
  const { key } = await givenNewestBackup();
  postgres.psql("INSERT INTO users (email) VALUES ('late@example.com')", 'hostrt');
  // pg_restore waits until the test lets it go on: a wrapper ahead on PATH.
  const bin = join(root, 'held-bin');
  const reached = join(root, 'pg_restore.reached');
  const release = join(root, 'pg_restore.release');
  mkdirSync(bin, { recursive: true });
  rmSync(reached, { force: true });
  rmSync(release, { force: true });
  const realPgRestore = execFileSync('sh', ['-c', 'command -v pg_restore']).toString().trim();
  writeFileSync(join(bin, 'pg_restore'), `#!/bin/sh\ntouch '${reached}'\nwhile [ ! -e '${release}' ]; do sleep 0.05; done\nexec '${realPgRestore}' "$@"\n`, {
    mode: 0o755,
  });
  writeFileSync(composeCalls, '');
  const started = startCommand('bash', [join(hostScriptsDir, 'restore.sh'), key], { ...env, PATH: `${bin}:${process.env.PATH}` });
  // The held pg_restore outlives the killed script: let it go on whatever this test does.
  try {
    await killedDuringPgRestore();
  } finally {
    writeFileSync(release, '');
  }
  async function killedDuringPgRestore() {
    await waitForFile(reached, 300_000);
    process.kill(started.pid, 'SIGKILL');
    expect((await started.done).code).toBe(-1);
    // The app was stopped and nothing started it again.
    expect(readFileSync(composeCalls, 'utf8')).toBe('config --services\nstop api worker\n');

    const status = await runHostScript('status.sh', ['--json'], { ...env, CONTAINER_CMD: 'true' });
    expect(JSON.parse(status.stdout).inProgress).toMatchObject({ op: 'restore', ref: key, phase: 'pg-restore', running: false });
    const text = await runHostScript('status.sh', [], { ...env, CONTAINER_CMD: 'true' });
    expect(text.stdout).toContain(`INTERRUPTED: restore of ${key}`);
    expect(text.stdout).toContain('ops restore --resume');
  }

  // The orphaned pg_restore went on and commits (one transaction): the database now holds the backup.
  for (let i = 0; i < 1200 && users() !== seededUsers; i++) await new Promise((r) => setTimeout(r, 250));
  expect(users()).toBe(seededUsers);

  const resume = await runHostScript('restore.sh', ['--resume'], env);
  expect(resume.stderr).toContain(`the database holds the backup ${key} (pg_restore finished after the restore was interrupted)`);
  expect(resume.code).toBe(0);
  expect(readFileSync(composeCalls, 'utf8')).toBe('config --services\nstop api worker\nup -d --remove-orphans\n');
  expect(auditLines().at(-1)).toMatch(
    new RegExp(`op=restore result=recovered .*interruptedRef=${key} .*message="app started again on the database as it is: the database holds the backup`),
  );
  expect(JSON.parse((await runHostScript('status.sh', ['--json'], { ...env, CONTAINER_CMD: 'true' })).stdout).inProgress).toBeNull();
  expect(existsSync(join(root, 'state/in_progress'))).toBe(false);
});

test('SIGTERM during a restore, while the app is stopped: the app is started again, the outcome is audited as interrupted (exit 143) and names the state of the database', async () => {
  givenSeededUsers();
  const { key } = await givenNewestBackup();
  const bin = join(root, 'term-bin');
  const reached = join(root, 'pg_restore-term.reached');
  const release = join(root, 'pg_restore-term.release');
  mkdirSync(bin, { recursive: true });
  rmSync(reached, { force: true });
  rmSync(release, { force: true });
  const realPgRestore = execFileSync('sh', ['-c', 'command -v pg_restore']).toString().trim();
  writeFileSync(join(bin, 'pg_restore'), `#!/bin/sh\ntouch '${reached}'\nwhile [ ! -e '${release}' ]; do sleep 0.05; done\nexec '${realPgRestore}' "$@"\n`, {
    mode: 0o755,
  });
  writeFileSync(composeCalls, '');
  const started = startCommand('bash', [join(hostScriptsDir, 'restore.sh'), key], { ...env, PATH: `${bin}:${process.env.PATH}` });
  try {
    await waitForFile(reached, 300_000);
    process.kill(started.pid, 'SIGTERM');
  } finally {
    writeFileSync(release, '');
  }
  const result = await started.done;
  expectOutcome('restore', 143, result, auditLog);
  expect(readFileSync(composeCalls, 'utf8')).toBe('config --services\nstop api worker\nup -d --remove-orphans\n');
  expect(auditLines().at(-1)).toMatch(/op=restore result=interrupted .*exit=143 .*message="interrupted by SIGTERM.*the database holds the backup/);
  expect(existsSync(join(root, 'state/in_progress'))).toBe(false);
});

describe('every way a restore ends is documented (lib/host-runtime/outcomes.ts)', () => {
  test('restored, but the app does not come back healthy: exit 4, the in-progress record stays; restore --resume once it is healthy', async () => {
    givenSeededUsers();
    const { key } = await givenNewestBackup();
    const result = await runHostScript('restore.sh', [key], { ...env, HEALTH_URL: `http://127.0.0.1:${await freePort()}/healthz`, HEALTH_TIMEOUT: '2' });
    expectOutcome('restore', 4, result, auditLog);
    expect(result.stderr).toContain(`restore FAILED: ${key} was restored but the app is not healthy`);
    expect(JSON.parse((await runHostScript('status.sh', ['--json'], { ...env, CONTAINER_CMD: 'true' })).stdout).inProgress).toMatchObject({
      op: 'restore',
      ref: key,
      phase: 'restored',
      database: `the database holds the backup ${key}`,
    });
    const resumed = await runHostScript('restore.sh', ['--resume'], env);
    expectOutcome('restore', 0, resumed, auditLog);
    expect(resumed.stderr).toContain(`the database holds the backup ${key}`);
    expect(existsSync(join(root, 'state/in_progress'))).toBe(false);
  });

  test('a lock file that cannot be opened is refused (exit 65), nothing touched', async () => {
    givenSeededUsers();
    const result = await runHostScript('restore.sh', ['latest'], { ...env, LOCK_FILE: '/proc/hostrt-no-such-dir/deploy.lock' });
    expectOutcome('restore', 65, result, auditLog);
    expect(users()).toBe(seededUsers);
  });

  test('another operation holding the lock: refused (exit 75), naming it', async () => {
    givenSeededUsers();
    const lock = join(root, 'state/deploy.lock');
    mkdirSync(join(root, 'state'), { recursive: true });
    const held = await lockHeldBy(lock, 'op=deploy ref=v9 started=now actor=ci');
    try {
      const result = await runHostScript('restore.sh', ['latest'], env);
      expectOutcome('restore', 75, result, auditLog);
      expect(result.stderr).toMatch(/held by: pid=\d+ op=deploy ref=v9/);
      expect(users()).toBe(seededUsers);
    } finally {
      await held.release();
    }
  });
});
