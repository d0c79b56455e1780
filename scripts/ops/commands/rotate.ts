import type { ProjectConfig } from '../../../lib/config';
import { parseResponseCheck, type ResponseCheck } from '../../../lib/config/schema/secrets';
import { requireDeclared, scanOptions, VALUE_OPTIONS, type ValueSource, valueSource } from './secrets';

/*
 * `ops rotate NAME --env E`: the runbook's controlled key change as one command. Pure pieces:
 * argument parsing, the re-encryption request, the response checks. The sequence runs in
 * scripts/ops/rotation.ts.
 */

export const ROTATE_USAGE = `usage: ops rotate NAME --env <name> [options]

Rotates one secret of the environment, with the runbook's safety net:
  1. preconditions: a backup younger than app.secrets.maxBackupAgeHours (else one is taken now),
     --change-window ID where the environment requires it, confirmation for session keys
  2. re-encryption hook when app.secrets.reencrypt declares one: dry run, checks, apply
  3. the new value is written as a new Parameter Store version
  4. the release restarts with it on the host (secrets document), then the health gate
  5. on any failure: the previous value goes back (new version), the release restarts and must be
     healthy again, and the command exits non-zero saying so
Each step is audited on the host: security.key_rotation.started/reencrypt/applied/rolled_back.

The new value comes from stdin, or:
  --from-file FILE       read it from FILE
  --generate LENGTH      generate a random key (16 to 4096 characters)
options:
  --change-window ID     the approved change (shown in the report)
  --token-file FILE      admin bearer token for the re-encryption endpoint
  --yes                  confirm a rotation that logs every user out (e.g. SECRET_KEY)
  --json                 print JSON`;

export const ROTATE_OPTIONS = {
  ...VALUE_OPTIONS,
  'change-window': { type: 'string' },
  'token-file': { type: 'string' },
  yes: { type: 'boolean' },
} as const;

export interface RotateArgs {
  readonly command: 'rotate';
  readonly env: string;
  readonly name: string;
  readonly source: ValueSource;
  readonly changeWindow?: string;
  readonly tokenFile?: string;
  /** `--yes`: the operator confirmed a session-invalidating rotation up front. */
  readonly confirmed: boolean;
  readonly json: boolean;
}

const CHANGE_WINDOW = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

/** `ops rotate ...` argv (after `rotate`); throws one-line Errors before any AWS call. */
export function parseRotateArgs(argv: readonly string[], config: ProjectConfig): RotateArgs {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) throw new Error(ROTATE_USAGE);
  const { values, positionals } = scanOptions(argv, ROTATE_OPTIONS, 'rotate');
  const [name, extra] = positionals;
  const declared = requireDeclared(config, name, 'rotate');
  if (extra !== undefined) {
    throw new Error(
      `rotate ${declared}: a secret value on the command line would land in shell history and ps; pipe it on stdin, or use --from-file FILE or --generate LENGTH`,
    );
  }
  const envs = Object.keys(config.environments);
  const env = values.env as string | undefined;
  if (env === undefined) throw new Error(`rotate needs --env (one of ${envs.join(', ')}); one environment at a time`);
  if (!envs.includes(env)) throw new Error(`unknown environment "${env}" (configured: ${envs.join(', ')})`);
  const changeWindow = values['change-window'] as string | undefined;
  if (changeWindow !== undefined && !CHANGE_WINDOW.test(changeWindow))
    throw new Error(`--change-window "${changeWindow}" is not a change id (letters, digits, . _ : / -)`);
  if (config.environments[env].secrets.requireChangeWindow && changeWindow === undefined) {
    throw new Error(`rotate in ${env} needs --change-window <id> (environments.${env}.secrets.requireChangeWindow): rotate only inside an approved window`);
  }
  const refusal = plainHttpRefusal(config, env, declared);
  if (refusal) throw new Error(refusal);
  return {
    command: 'rotate',
    env,
    name: declared,
    source: valueSource(values['from-file'] as string | undefined, values.generate as string | undefined),
    changeWindow,
    tokenFile: values['token-file'] as string | undefined,
    confirmed: values.yes === true,
    json: values.json === true,
  };
}

/**
 * Why a rotation must not start: its re-encryption hook would send the old and new keys (and the
 * admin token) to an environment served over plain HTTP, readable and changeable on every hop.
 * One line naming the environment and what to do; undefined when nothing secret would travel in
 * clear (no hook for this secret, or TLS on).
 */
export function plainHttpRefusal(config: ProjectConfig, env: string, name: string): string | undefined {
  const hook = config.app.secrets.reencrypt[name];
  const environment = config.environments[env];
  if (!hook || environment.tls) return undefined;
  return `rotate ${name} in ${env}: refused, nothing was changed: its re-encryption call would send the old and new key and the admin token over plain HTTP to http://${environment.domain}${hook.path} (environments.${env}.tls is false); turn TLS on for ${env} (environments.${env}.tls: true, deploy, then npm run ops -- tls --env ${env}) and rotate again`;
}

/** A field of a JSON answer by dotted path. */
function fieldOf(body: unknown, path: string): unknown {
  let value: unknown = body;
  for (const part of path.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

/** The checks a dry run's JSON answer fails, one line each (empty: all hold). Missing or non-numeric fields fail. */
export function failedChecks(checks: readonly string[], body: unknown): string[] {
  const failures: string[] = [];
  for (const text of checks) {
    const check = parseResponseCheck(text) as ResponseCheck;
    const left = fieldOf(body, check.field);
    const right = 'number' in check.right ? check.right.number : fieldOf(body, check.right.field);
    if (typeof left !== 'number' || typeof right !== 'number') {
      failures.push(`"${text}": ${typeof left !== 'number' ? check.field : (check.right as { field: string }).field} is not a number in the answer`);
      continue;
    }
    const holds = { '==': left === right, '!=': left !== right, '>=': left >= right, '<=': left <= right, '>': left > right, '<': left < right }[check.op];
    if (!holds) failures.push(`"${text}" does not hold (${check.field} = ${left}${'field' in check.right ? `, ${check.right.field} = ${right}` : ''})`);
  }
  return failures;
}

/** The re-encryption call: POST JSON with the old and new keys in the body (never in the URL). */
export function reencryptRequest(
  hook: ProjectConfig['app']['secrets']['reencrypt'][string],
  baseUrl: string,
  keys: { readonly oldKey: string; readonly newKey: string },
  dryRun: boolean,
  token?: string,
): { url: string; init: RequestInit } {
  return {
    url: `${baseUrl}${hook.path}`,
    init: {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ [hook.oldKeyField]: keys.oldKey, [hook.newKeyField]: keys.newKey, [hook.dryRunField]: dryRun }),
      redirect: 'error',
    },
  };
}

/** The warning shown (and confirmed) before rotating a session key. */
export function sessionWarning(name: string, env: string): string {
  return `Rotating ${name} in ${env} invalidates every session and token signed with it: all users are logged out.`;
}
