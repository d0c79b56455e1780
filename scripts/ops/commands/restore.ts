import { RESTORE_BACKUP_PATTERN } from '../../../lib/host-runtime/restore';
import type { OpsArgs } from './parse-args';

export const RESTORE_USAGE = `usage: ops restore --env <name> --backup <key|latest> --confirm <name>

Restores a backup into the LIVE database of one environment (scripts/host/restore.sh via SSM):
  1. takes a safety backup of the live database (s3://<bucket>/<env>/safety/...-before-restore.dump)
  2. stops the app's services (the database and Redis keep running)
  3. pg_restore as the database owner, in one transaction (a failure leaves the database unchanged)
  4. starts the release and waits for the health check
  5. prints and audits the RTO it measured and the RPO of the backup used

options:
  --env <name>          the environment (one, never all)
  --backup <key|latest> a key such as <env>/<app>-<env>-20261125T150000Z.tar.gz, or latest
  --confirm <name>      the environment name again: without it nothing is sent to AWS
  --json                print JSON`;

/**
 * Parses `restore`'s arguments; throws an Error whose message is the problem (or the usage for
 * --help). Refuses without `--confirm <env>` before anything touches AWS.
 */
export function parseRestoreArgs(rest: readonly string[], configuredEnvs: readonly string[]): OpsArgs {
  const values: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--help' || arg === '-h') throw new Error(RESTORE_USAGE);
    if (arg === '--json') {
      json = true;
    } else if (arg === '--env' || arg === '--backup' || arg === '--confirm') {
      const value = rest[++i];
      if (!value || value.startsWith('--')) throw new Error(`${arg} needs a value\n\n${RESTORE_USAGE}`);
      values[arg.slice(2)] = value;
    } else {
      throw new Error(`unknown option "${arg}" for restore\n\n${RESTORE_USAGE}`);
    }
  }
  const { env, backup, confirm } = values;
  if (!env || env === 'all') throw new Error(`restore needs --env with one environment (one of ${configuredEnvs.join(', ')})`);
  if (!configuredEnvs.includes(env)) throw new Error(`unknown environment "${env}" (configured: ${configuredEnvs.join(', ')})`);
  if (!backup) throw new Error('restore needs --backup <key|latest> (ops status shows the newest backup)');
  if (!new RegExp(RESTORE_BACKUP_PATTERN).test(backup)) throw new Error(`--backup "${backup}" is neither latest nor a backup key such as ${env}/<app>-${env}-20261125T150000Z.tar.gz`);
  if (confirm !== env) {
    throw new Error(`restore replaces the live ${env} database: repeat the environment name with --confirm ${env}${confirm ? ` (got "${confirm}")` : ''}; nothing was sent`);
  }
  return { command: 'restore', envs: [env], backup, confirm, dryRun: false, apply: false, json };
}
