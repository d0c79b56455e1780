import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { freePort, runCommand, runHostScript } from '../helpers/host-scripts';
import { PostgresCluster } from '../helpers/postgres';
import { nextSecond, S3Server } from '../helpers/s3';

/*
 * restore.sh and the backup-age metric for real: PostgreSQL from Debian's packages with a database
 * owned by an ordinary role, s3rver for the bucket, a CloudWatch stub endpoint that records what
 * the real AWS CLI sends, a Compose stub that records calls, and a health endpoint on loopback.
 * Each test states what it starts from (the seeded users, a fresh backup of them) and removes what
 * it crafted, so any order works.
 */

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
const auditLines = () => readFileSync(join(root, 'state/audit.log'), 'utf8').trim().split('\n');
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
}, 60000);

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
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('is not a backup key of this environment');
});

test('restore: rows written after the backup are gone from the live database and kept in the safety backup; RTO and RPO are printed and audited', async () => {
  givenSeededUsers();
  const { key: backupKey } = await givenNewestBackup();
  postgres.psql("INSERT INTO users (email) VALUES ('late@example.com')", 'hostrt');
  writeFileSync(composeCalls, '');
  const result = await runHostScript('restore.sh', [backupKey], env);
  expect(result.stderr).toContain('restore complete');
  expect(result.code).toBe(0);

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
  await aws('s3', 'cp', '--only-show-errors', garbage, `s3://${bucket}/${crafted}`);
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
  mkdirSync(dir);
  writeFileSync(join(dir, 'postgres.dump'), 'PGDMP truncated');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ createdAt: '2026-01-01T00:00:00Z', files: { 'postgres.dump': null } }));
  const tarball = join(root, 'broken.tar.gz');
  await runCommand('tar', ['-C', dir, '-czf', tarball, 'manifest.json', 'postgres.dump']);
  const broken = 'test/hostrt-test-29991231T235959Z.tar.gz';
  await nextSecond(); // the newest upload, so `latest` is this one
  await aws('s3', 'cp', '--only-show-errors', tarball, `s3://${bucket}/${broken}`);
  try {
    writeFileSync(composeCalls, '');
    const result = await runHostScript('restore.sh', ['latest'], env);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`restore FAILED: pg_restore of ${broken} failed (the transaction rolled back: the live database is unchanged)`);
    expect(users()).toBe(`${seededUsers},kept@example.com`);
    expect(readFileSync(composeCalls, 'utf8')).toBe('config --services\nstop api worker\nup -d --remove-orphans\n');
    expect(auditLines().at(-1)).toMatch(/op=restore result=failed .*exit=3/);
  } finally {
    await aws('s3', 'rm', '--only-show-errors', `s3://${bucket}/${broken}`);
  }
});
