import type { HostOperation } from '../../../lib/host-runtime/document-spec';
import { gitRefProblem } from '../../../lib/config/git-ref';
import { type LogsArgs, parseLogsArgs } from './logs';
import { parseSmokeArgs, type SmokeArgs } from './smoke';

/** Commands that run a host document through SSM. */
export const HOST_COMMANDS: readonly HostOperation[] = ['deploy', 'rollback', 'status', 'backup', 'restore-drill', 'tls', 'firewall'];
/** Commands that read AWS and report. */
export const REPORT_COMMANDS = ['validate', 'iam-audit', 'outputs', 'stacks', 'smoke', 'logs'] as const;

export type OpsCommand = HostOperation | (typeof REPORT_COMMANDS)[number];

export interface OpsArgs {
  readonly command: OpsCommand;
  /** Environments to act on; `--env all` (or none, for reports) means every configured one. */
  readonly envs: readonly string[];
  /** `deploy --ref <git-ref>`. @default - the environment's configured gitRef */
  readonly ref?: string;
  /** `tls --dry-run`: ask certbot to test renewal without changing anything. */
  readonly dryRun: boolean;
  /** `firewall --apply`: change the rules; without it the firewall command prints them. */
  readonly apply: boolean;
  /** Print JSON instead of text. */
  readonly json: boolean;
  /** `smoke`'s own options (commands/smoke.ts). */
  readonly smoke?: SmokeArgs;
  /** `logs`'s own options (commands/logs.ts). */
  readonly logs?: LogsArgs;
}

export const USAGE = `usage: ops <command> --env <name|all> [options]

host commands (run a reviewed SSM document on the environment's instance):
  deploy --ref <git-ref>   check out the ref, restart compose, wait for health; roll back on failure
  rollback                 return to the previous good release (no git fetch needed)
  status                   current and previous releases, health, containers
  backup                   pg_dump + Redis AOF to the backups bucket
  restore-drill            restore the latest backup into a scratch database and compare row counts
  tls [--dry-run]          issue or renew the certificate and switch nginx to HTTPS when it exists
  firewall [--apply]       print the host firewall rules (ufw or nftables), or apply 80/443-only inbound

reports:
  validate                 the operator checklist: stacks, SSM reachability, alarms, health, releases
  iam-audit                instance and deploy roles: no admin or wildcard actions, exact OIDC subjects
  outputs                  the deployed stacks' outputs
  stacks                   the environment's stack names, one per line (for cdk deploy in pipelines)
  smoke [--url U]          the smoke checks against the public URL (ops smoke --help)
  logs [--since 15m] [--follow] [--grep T]   the environment's CloudWatch logs (ops logs --help)

options: --json  print JSON`;

/** Parses argv (without `node script`); throws an Error whose message is the usage problem. */
export function parseArgs(argv: readonly string[], configuredEnvs: readonly string[]): OpsArgs {
  const [command, ...args] = argv;
  const known: readonly string[] = [...HOST_COMMANDS, ...REPORT_COMMANDS];
  if (!command || command === '--help' || command === '-h') throw new Error(USAGE);
  if (!known.includes(command)) throw new Error(`unknown command "${command}"\n\n${USAGE}`);

  // smoke and logs parse their own options (their modules keep options and help together).
  const own = command === 'smoke' ? parseSmokeArgs(args) : command === 'logs' ? parseLogsArgs(args) : { rest: args };
  const rest = own.rest;
  let env: string | undefined;
  let ref: string | undefined;
  const flags = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--env' || arg === '--ref') {
      const value = rest[++i];
      if (!value || value.startsWith('--')) throw new Error(`${arg} needs a value`);
      if (arg === '--env') env = value;
      else ref = value;
    } else if (['--dry-run', '--apply', '--json'].includes(arg)) {
      flags.add(arg);
    } else {
      throw new Error(`unknown option "${arg}" for ${command}`);
    }
  }

  const isHost = (HOST_COMMANDS as readonly string[]).includes(command) || command === 'smoke' || command === 'logs';
  if (env === undefined && isHost) throw new Error(`${command} needs --env (one of ${configuredEnvs.join(', ')}, or all)`);
  const envs = env === undefined || env === 'all' ? [...configuredEnvs] : [env];
  for (const name of envs) {
    if (!configuredEnvs.includes(name)) throw new Error(`unknown environment "${name}" (configured: ${configuredEnvs.join(', ')})`);
  }
  if (ref !== undefined && command !== 'deploy') throw new Error('--ref only applies to deploy');
  // The deploy document's own allowedPattern: refuse here what SSM would refuse there.
  if (ref !== undefined && gitRefProblem(ref)) throw new Error(`--ref ${gitRefProblem(ref)}`);
  if (command === 'deploy' && envs.length > 1) throw new Error('deploy one environment at a time: --env <name>');

  if (command === 'logs' && envs.length > 1) throw new Error('logs reads one environment at a time: --env <name>');

  return {
    command: command as OpsCommand,
    envs,
    ref,
    dryRun: flags.has('--dry-run'),
    apply: flags.has('--apply'),
    json: flags.has('--json'),
    ...('smoke' in own ? { smoke: own.smoke } : {}),
    ...('logs' in own ? { logs: own.logs } : {}),
  };
}
