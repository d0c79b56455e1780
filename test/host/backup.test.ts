import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeBackup, uploadBackup } from '../helpers/backup-objects';
import { heldCommand, terminatedAt } from '../helpers/hold';
import { freePort, hostScriptsDir, recorderScript, runCommand, runHostScript, startCommand, waitForFile } from '../helpers/host-scripts';
import { expectOutcome } from '../helpers/outcomes';
import { PostgresCluster } from '../helpers/postgres';
import { nextSecond, S3Server } from '../helpers/s3';

/*
 * backup.sh and restore-drill.sh for real: a PostgreSQL cluster from Debian's packages with seeded
 * rows, s3rver on loopback reached by the AWS CLI with --endpoint-url, a Redis append-only
 * directory on disk. Each test states the bucket it starts from (givenNewestBackup, its own
 * uploads) and removes what it crafted, so any order works: between tests every object under the
 * prefix is a backup of the seeded database.
 */

// A drill starts its own cluster (initdb, server start) and runs the AWS CLI two or three times; on
// this shared 2-core machine under a load of ~20 one AWS CLI call alone was seen taking over 10 s,
// and a drill over 60 s. The waits inside are for conditions; this only bounds a test that hangs.
jest.setTimeout(600_000);

const root = mkdtempSync('/tmp/hostrt-backup-');
// The drill's throwaway cluster runs as the postgres user: its directory must be reachable by it.
const drillDataDir = join(mkdtempSync('/tmp/hostrt-drill-'), 'clusters');
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
const auditLog = join(root, 'state/audit.log');
const auditLines = () => readFileSync(auditLog, 'utf8').trim().split('\n');
/** GIVEN the newest object under the prefix is a fresh backup of the seeded database: its key. */
async function givenNewestBackup(): Promise<string> {
  await nextSecond();
  const backup = await runHostScript('backup.sh', ['run'], env);
  expect(backup.code).toBe(0);
  return backup.stdout.trim().replace(`s3://${bucket}/`, '');
}

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
    DRILL_DATA_DIR: drillDataDir,
  };
  chmodSync(join(drillDataDir, '..'), 0o711);
  mkdirSync(drillDataDir, { mode: 0o711 });
}, 300_000);

afterAll(async () => {
  postgres?.stop();
  await s3?.stop();
  rmSync(root, { recursive: true, force: true });
  rmSync(join(drillDataDir, '..'), { recursive: true, force: true });
});

test('backup: pg_dump (custom format) and the Redis AOF, compressed, under the environment prefix with a timestamped key', async () => {
  const before = await keys();
  await nextSecond(); // a backup in the same second would have the same key
  const result = await runHostScript('backup.sh', [], env);
  expect(result.stderr).toContain('backup uploaded');
  expectOutcome('backup', 0, result, auditLog);
  expect(result.code).toBe(0);
  const uploaded = result.stdout.trim();
  expect(uploaded).toMatch(/^s3:\/\/hostrt-backups\/test\/hostrt-test-\d{8}T\d{6}Z\.tar\.gz$/);
  const key = uploaded.replace(`s3://${bucket}/`, '');
  // The archive, and beside it its manifest (written after the upload: restore and the drill read it).
  expect(await keys()).toEqual([...before, key, key.replace(/\.tar\.gz$/, '.manifest.json')].sort());

  // The object is a gzip'd tar holding the custom-format dump, the AOF and a manifest that matches them.
  const local = join(root, 'downloaded.tar.gz');
  expect((await aws('s3', 'cp', '--only-show-errors', uploaded, local)).code).toBe(0);
  const extracted = join(root, 'extracted');
  mkdirSync(extracted);
  execFileSync('tar', ['-C', extracted, '-xzf', local]);
  expect(readFileSync(join(extracted, 'postgres.dump')).subarray(0, 5).toString()).toBe('PGDMP');
  expect(
    execFileSync('tar', ['-tf', join(extracted, 'redis-aof.tar')])
      .toString()
      .split('\n')
      .sort(),
  ).toEqual(['', 'appendonlydir/', 'appendonlydir/appendonly.aof.1.incr.aof', 'appendonlydir/appendonly.aof.manifest'].sort());
  const manifest = JSON.parse(readFileSync(join(extracted, 'manifest.json'), 'utf8'));
  expect(manifest).toMatchObject({ app: 'hostrt', environment: 'test', database: 'hostrt', tableRowsAtBackup: seededCounts });
  expect(manifest.databaseBytes).toBeGreaterThan(1_000_000);
  const sha = execFileSync('sha256sum', [join(extracted, 'postgres.dump')])
    .toString()
    .split(' ')[0];
  expect(manifest.files['postgres.dump']).toBe(sha);
  expect(auditLines().at(-1)).toMatch(new RegExp(`op=backup result=ok actor=jest pid=\\d+ key=${key} bytes=\\d+ tables=4`));
});

/** What the drill leaves in its cluster directory: nothing, on every exit path. */
const drillLeftovers = () => readdirSync(drillDataDir);
/** The recorded and restored counts of one table as the drill prints them. */
const drillRow = (table: string, recorded: number, restored: number, result: string) =>
  new RegExp(`^${table.replace('.', '\\.')}\\s+${recorded}\\s+${restored}\\s+${result}$`, 'm');
/** Uploads a crafted archive as backup `key` with the manifest a backup writes beside it (so it is a candidate; its content is what is tested). */
const upload = (file: string, key: string) => uploadBackup(s3, env, file, key);
const removeKey = (key: string) => removeBackup(s3, key);

/**
 * A backup archive whose dump lost every row of `orders` while its manifest still records the 250
 * rows counted at backup time (a dump cut short, a broken pg_dump): built from a real backup.
 */
async function lossyBackup(): Promise<string> {
  const real = await givenNewestBackup();
  const dir = join(root, `lossy-${Date.now()}`);
  mkdirSync(dir);
  expect((await aws('s3', 'cp', '--only-show-errors', `s3://${bucket}/${real}`, join(dir, 'real.tar.gz'))).code).toBe(0);
  execFileSync('tar', ['-C', dir, '-xzf', join(dir, 'real.tar.gz')]);
  postgres.psql('CREATE DATABASE hostrt_lossy TEMPLATE hostrt');
  try {
    postgres.psql('DELETE FROM orders', 'hostrt_lossy');
    execFileSync('pg_dump', ['-Fc', '-d', 'hostrt_lossy', '-f', join(dir, 'postgres.dump')], { env: { ...process.env, ...postgres.env } });
  } finally {
    postgres.psql('DROP DATABASE hostrt_lossy');
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  expect(manifest.tableRowsAtBackup['public.orders']).toBe(250);
  manifest.files['postgres.dump'] = execFileSync('sha256sum', [join(dir, 'postgres.dump')])
    .toString()
    .split(' ')[0];
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  execFileSync('tar', ['-C', dir, '-czf', join(dir, 'lossy.tar.gz'), 'manifest.json', 'postgres.dump', 'redis-aof.tar']);
  return join(dir, 'lossy.tar.gz');
}

test('restore drill: restores the newest backup into its own throwaway cluster (the live server unreachable), every recorded row; prints and audits RTO and RPO', async () => {
  const newest = await givenNewestBackup();
  // The live server's address points where nothing listens: the drill never needs it.
  const result = await runHostScript('restore-drill.sh', [], { ...env, PGPORT: String(await freePort()) });
  expectOutcome('restore-drill', 0, result, auditLog);
  expect(result.stderr).toContain('restore drill passed');
  expect(result.code).toBe(0);
  expect(result.stderr).toContain(`latest backup (by the time S3 recorded it`);
  expect(result.stderr).toContain(`s3://${bucket}/${newest}`);
  for (const [table, rows] of Object.entries(seededCounts)) expect(result.stdout).toMatch(drillRow(table, rows, rows, 'ok'));
  expect(result.stdout).toContain('tables: 4 recorded, 4 restored, 0 missing or with other row counts than recorded');
  expect(result.stderr).toContain(`restoring ${newest} as drill_restore (not a superuser)`);
  expect(result.stdout).toMatch(/^RTO \(download and restore\): \d+\.\d s$/m);
  expect(result.stdout).toMatch(/^RPO \(age of the backup\): \d+ s$/m);
  expect(auditLines().at(-1)).toMatch(/op=restore-drill result=ok .*tables=4 rtoSeconds=\d+\.\d rpoSeconds=\d+ backupTime=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  expect(result.stderr).toMatch(/removed the drill cluster /);
  expect(drillLeftovers()).toEqual([]);
});

test('restore drill: rows written to the live database after the backup do not fail it (it compares with the counts the backup recorded)', async () => {
  const newest = await givenNewestBackup();
  postgres.psql("INSERT INTO users (email) VALUES ('late@example.com')", 'hostrt');
  try {
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.stderr).toContain(`s3://${bucket}/${newest}`);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(drillRow('public.users', 3, 3, 'ok'));
  } finally {
    postgres.psql("DELETE FROM users WHERE email = 'late@example.com'", 'hostrt');
  }
});

test('restore drill: a backup that restores fewer rows than it recorded fails, naming the table', async () => {
  const key = 'test/hostrt-test-20200101T000000Z.tar.gz';
  const lossy = await lossyBackup();
  await nextSecond();
  await upload(lossy, key);
  try {
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.stderr).toContain(`s3://${bucket}/${key}`);
    expectOutcome('restore-drill', 1, result, auditLog);
    expect(result.stdout).toMatch(drillRow('public.orders', 250, 0, 'LOST 250'));
    expect(result.stdout).toMatch(drillRow('public.users', 3, 3, 'ok'));
    expect(result.stderr).toContain('restore drill FAILED: the restore does not hold the rows the backup recorded');
    expect(auditLines().at(-1)).toMatch(new RegExp(`op=restore-drill result=failed .*key=${key} rpoSeconds=\\d+`));
    expect(drillLeftovers()).toEqual([]);
  } finally {
    await removeKey(key);
  }
});

test('restore drill: picks the newest backup by the time S3 recorded it, not by a crafted far-future key name', async () => {
  const crafted = 'test/hostrt-test-29991231T235959Z.tar.gz';
  await upload(await lossyBackup(), crafted);
  try {
    const real = await givenNewestBackup();
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.stderr).toContain(`s3://${bucket}/${real}`);
    expect(result.output).not.toContain('29991231T235959Z');
    expect(result.code).toBe(0);
  } finally {
    await removeKey(crafted);
  }
});

test('restore drill: an overwritten newest backup is skipped, named with its reason; the newest intact one is drilled and named', async () => {
  const lossy = await lossyBackup();
  const intact = await givenNewestBackup();
  const overwritten = await givenNewestBackup();
  await nextSecond();
  expect((await aws('s3', 'cp', '--only-show-errors', '--checksum-algorithm', 'CRC32', lossy, `s3://${bucket}/${overwritten}`)).code).toBe(0);
  try {
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.stderr).toMatch(new RegExp(`skipped ${overwritten}: stored after its manifest was written \\(overwritten\\?\\)`));
    expect(result.stderr).toContain(`chose ${intact}: the newest backup whose manifest and sha256 verify`);
    expect(result.stderr).toContain(`s3://${bucket}/${intact}`);
    expect(result.code).toBe(0);
    expect(auditLines().at(-1)).toMatch(new RegExp(`op=restore-drill result=ok .*key=${intact}`));
  } finally {
    await removeKey(overwritten);
  }
});

test('backup: a manifest beside the archive, written after the upload: its key, size, sha256, times and database', async () => {
  const key = await givenNewestBackup();
  const local = join(root, 'manifested.tar.gz');
  expect((await aws('s3', 'cp', '--only-show-errors', `s3://${bucket}/${key}`, local)).code).toBe(0);
  const manifestKey = key.replace(/\.tar\.gz$/, '.manifest.json');
  const manifestFile = join(root, 'manifest-object.json');
  expect((await aws('s3', 'cp', '--only-show-errors', `s3://${bucket}/${manifestKey}`, manifestFile)).code).toBe(0);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const sha = execFileSync('sha256sum', [local]).toString().split(' ')[0];
  expect(manifest).toEqual({
    schemaVersion: 1,
    key,
    bytes: readFileSync(local).length,
    sha256: sha,
    createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    uploadedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    app: 'hostrt',
    environment: 'test',
    database: 'hostrt',
  });
  // The key's stamp is the time the backup was taken.
  expect(key).toContain(manifest.createdAt.replace(/[-:]/g, ''));
  // Written after the upload: S3 stored the manifest no earlier than the archive.
  const listed = JSON.parse(
    (
      await aws(
        's3api',
        'list-objects-v2',
        '--bucket',
        bucket,
        '--prefix',
        key.replace(/\.tar\.gz$/, ''),
        '--query',
        'Contents[].[Key,LastModified]',
        '--output',
        'json',
      )
    ).stdout,
  ) as [string, string][];
  const stored = Object.fromEntries(listed);
  expect(Date.parse(stored[manifestKey])).toBeGreaterThanOrEqual(Date.parse(stored[key]));
});

test('restore drill: a crafted dump whose materialized view runs COPY ... TO PROGRAM fails as a non-superuser, and the live server is untouched', async () => {
  const marker = `/tmp/hostrt-pwned-${process.pid}`; // where the postgres user could write
  postgres.psql('CREATE DATABASE hostrt_crafted');
  postgres.psql(
    `CREATE TABLE users (id int, email text);
     INSERT INTO users VALUES (1, 'a@example.com');
     CREATE FUNCTION payload() RETURNS int LANGUAGE sql AS 'SELECT 1';
     CREATE MATERIALIZED VIEW innocent AS SELECT payload() AS x;
     CREATE OR REPLACE FUNCTION payload() RETURNS int LANGUAGE plpgsql AS $$
     BEGIN
       COPY (SELECT 1) TO PROGRAM 'touch ${marker}';
       UPDATE public.users SET email = 'pwned';
       RETURN 1;
     END $$;`,
    'hostrt_crafted',
  );
  const emailsBefore = postgres.psql("SELECT string_agg(email, ',' ORDER BY id) FROM users", 'hostrt');
  await nextSecond();
  const backup = await runHostScript('backup.sh', ['run'], { ...env, PGDATABASE: 'hostrt_crafted' });
  expect(backup.code).toBe(0);
  const key = backup.stdout.trim().replace(`s3://${bucket}/`, '');
  try {
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.stderr).toContain(`s3://${bucket}/${key}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/restore drill FAILED: pg_restore of .* failed: .*COPY to or from an external program/);
    expect(existsSync(marker)).toBe(false);
    expect(postgres.psql("SELECT string_agg(email, ',' ORDER BY id) FROM users", 'hostrt')).toBe(emailsBefore);
    expect(drillLeftovers()).toEqual([]);
  } finally {
    await removeKey(key);
    postgres.psql('DROP DATABASE hostrt_crafted');
    rmSync(marker, { force: true });
  }
});

test('restore drill: not enough disk space for the cluster fails before restoring anything', async () => {
  await givenNewestBackup(); // the space needed is read from its manifest
  const result = await runHostScript('restore-drill.sh', [], { ...env, DRILL_MIN_FREE_MB: '999999999' });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/restore drill FAILED: not enough disk space for the drill cluster in .*: \d+ MB free, \d+ MB needed/);
  expect(result.stderr).not.toContain('starting a throwaway PostgreSQL cluster');
  expect(drillLeftovers()).toEqual([]);
});

test('restore drill: a corrupt latest backup fails loudly', async () => {
  const garbage = join(root, 'garbage');
  writeFileSync(garbage, 'this is not a backup');
  await nextSecond();
  await upload(garbage, 'test/hostrt-test-29991231T235959Z.tar.gz');
  try {
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("restore drill FAILED: backup test/hostrt-test-29991231T235959Z.tar.gz is corrupt (not a readable gzip'd tar)");
    expect(drillLeftovers()).toEqual([]);
    expect(auditLines().at(-1)).toContain('op=restore-drill result=failed');
  } finally {
    await removeKey('test/hostrt-test-29991231T235959Z.tar.gz');
  }
});

test('restore drill: a dump that does not restore fails loudly and leaves no cluster behind', async () => {
  const dir = join(root, 'truncated');
  mkdirSync(dir);
  writeFileSync(join(dir, 'postgres.dump'), 'PGDMP truncated');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ files: { 'postgres.dump': null }, tableRowsAtBackup: {} }));
  execFileSync('tar', ['-C', dir, '-czf', join(root, 'truncated.tar.gz'), 'manifest.json', 'postgres.dump']);
  await nextSecond();
  await upload(join(root, 'truncated.tar.gz'), 'test/hostrt-test-29991231T235959Z.tar.gz');
  try {
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/restore drill FAILED: pg_restore of test\/hostrt-test-29991231T235959Z\.tar\.gz failed: .*pg_restore/);
    expect(result.stderr).toMatch(/removed the drill cluster /);
    expect(drillLeftovers()).toEqual([]);
  } finally {
    await removeKey('test/hostrt-test-29991231T235959Z.tar.gz');
  }
});

test('restore drill: a manifest without recorded row counts cannot prove anything and fails', async () => {
  const dir = join(root, 'uncounted');
  mkdirSync(dir);
  writeFileSync(join(dir, 'postgres.dump'), 'PGDMP');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ files: { 'postgres.dump': null } }));
  execFileSync('tar', ['-C', dir, '-czf', join(root, 'uncounted.tar.gz'), 'manifest.json', 'postgres.dump']);
  await nextSecond();
  await upload(join(root, 'uncounted.tar.gz'), 'test/hostrt-test-20000101T000000Z.tar.gz');
  try {
    const result = await runHostScript('restore-drill.sh', [], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('does not match its manifest: the manifest records no row counts (tableRowsAtBackup)');
  } finally {
    await removeKey('test/hostrt-test-20000101T000000Z.tar.gz');
  }
});

test('restore drill: no backup under the prefix fails loudly', async () => {
  const result = await runHostScript('restore-drill.sh', [], { ...env, ENV_NAME: 'staging', BACKUP_PREFIX: 'staging/' });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`restore drill FAILED: no intact backup under s3://${bucket}/staging/`);
});

test('backup: a database pg_dump cannot read fails with its message and uploads nothing', async () => {
  const before = await keys();
  const result = await runHostScript('backup.sh', ['run'], { ...env, PGDATABASE: 'no_such_db' });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/could not open a snapshot of no_such_db: .*database "no_such_db" does not exist/);
  expect(await keys()).toEqual(before);
});

test('backup: a second backup while one runs (the timer and `ops backup`) exits 75 naming the holder; the first completes', async () => {
  // The first backup stops before its upload until the test lets it go on: an AWS CLI wrapper.
  const reached = join(root, 'upload.reached');
  const release = join(root, 'upload.release');
  const slowAws = join(root, 'slow-aws');
  writeFileSync(
    slowAws,
    `#!/usr/bin/env bash\nif [ "$1 $2 $3" = "--endpoint-url ${s3.endpoint} s3" ]; then\n  touch '${reached}'\n  for _ in $(seq 1200); do [ -e '${release}' ] && break; sleep 0.1; done\nfi\nexec aws "$@"\n`,
    { mode: 0o755 },
  );
  const first = startCommand('bash', [join(hostScriptsDir, 'backup.sh'), 'run'], { ...env, AWS_CMD: slowAws, DEPLOY_ACTOR: 'timer' });
  try {
    await waitForFile(reached);
    const second = await runHostScript('backup.sh', ['run'], { ...env, DEPLOY_ACTOR: 'ops' });
    expectOutcome('backup', 75, second, auditLog);
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(
      /another backup is running \(lock .*backup\.lock held by: pid=\d+ op=backup key=test\/hostrt-test-\d{8}T\d{6}Z\.tar\.gz started=\S+ actor=timer\)/,
    );
    expect(auditLines().at(-1)).toMatch(/op=backup result=refused actor=ops .*holder="pid=\d+ op=backup/);
  } finally {
    writeFileSync(release, '');
  }
  const done = await first.done;
  expect(done.stderr).toContain('backup uploaded');
  expect(done.code).toBe(0);
  // Released on exit: the next backup takes the lock without reporting a stale one.
  const next = await runHostScript('backup.sh', ['run'], env);
  expect(next.code).toBe(0);
  expect(next.stderr).not.toContain('stale lock');
});

describe('every way a backup and a drill end is documented (lib/host-runtime/outcomes.ts)', () => {
  test('bad usage (exit 2), nothing audited', async () => {
    expectOutcome('backup', 2, await runHostScript('backup.sh', ['now'], env), auditLog);
    expectOutcome('restore-drill', 2, await runHostScript('restore-drill.sh', ['latest'], env), auditLog);
  });

  test('a backup lock that cannot be opened is refused before anything (exit 65), audited', async () => {
    const before = await keys();
    const result = await runHostScript('backup.sh', ['run'], { ...env, BACKUP_LOCK_FILE: '/proc/hostrt-no-such-dir/backup.lock' });
    expectOutcome('backup', 65, result, auditLog);
    expect(result.stderr).toContain('refusing to backup: cannot open the lock file /proc/hostrt-no-such-dir/backup.lock');
    expect(await keys()).toEqual(before);
  });

  test('SIGTERM to a backup while it writes its manifest: exit 143, audited as interrupted; its files removed, nothing uploaded', async () => {
    const before = await keys();
    await nextSecond();
    const held = heldCommand(join(root, 'held-backup'), 'python3');
    const result = await terminatedAt(held, 'backup.sh', ['run'], env);
    expectOutcome('backup', 143, result, auditLog);
    expect(auditLines().at(-1)).toMatch(
      /op=backup result=interrupted .*exit=143 message="interrupted by SIGTERM; nothing was uploaded; the last-backup record and the backup-age metric are unchanged"/,
    );
    expect(readdirSync(env.BACKUP_WORK_DIR)).toEqual([]);
    expect(await keys()).toEqual(before);
  });

  test('SIGTERM to a drill while it chooses the backup: exit 143, audited as interrupted; nothing left behind', async () => {
    await givenNewestBackup();
    const held = heldCommand(join(root, 'held-drill'), 'aws');
    const result = await terminatedAt(held, 'restore-drill.sh', [], env);
    expectOutcome('restore-drill', 143, result, auditLog);
    expect(drillLeftovers()).toEqual([]);
    expect(readdirSync(env.BACKUP_WORK_DIR)).toEqual([]);
  });
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
    // GIVEN no timer installed and no systemctl call yet
    rmSync(systemdDir, { recursive: true, force: true });
    rmSync(calls, { force: true });
    rmSync(join(root, 'state/applied'), { recursive: true, force: true });
    const first = await runHostScript('backup.sh', ['install-timer'], timerEnv());
    expect(first.code).toBe(0);
    // Recorded on the data volume, so a replacement host installs the timer again (host-boot.sh step 5).
    expect(readFileSync(join(root, 'state/applied/backup-timer'), 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    expect(readFileSync(join(systemdDir, 'hostrt-backup.timer'), 'utf8')).toContain('OnCalendar=Mon..Fri *-*-* 03:30:00\nPersistent=true');
    expect(readFileSync(join(systemdDir, 'hostrt-backup.service'), 'utf8')).toContain(`Type=oneshot\nExecStart=${hostScriptsDir}/backup.sh run\n`);
    expect(readFileSync(calls, 'utf8')).toBe('systemctl daemon-reload\nsystemctl enable --now hostrt-backup.timer\n');

    const second = await runHostScript('backup.sh', ['install-timer'], timerEnv());
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('hostrt-backup.timer already up to date');
    expect(readFileSync(calls, 'utf8')).toBe(
      'systemctl daemon-reload\nsystemctl enable --now hostrt-backup.timer\nsystemctl enable --now hostrt-backup.timer\n',
    );
  });

  test('a schedule systemd does not accept is refused', async () => {
    rmSync(join(root, 'state/applied'), { recursive: true, force: true });
    const result = await runHostScript('backup.sh', ['install-timer'], { ...timerEnv(), BACKUP_SCHEDULE: 'every day at three' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("BACKUP_SCHEDULE 'every day at three' is not a valid systemd OnCalendar expression");
    expect(existsSync(join(root, 'state/applied/backup-timer'))).toBe(false);
  });
});
