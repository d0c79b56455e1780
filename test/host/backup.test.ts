import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, hostScriptsDir, recorderScript, runCommand, runHostScript } from '../helpers/host-scripts';
import { PostgresCluster } from '../helpers/postgres';
import { S3Server } from '../helpers/s3';

/*
 * backup.sh and restore-drill.sh for real: a PostgreSQL cluster from Debian's packages with seeded
 * rows, s3rver on loopback reached by the AWS CLI with --endpoint-url, a Redis append-only
 * directory on disk. The tests run in order: backup first, then drills of what it uploaded.
 */

const root = mkdtempSync('/tmp/hostrt-backup-');
const bucket = 'hostrt-backups';
let postgres: PostgresCluster;
let s3: S3Server;
let env: Record<string, string>;

const seed = `
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);
INSERT INTO users (email) SELECT 'user' || n || '@example.com' FROM generate_series(1, 3) n;
CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users, total numeric);
INSERT INTO orders (user_id, total) SELECT 1 + n % 3, n * 1.5 FROM generate_series(1, 250) n;
CREATE SCHEMA billing;
CREATE TABLE billing."Invoice Lines" (id int, note text);
INSERT INTO billing."Invoice Lines" VALUES (1, 'quoted name'), (2, 'it''s');
CREATE TABLE empty_table (id int);
`;
const seededCounts = { 'billing.Invoice Lines': 2, 'public.empty_table': 0, 'public.orders': 250, 'public.users': 3 };

const aws = (...args: string[]) => runCommand('aws', ['--endpoint-url', s3.endpoint, ...args], s3.awsEnv);
const keys = async (): Promise<string[]> => {
  const listed = await aws('s3api', 'list-objects-v2', '--bucket', bucket, '--query', 'Contents[].Key', '--output', 'text');
  return listed.stdout.trim() === 'None' ? [] : listed.stdout.trim().split(/\s+/);
};
const drillDatabases = () => postgres.psql("SELECT datname FROM pg_database WHERE datname LIKE 'hostrt_drill%'");
const auditLines = () => readFileSync(join(root, 'state/audit.log'), 'utf8').trim().split('\n');

beforeAll(async () => {
  const [pgPort, s3Port] = [await freePort(), await freePort()];
  postgres = new PostgresCluster(pgPort);
  s3 = new S3Server(join(root, 's3'), s3Port, bucket);
  await s3.start();
  postgres.start();
  postgres.psql('CREATE DATABASE hostrt');
  postgres.psql(seed, 'hostrt');
  const aof = join(root, 'redis/appendonlydir');
  mkdirSync(aof, { recursive: true });
  writeFileSync(join(aof, 'appendonly.aof.1.incr.aof'), '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n');
  writeFileSync(join(aof, 'appendonly.aof.manifest'), 'file appendonly.aof.1.incr.aof seq 1 type i\n');
  env = {
    ...s3.awsEnv,
    ...postgres.env,
    APP_NAME: 'hostrt',
    ENV_NAME: 'test',
    STATE_DIR: join(root, 'state'),
    PG_TOOLS_VIA: 'local',
    PGDATABASE: 'hostrt',
    BACKUP_BUCKET: bucket,
    BACKUP_PREFIX: 'test/',
    AWS_S3_ENDPOINT_ARGS: `--endpoint-url ${s3.endpoint}`,
    BACKUP_WORK_DIR: join(root, 'work'),
    REDIS_AOF_PATH: aof,
    DEPLOY_ACTOR: 'jest',
  };
}, 60000);

afterAll(async () => {
  postgres?.stop();
  await s3?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('backup: pg_dump (custom format) and the Redis AOF, compressed, under the environment prefix with a timestamped key', async () => {
  const result = await runHostScript('backup.sh', [], env);
  expect(result.stderr).toContain('backup uploaded');
  expect(result.code).toBe(0);
  const uploaded = result.stdout.trim();
  expect(uploaded).toMatch(/^s3:\/\/hostrt-backups\/test\/hostrt-test-\d{8}T\d{6}Z\.tar\.gz$/);
  const key = uploaded.replace(`s3://${bucket}/`, '');
  expect(await keys()).toEqual([key]);

  // The object is a gzip'd tar holding the custom-format dump, the AOF and a manifest that matches them.
  const local = join(root, 'downloaded.tar.gz');
  expect((await aws('s3', 'cp', '--only-show-errors', uploaded, local)).code).toBe(0);
  const extracted = join(root, 'extracted');
  mkdirSync(extracted);
  execFileSync('tar', ['-C', extracted, '-xzf', local]);
  expect(readFileSync(join(extracted, 'postgres.dump')).subarray(0, 5).toString()).toBe('PGDMP');
  expect(execFileSync('tar', ['-tf', join(extracted, 'redis-aof.tar')]).toString().split('\n').sort()).toEqual(
    ['', 'appendonlydir/', 'appendonlydir/appendonly.aof.1.incr.aof', 'appendonlydir/appendonly.aof.manifest'].sort(),
  );
  const manifest = JSON.parse(readFileSync(join(extracted, 'manifest.json'), 'utf8'));
  expect(manifest).toMatchObject({ app: 'hostrt', environment: 'test', database: 'hostrt', tableRowsAtBackup: seededCounts });
  const sha = execFileSync('sha256sum', [join(extracted, 'postgres.dump')]).toString().split(' ')[0];
  expect(manifest.files['postgres.dump']).toBe(sha);
  expect(auditLines().at(-1)).toMatch(new RegExp(`op=backup result=ok actor=jest pid=\\d+ key=${key} bytes=\\d+ tables=4`));
});

test('restore drill: restores the latest backup into a scratch database, every row, then drops it', async () => {
  const result = await runHostScript('restore-drill.sh', [], env);
  expect(result.stderr).toContain('restore drill passed');
  expect(result.code).toBe(0);
  for (const [table, rows] of Object.entries(seededCounts)) {
    expect(result.stdout).toMatch(new RegExp(`^${table}\\s+${rows}\\s+${rows}\\s+ok$`, 'm'));
  }
  expect(result.stdout).toContain('tables: 4 in source, 4 restored, 0 missing, 0 with different row counts');
  expect(result.stderr).toMatch(/dropped scratch database hostrt_drill_\d+_\d+/);
  expect(drillDatabases()).toBe('');
  expect(auditLines().at(-1)).toMatch(/op=restore-drill result=ok .*tables=4/);
});

test('restore drill: reports rows that differ from the source and fails', async () => {
  postgres.psql("INSERT INTO users (email) VALUES ('late@example.com')", 'hostrt');
  try {
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^public\.users\s+4\s+3\s+DIFFERS by -1$/m);
    expect(result.stderr).toContain('restore drill FAILED: restored row counts do not match the source database hostrt');
    expect(drillDatabases()).toBe('');
  } finally {
    postgres.psql("DELETE FROM users WHERE email = 'late@example.com'", 'hostrt');
  }
});

test('restore drill: a corrupt latest backup fails loudly', async () => {
  const garbage = join(root, 'garbage');
  writeFileSync(garbage, 'this is not a backup');
  await aws('s3', 'cp', '--only-show-errors', garbage, `s3://${bucket}/test/hostrt-test-29991231T235959Z.tar.gz`);
  try {
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('restore drill FAILED: backup test/hostrt-test-29991231T235959Z.tar.gz is corrupt (not a readable gzip\'d tar)');
    expect(drillDatabases()).toBe('');
    expect(auditLines().at(-1)).toContain('op=restore-drill result=failed');
  } finally {
    await aws('s3', 'rm', '--only-show-errors', `s3://${bucket}/test/hostrt-test-29991231T235959Z.tar.gz`);
  }
});

test('restore drill: a dump that does not restore fails loudly and leaves no scratch database', async () => {
  const dir = join(root, 'truncated');
  mkdirSync(dir);
  writeFileSync(join(dir, 'postgres.dump'), 'PGDMP truncated');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ files: { 'postgres.dump': null } }));
  execFileSync('tar', ['-C', dir, '-czf', join(root, 'truncated.tar.gz'), 'manifest.json', 'postgres.dump']);
  await aws('s3', 'cp', '--only-show-errors', join(root, 'truncated.tar.gz'), `s3://${bucket}/test/hostrt-test-29991231T235959Z.tar.gz`);
  try {
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/restore drill FAILED: pg_restore of test\/hostrt-test-29991231T235959Z\.tar\.gz failed: .*pg_restore/);
    expect(result.stderr).toMatch(/dropped scratch database hostrt_drill_/);
    expect(drillDatabases()).toBe('');
  } finally {
    await aws('s3', 'rm', '--only-show-errors', `s3://${bucket}/test/hostrt-test-29991231T235959Z.tar.gz`);
  }
});

test('restore drill: no backup under the prefix fails loudly', async () => {
  const result = await runHostScript('restore-drill.sh', [], { ...env, ENV_NAME: 'staging', BACKUP_PREFIX: 'staging/' });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`restore drill FAILED: no backup found under s3://${bucket}/staging/`);
});

test('backup: a database pg_dump cannot read fails with its message and uploads nothing', async () => {
  const before = await keys();
  const result = await runHostScript('backup.sh', ['run'], { ...env, PGDATABASE: 'no_such_db' });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/pg_dump of no_such_db failed: .*database "no_such_db" does not exist/);
  expect(await keys()).toEqual(before);
});

describe('backup timer', () => {
  const systemdDir = join(root, 'systemd');
  const calls = join(root, 'systemctl.calls');
  const timerEnv = () => {
    const systemctl = join(root, 'systemctl');
    writeFileSync(systemctl, recorderScript(calls), { mode: 0o755 });
    return { ...env, SYSTEMD_DIR: systemdDir, SYSTEMCTL_CMD: systemctl, BACKUP_SCHEDULE: 'Mon..Fri *-*-* 03:30:00' };
  };

  test('install-timer writes the service and timer with the configured OnCalendar, then enables it; a rerun changes nothing', async () => {
    const first = await runHostScript('backup.sh', ['install-timer'], timerEnv());
    expect(first.code).toBe(0);
    expect(readFileSync(join(systemdDir, 'hostrt-backup.timer'), 'utf8')).toContain('OnCalendar=Mon..Fri *-*-* 03:30:00\nPersistent=true');
    expect(readFileSync(join(systemdDir, 'hostrt-backup.service'), 'utf8')).toContain(`Type=oneshot\nExecStart=${hostScriptsDir}/backup.sh run\n`);
    expect(readFileSync(calls, 'utf8')).toBe('systemctl daemon-reload\nsystemctl enable --now hostrt-backup.timer\n');

    const second = await runHostScript('backup.sh', ['install-timer'], timerEnv());
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('hostrt-backup.timer already up to date');
    expect(readFileSync(calls, 'utf8')).toBe('systemctl daemon-reload\nsystemctl enable --now hostrt-backup.timer\nsystemctl enable --now hostrt-backup.timer\n');
  });

  test('a schedule systemd does not accept is refused', async () => {
    const result = await runHostScript('backup.sh', ['install-timer'], { ...timerEnv(), BACKUP_SCHEDULE: 'every day at three' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("BACKUP_SCHEDULE 'every day at three' is not a valid systemd OnCalendar expression");
  });
});
