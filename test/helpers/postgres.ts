import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Debian's PostgreSQL binaries (the newest installed major version). */
function postgresBin(): string {
  const versions = readdirSync('/usr/lib/postgresql')
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

function uidOf(user: string): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', user])), gid: Number(execFileSync('id', ['-g', user])) };
}

/**
 * A throwaway PostgreSQL cluster on 127.0.0.1:`port`, owned by the `postgres` user (initdb refuses
 * root), trust authentication, no fsync, in its own directory under /tmp (which the `postgres`
 * user can reach, unlike a root-only temp dir). `stop()` shuts it down and removes the directory.
 */
export class PostgresCluster {
  readonly dir: string;
  readonly data: string;
  private readonly bin = postgresBin();

  constructor(readonly port: number) {
    this.dir = mkdtempSync('/tmp/hostrt-pg-');
    this.data = join(this.dir, 'data');
  }

  /** Environment that points libpq tools (psql, pg_dump, pg_restore) at this cluster. */
  get env(): Record<string, string> {
    return { PGHOST: '127.0.0.1', PGPORT: String(this.port), PGUSER: 'postgres' };
  }

  start(): void {
    const { uid, gid } = uidOf('postgres');
    chownSync(this.dir, uid, gid);
    this.asPostgres(join(this.bin, 'initdb'), '-D', this.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8');
    this.asPostgres(
      join(this.bin, 'pg_ctl'),
      '-D',
      this.data,
      '-l',
      join(this.dir, 'postgres.log'),
      '-w',
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off -c full_page_writes=off`,
      'start',
    );
  }

  stop(): void {
    spawnSync('runuser', ['-u', 'postgres', '--', join(this.bin, 'pg_ctl'), '-D', this.data, '-m', 'immediate', 'stop'], { stdio: 'pipe' });
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs SQL with psql (stops at the first error) and returns the unaligned, tuples-only output. */
  psql(sql: string, database = 'postgres'): string {
    return execFileSync('psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d', database], {
      input: sql,
      env: { ...process.env, ...this.env },
      stdio: 'pipe',
    })
      .toString()
      .trim();
  }

  private asPostgres(...command: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', ...command], { stdio: 'pipe', cwd: this.dir });
  }
}
