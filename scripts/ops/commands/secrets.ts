import type { PutParameterCommandInput } from '@aws-sdk/client-ssm';
import { type OptionSpecs, parseCommandLine } from '../../../lib/cli/command-line';
import type { ProjectConfig } from '../../../lib/config';
import { declaredSecretNames, SECRET_NAME_PATTERN, secretsPath } from '../../../lib/config/schema/secrets';

/*
 * `ops secrets list|set|check` and the pieces `ops rotate` shares with it: argument parsing (values
 * never on argv), the parameter names, the PutParameter input, random keys. Pure: no I/O here.
 */

export const SECRETS_USAGE = `usage: ops secrets <list|set NAME|check> --env <name> [options]

The app's secrets live in SSM Parameter Store (SecureString) under the environment's path
(default /<app>/<env>/); config/environments.yaml (app.secrets) declares the names.
  list                 names, version, last changed and by whom (never values); missing required ones
  set NAME             write a new version of NAME; the value comes from stdin, or:
    --from-file FILE   read it from FILE (one line; a trailing newline is dropped)
    --generate LENGTH  generate a random key of LENGTH characters (A-Z a-z 0-9 - _), 16 to 4096
  check                every required name present; the running release on the newest versions

Values are never accepted on the command line (they would land in shell history and ps).
A new value reaches the host at its next deploy; to restart with it now use ops rotate.
options: --json  print JSON`;

/** How the value of `set` or `rotate` is supplied. */
export type ValueSource =
  | { readonly kind: 'stdin' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'generate'; readonly length: number };

export interface SecretsArgs {
  readonly command: 'secrets';
  readonly action: 'list' | 'set' | 'check';
  readonly env: string;
  /** `set NAME`. */
  readonly name?: string;
  readonly source?: ValueSource;
  readonly json: boolean;
}

/** Options shared by `secrets` and `rotate`, in util.parseArgs's shape (for the per-command table). */
export const VALUE_OPTIONS = {
  env: { type: 'string' },
  'from-file': { type: 'string' },
  generate: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const MIN_GENERATED = 16;
const MAX_GENERATED = 4096;

/** Values on argv: `NAME=value` or a second positional. One line naming the problem, no echo of the value. */
function refuseValueOnArgv(what: string): never {
  throw new Error(
    `${what}: a secret value on the command line would land in shell history and ps; pipe it on stdin, or use --from-file FILE or --generate LENGTH`,
  );
}

/** Checks NAME against the config's declared names; the error lists them. */
export function requireDeclared(config: ProjectConfig, name: string | undefined, command: string): string {
  const declared = declaredSecretNames(config.app.secrets);
  if (name === undefined) throw new Error(`${command} needs a secret NAME (declared: ${declared.join(', ') || 'none'})`);
  if (name.includes('=')) refuseValueOnArgv(`${command} ${name.split('=')[0]}=...`);
  if (!new RegExp(SECRET_NAME_PATTERN).test(name) || !declared.includes(name)) {
    throw new Error(`unknown secret "${name}" (declared in app.secrets: ${declared.join(', ') || 'none'}); add it to config/environments.yaml first`);
  }
  return name;
}

/** The value source from `--from-file` / `--generate` (stdin when neither). */
export function valueSource(fromFile: string | undefined, generate: string | undefined): ValueSource {
  if (fromFile !== undefined && generate !== undefined) throw new Error('give either --from-file or --generate, not both');
  if (fromFile !== undefined) return { kind: 'file', path: fromFile };
  if (generate !== undefined) {
    const length = Number(generate);
    if (!/^\d+$/.test(generate) || length < MIN_GENERATED || length > MAX_GENERATED) {
      throw new Error(`--generate "${generate}" is not a length from ${MIN_GENERATED} to ${MAX_GENERATED}`);
    }
    return { kind: 'generate', length };
  }
  return { kind: 'stdin' };
}

/** Options and positionals on the CLI's util.parseArgs layer: one line for unknown, valueless or repeated flags. */
export function scanOptions(argv: readonly string[], known: Readonly<Record<string, { type: 'string' | 'boolean' }>>, command: string) {
  const options: OptionSpecs = {};
  for (const [name, option] of Object.entries(known)) options[name] = { type: option.type };
  // Positionals are checked by the callers, which name what they expected (and refuse a value on argv).
  return parseCommandLine(argv, { name: `ops ${command}`, options, maxPositionals: 16 });
}

/** `ops secrets ...` argv (after `secrets`) to arguments; throws one-line Errors before any AWS call. */
export function parseSecretsArgs(argv: readonly string[], config: ProjectConfig): SecretsArgs {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) throw new Error(SECRETS_USAGE);
  const { values, positionals } = scanOptions(argv, VALUE_OPTIONS, 'secrets');
  const [action, name, extra] = positionals;
  if (action !== 'list' && action !== 'set' && action !== 'check')
    throw new Error(`unknown secrets action "${action ?? ''}" (list, set NAME or check)\n\n${SECRETS_USAGE}`);
  const envs = Object.keys(config.environments);
  const env = values.env as string | undefined;
  if (env === undefined) throw new Error(`secrets ${action} needs --env (one of ${envs.join(', ')})`);
  if (!envs.includes(env)) throw new Error(`unknown environment "${env}" (configured: ${envs.join(', ')})`);
  const json = values.json === true;
  if (action !== 'set') {
    if (name !== undefined || values['from-file'] !== undefined || values.generate !== undefined)
      throw new Error(`secrets ${action} takes only --env and --json`);
    return { command: 'secrets', action, env, json };
  }
  if (extra !== undefined) refuseValueOnArgv(`secrets set ${name}`);
  const declared = requireDeclared(config, name, 'secrets set');
  return {
    command: 'secrets',
    action,
    env,
    name: declared,
    source: valueSource(values['from-file'] as string | undefined, values.generate as string | undefined),
    json,
  };
}

/** The parameter holding NAME in an environment: `<path><NAME>`. */
export function parameterName(config: ProjectConfig, env: string, name: string): string {
  return `${secretsPath(config.app.name, env, config.environments[env].secrets)}${name}`;
}

/** A new version of a secret: a standard-tier SecureString (free; encrypted with the AWS-managed aws/ssm key). */
export function putSecretInput(parameter: string, value: string): PutParameterCommandInput {
  return { Name: parameter, Value: value, Type: 'SecureString', Overwrite: true, Tier: 'Standard' };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A random key of `length` URL- and env-file-safe characters; `random` is crypto.randomBytes. */
export function generateSecret(length: number, random: (size: number) => Buffer): string {
  // 64 symbols: each byte's low 6 bits pick one with no modulo bias.
  return [...random(length)].map((byte) => ALPHABET[byte & 63]).join('');
}

/**
 * A value read from stdin or a file: one line. A trailing newline (from `echo` or an editor) is
 * dropped; an empty value or one with a line break inside is refused, since the env file cannot carry it.
 */
export function cleanValue(raw: string, from: string): string {
  const value = raw.replace(/\r?\n$/, '');
  if (value.length === 0) throw new Error(`the value read from ${from} is empty`);
  if (/[\r\n\0]/.test(value)) throw new Error(`the value read from ${from} has a line break or NUL inside; an env file holds one line per secret`);
  return value;
}

/** One declared secret as `list` shows it. */
export interface SecretRow {
  readonly name: string;
  readonly required: boolean;
  readonly version?: number;
  readonly lastModified?: string;
  readonly lastModifiedBy?: string;
  /** Version the running release was started with (from the host), when known. */
  readonly running?: number;
}

/** Parameter metadata as DescribeParameters returns it (no values). */
export interface ParameterFact {
  readonly name: string;
  readonly version: number;
  readonly lastModified?: Date;
  readonly lastModifiedBy?: string;
}

/** The declared secrets of an environment joined with the store's metadata and the host's versions. */
export function secretRows(config: ProjectConfig, env: string, facts: readonly ParameterFact[], running?: Readonly<Record<string, number>>): SecretRow[] {
  const path = secretsPath(config.app.name, env, config.environments[env].secrets);
  const byName = new Map(facts.filter((f) => f.name.startsWith(path)).map((f) => [f.name.slice(path.length), f]));
  return declaredSecretNames(config.app.secrets).map((name) => {
    const fact = byName.get(name);
    return {
      name,
      required: config.app.secrets.required.includes(name),
      ...(fact ? { version: fact.version, lastModified: fact.lastModified?.toISOString(), lastModifiedBy: fact.lastModifiedBy } : {}),
      ...(running?.[name] !== undefined ? { running: running[name] } : {}),
    };
  });
}

/** `check`: required names missing from the store, and names the running release has an older version of. */
export function secretProblems(rows: readonly SecretRow[], hostKnown: boolean): string[] {
  const problems: string[] = [];
  for (const row of rows) {
    if (row.version === undefined) {
      if (row.required) problems.push(`${row.name}: required but not in Parameter Store; set it with: npm run ops -- secrets set ${row.name} --env <env>`);
      continue;
    }
    if (hostKnown && row.running !== row.version) {
      problems.push(
        `${row.name}: the running release was started with ${row.running === undefined ? 'no' : `version ${row.running}`}, the store has version ${row.version}; deploy or ops rotate to apply it`,
      );
    }
  }
  if (!hostKnown) problems.push('the host did not report the versions it runs with (no deploy rendered the env file yet, or the instance is unreachable)');
  return problems;
}

/** Text for `list` / `check`. */
export function formatRows(env: string, rows: readonly SecretRow[]): string {
  const lines = [`[${env}] ${'NAME'.padEnd(28)} ${'REQ'.padEnd(4)} ${'VERSION'.padEnd(8)} ${'RUNNING'.padEnd(8)} ${'LAST CHANGED'.padEnd(25)} BY`];
  for (const row of rows) {
    lines.push(
      `[${env}] ${row.name.padEnd(28)} ${(row.required ? 'yes' : 'no').padEnd(4)} ${String(row.version ?? 'MISSING').padEnd(8)} ${String(row.running ?? '-').padEnd(8)} ${(row.lastModified ?? '-').padEnd(25)} ${row.lastModifiedBy ?? '-'}`,
    );
  }
  return lines.join('\n');
}
