import { type OptionSpecs, parseCommandLine, UsageError } from '../../../lib/cli/command-line';
import { gitRefProblem } from '../../../lib/config/git-ref';
import type { HostOperation } from '../../../lib/host-runtime/document-spec';
import { RESTORE_BACKUP_PATTERN } from '../../../lib/host-runtime/restore';
import { type LogsArgs, parseDuration } from './logs';
import { SMOKE_DETAILS, type SmokeArgs, smokeBaseUrl } from './smoke';

/*
 * The ops command line: each command is one entry of `COMMANDS` with its own options and help
 * text, parsed by Node's util.parseArgs (lib/cli/command-line.ts). A flag of another command is an
 * unknown option here, and every mistake is one line and exit 2, before any AWS client exists.
 * Adding a command: one entry below, and its case in ops.ts.
 */

/** How a command treats `--env`. */
export type EnvPolicy =
  /** Required, one environment: changes one host at a time. */
  | 'one'
  /** Required, one environment or `all`. */
  | 'one-or-all'
  /** Optional, one or `all`; absent means every environment. */
  | 'any';

export interface CommandSpec {
  /** One line for `ops --help`. */
  readonly summary: string;
  /** Runs a host document through SSM (`host`) or reads AWS and reports (`report`). */
  readonly kind: 'host' | 'report';
  readonly env: EnvPolicy;
  /** More lines for `ops <command> --help`, after the summary. @default - the summary only */
  readonly details?: string;
  /** The command's own options besides --env, --json and --help, each with its help text. */
  readonly options: Readonly<
    Record<
      string,
      {
        readonly type: 'string' | 'boolean';
        readonly help: string;
        readonly valueName?: string /** The command refuses to run without it. @default false */;
        readonly required?: boolean;
      }
    >
  >;
}

export const COMMANDS = {
  deploy: {
    summary: 'check out the ref, restart compose, wait for health; roll back on failure',
    kind: 'host',
    env: 'one',
    options: { ref: { type: 'string', valueName: 'git-ref', help: "branch, tag or commit to deploy (default: the environment's gitRef)" } },
  },
  rollback: { summary: 'return to the previous good release (no git fetch needed)', kind: 'host', env: 'one', options: {} },
  status: { summary: 'current and previous releases, health, containers', kind: 'host', env: 'one-or-all', options: {} },
  backup: { summary: 'pg_dump + Redis AOF to the backups bucket', kind: 'host', env: 'one-or-all', options: {} },
  'restore-drill': {
    summary: 'restore the newest backup into a throwaway cluster, compare recorded row counts, report RTO/RPO',
    kind: 'host',
    env: 'one-or-all',
    options: {},
  },
  tls: {
    summary: 'issue or renew the certificate and switch nginx to HTTPS when it exists',
    kind: 'host',
    env: 'one-or-all',
    options: { 'dry-run': { type: 'boolean', help: 'ask certbot to test renewal without changing anything' } },
  },
  restore: {
    summary: 'restore a backup into the LIVE database: safety backup first, health gate, RTO/RPO audited',
    kind: 'host',
    env: 'one',
    options: {
      backup: {
        type: 'string',
        required: true,
        valueName: 'key|latest',
        help: 'a key such as <env>/<app>-<env>-20261125T150000Z.tar.gz, or latest (ops status shows the newest)',
      },
      confirm: {
        type: 'string',
        required: true,
        valueName: 'env',
        help: 'the environment name again: without it nothing is sent to AWS (not with --resume, which restores nothing)',
      },
      resume: {
        type: 'boolean',
        help: 'after an interrupted restore (ops status says so): start the app again on the database as it is, and say which state that is; restores nothing, takes no --backup',
      },
    },
  },
  firewall: {
    summary: 'print the host firewall rules (ufw or nftables)',
    kind: 'host',
    env: 'one-or-all',
    options: { apply: { type: 'boolean', help: 'apply 80/443-only inbound instead of printing the rules' } },
  },
  validate: { summary: 'the operator checklist: stacks, SSM reachability, alarms, health, releases', kind: 'report', env: 'any', options: {} },
  'iam-audit': {
    summary: 'every role of the environment: no admin or wildcard actions, exact OIDC subjects, and no reach into another environment (IAM policy evaluator)',
    kind: 'report',
    env: 'any',
    options: {},
  },
  outputs: { summary: "the deployed stacks' outputs", kind: 'report', env: 'any', options: {} },
  stacks: { summary: "the environment's stack names, one per line (for cdk deploy in pipelines)", kind: 'report', env: 'any', options: {} },
  'replace-host': {
    summary: "replace the environment's host on purpose (instance refresh) and report the measured outage",
    details:
      'The old instance stops cleanly (its lifecycle hook detaches the data volume), then a new one boots from the launch template (the newest AMI), attaches the volume, takes the address and starts the app. The outage runs from the old instance leaving service to the first passing public health check.',
    kind: 'report',
    env: 'one',
    options: {},
  },
  plan: {
    summary: 'change sets of the cloud assembly against what is deployed: replacements, data at risk, security, cost; deleted, never executed',
    details:
      'Creates one CloudFormation change set per stack of the environment (data, host, health) from the assembly,\nreads it (Replacement True or Conditional, with what causes it), deletes it, and prints the same sections as\nthe pull-request review. Templates over 51,200 bytes are put in the staging bucket under ops-plan/ and removed.\nExit codes: 0 planned; 1 a change set could not be made or read (the reason is printed).',
    kind: 'report',
    env: 'one',
    options: {
      assembly: { type: 'string', valueName: 'dir', help: 'the cloud assembly to plan (default: cdk.out, as npm run synth writes it)' },
    },
  },
  smoke: {
    summary: 'the smoke checks (health, GraphQL, invalid login, login -> token -> reads) against the public URL',
    details: SMOKE_DETAILS,
    kind: 'report',
    env: 'one-or-all',
    options: { url: { type: 'string', valueName: 'base-url', help: 'run against another base URL (e.g. http://127.0.0.1:3001 through a tunnel)' } },
  },
  logs: {
    summary: "the environment's CloudWatch logs (containers, system and host command output), oldest first, progress on stderr",
    kind: 'report',
    env: 'one',
    options: {
      since: { type: 'string', valueName: '15m|2h|1d', help: 'how far back to start (default 15m)' },
      follow: { type: 'boolean', help: 'keep polling for new events every 5 s (stop with Ctrl-C)' },
      grep: { type: 'string', valueName: 'text', help: 'only events containing this text (a CloudWatch filter pattern term)' },
    },
  },
} as const satisfies Record<string, CommandSpec>;

export type OpsCommand = keyof typeof COMMANDS;

/** Commands that run a host document through SSM. */
export const HOST_COMMANDS = (Object.keys(COMMANDS) as OpsCommand[]).filter((c) => COMMANDS[c].kind === 'host') as (OpsCommand & HostOperation)[];
/** Commands that read AWS and report. */
export const REPORT_COMMANDS = (Object.keys(COMMANDS) as OpsCommand[]).filter((c) => COMMANDS[c].kind === 'report');

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
  /** `restore --backup <key|latest>` (see ./restore.ts). */
  readonly backup?: string;
  /** `restore --confirm <env>`: must equal the environment. */
  readonly confirm?: string;
  /** `restore --resume`: start the app again after an interrupted restore (no backup, no confirmation needed). */
  readonly resume?: boolean;
  /** `smoke`'s own options (commands/smoke.ts). */
  readonly smoke?: SmokeArgs;
  /** `logs`'s own options (commands/logs.ts). */
  readonly logs?: LogsArgs;
  /** `plan --assembly <dir>`. @default cdk.out */
  readonly assembly?: string;
}

const COMMON_OPTIONS: CommandSpec['options'] = {
  json: { type: 'boolean', help: 'print JSON instead of text' },
  help: { type: 'boolean', help: 'print this help' },
};

function envUsage(policy: EnvPolicy): string {
  return policy === 'one' ? '--env <name>' : policy === 'one-or-all' ? '--env <name|all>' : '[--env <name|all>]';
}

function optionUsage(name: string, o: CommandSpec['options'][string]): string {
  return `--${name}${o.type === 'string' ? ` <${o.valueName ?? 'value'}>` : ''}`;
}

/** An option in a usage line: bare when the command needs it, in brackets when it may be left out. */
function optionInUsage(name: string, o: CommandSpec['options'][string]): string {
  return o.required ? ` ${optionUsage(name, o)}` : ` [${optionUsage(name, o)}]`;
}

function specOf(command: OpsCommand): CommandSpec {
  return COMMANDS[command];
}

/** `ops --help`. */
export const USAGE = (() => {
  const line = (c: OpsCommand) => {
    const own = Object.entries(specOf(c).options)
      .map(([n, o]) => optionInUsage(n, o))
      .join('');
    const usage = `${c}${own}`;
    return `  ${usage.padEnd(26)}${usage.length >= 26 ? '\n                             ' : ' '}${specOf(c).summary}`;
  };
  const commands = Object.keys(COMMANDS) as OpsCommand[];
  return `usage: ops <command> --env <name|all> [options]      (ops <command> --help for a command's options)

host commands (run a reviewed SSM document on the environment's instance):
${HOST_COMMANDS.map(line).join('\n')}

secrets (values in SSM Parameter Store, never on the command line; ops secrets --help, ops rotate --help):
  secrets list|set NAME|check   names, versions and who changed them; write a new version; check the host uses the newest
  rotate NAME                   rotate one secret with backup, re-encryption hook, restart, health gate and automatic rollback

reports (read AWS, or the app's public URL, and print; --env as ops <command> --help says):
${commands
  .filter((c) => specOf(c).kind === 'report')
  .map(line)
  .join('\n')}

options of every command: --env <name|all>, --json, --help`;
})();

/** `ops <command> --help`. */
export function commandUsage(command: OpsCommand): string {
  const spec = specOf(command);
  const options = { ...spec.options, ...COMMON_OPTIONS };
  const rows: [string, string][] = [
    [
      spec.env === 'one' ? '--env <name>' : '--env <name|all>',
      spec.env === 'one'
        ? '(required) the environment, one at a time'
        : spec.env === 'one-or-all'
          ? '(required) the environment, or all'
          : 'the environment, or all (default: all)',
    ],
    ...Object.entries(options).map(([name, o]): [string, string] => [optionUsage(name, o), `${'required' in o && o.required ? '(required) ' : ''}${o.help}`]),
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 1;
  const lines = rows.map(([flag, help]) => `  ${flag.padEnd(width)} ${help}`);
  return `usage: ops ${command} ${envUsage(spec.env)}${Object.entries(spec.options)
    .map(([n, o]) => optionInUsage(n, o))
    .join('')}\n\n${spec.summary}${spec.details ? `\n\n${spec.details}` : ''}\n\noptions:\n${lines.join('\n')}`;
}

function isCommand(name: string | undefined): name is OpsCommand {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}

/**
 * The help text `argv` asks for (`--help`/`-h` alone, or after a command), or `undefined`.
 * Needs no config: help works on a machine without one.
 */
export function helpRequested(argv: readonly string[]): string | undefined {
  if (!argv.some((a) => a === '--help' || a === '-h')) return undefined;
  return isCommand(argv[0]) ? commandUsage(argv[0]) : USAGE;
}

function optionSpecs(spec: CommandSpec): OptionSpecs {
  const specs: OptionSpecs = { env: { type: 'string' } };
  for (const [name, o] of Object.entries({ ...spec.options, ...COMMON_OPTIONS })) specs[name] = { type: o.type };
  specs.help.short = 'h';
  return specs;
}

/**
 * Parses argv (without `node script`) against the command's declared options and the configured
 * environments. Throws `UsageError` with one line naming the command and the flag.
 */
export function parseArgs(argv: readonly string[], configuredEnvs: readonly string[]): OpsArgs {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('ops: no command given (ops --help lists them)');
  if (!isCommand(command)) throw new UsageError(`ops: unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')}; ops --help)`);
  const spec = specOf(command);
  const name = `ops ${command}`;
  const { values } = parseCommandLine(rest, { name, options: optionSpecs(spec) });

  const env = values.env as string | undefined;
  const choices = spec.env === 'one' ? configuredEnvs.join(', ') : `${configuredEnvs.join(', ')}, or all`;
  if (env === undefined && spec.env !== 'any') throw new UsageError(`${name}: needs --env (one of ${choices})`);
  if (env === 'all' && spec.env === 'one') throw new UsageError(`${name}: one environment at a time: --env <${configuredEnvs.join('|')}>, not all`);
  if (env !== undefined && env !== 'all' && !configuredEnvs.includes(env))
    throw new UsageError(`${name}: unknown environment "${env}" for --env (one of ${choices})`);
  const envs = env === undefined || env === 'all' ? [...configuredEnvs] : [env];

  const ref = values.ref as string | undefined;
  // The one git-ref grammar (lib/config/git-ref), as the deploy document's allowedPattern and deploy.sh check it.
  const refProblem = ref === undefined ? undefined : gitRefProblem(ref);
  if (refProblem !== undefined) throw new UsageError(`${name}: --ref ${refProblem}`);

  const backup = values.backup as string | undefined;
  const confirm = values.confirm as string | undefined;
  const resume = values.resume === true;
  if (command === 'restore' && resume) {
    // Nothing is restored: the app is started again on the database as it is.
    if (backup !== undefined) throw new UsageError(`${name}: --resume restores nothing: give it without --backup`);
  } else if (command === 'restore') {
    const [target] = envs;
    if (backup === undefined)
      throw new UsageError(`${name}: needs --backup <key|latest> (ops status shows the newest backup), or --resume after an interrupted restore`);
    if (!new RegExp(RESTORE_BACKUP_PATTERN).test(backup))
      throw new UsageError(`${name}: --backup "${backup}" is neither latest nor a backup key such as ${target}/<app>-${target}-20261125T150000Z.tar.gz`);
    // The live database is replaced: the environment's name typed twice, checked before any AWS call.
    if (confirm !== target)
      throw new UsageError(
        `${name}: restore replaces the live ${target} database: repeat the environment name with --confirm ${target}${confirm ? ` (got "${confirm}")` : ''}; nothing was sent`,
      );
  }

  // smoke and logs: their values checked here, with the rest of the command line, before any AWS client.
  const url = values.url as string | undefined;
  const smoke = command === 'smoke' ? { url: url === undefined ? undefined : smokeBaseUrl(url, name) } : undefined;
  const since = values.since as string | undefined;
  const logs =
    command === 'logs'
      ? {
          sinceMs: since === undefined ? 15 * 60_000 : parseDuration(since, name),
          follow: values.follow === true,
          ...(values.grep === undefined ? {} : { grep: values.grep as string }),
        }
      : undefined;

  return {
    command,
    envs,
    ref,
    dryRun: values['dry-run'] === true,
    apply: values.apply === true,
    json: values.json === true,
    backup,
    confirm,
    ...(resume ? { resume } : {}),
    ...(smoke ? { smoke } : {}),
    ...(logs ? { logs } : {}),
    ...(command === 'plan' ? { assembly: (values.assembly as string | undefined) ?? 'cdk.out' } : {}),
  };
}
