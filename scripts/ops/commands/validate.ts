import { type AppConfig, healthCheckPath, healthCheckProtocol, type NamedEnvironment } from '../../../lib/config';
import { environmentAlarmNames, stackNames } from '../../../lib/names';

/*
 * The runbook's "golden rule" checklist (`aws_validate_i16.py`) as a pure function over facts the
 * AWS edge gathers. Each check says what it looked at, whether it passed, and what to do if not.
 */

export interface AlarmFact {
  readonly name: string;
  /** OK, ALARM or INSUFFICIENT_DATA. */
  readonly state: string;
}

export interface HealthFact {
  readonly url: string;
  /** HTTP status, when the request got an answer. */
  readonly status?: number;
  /** Why the request failed, when it got no answer. */
  readonly error?: string;
}

/** What the host's `status` document (scripts/host/status.sh --json) printed: the subset the checklist reads. */
export interface HostStatusFact {
  readonly current?: { readonly ref?: string; readonly commit?: string } | null;
  readonly previous?: { readonly ref?: string; readonly commit?: string } | null;
  /** The app's health URL as seen from the host itself (no DNS, TLS or security group in between). */
  readonly health?: { readonly url?: string; readonly ok?: boolean; readonly httpStatus?: number | null };
  /** The checkout under /opt/<app>: does it still hold the recorded release? */
  readonly checkout?: { readonly matchesCurrent?: boolean | null; readonly clean?: boolean | null };
}

/** Everything the checklist looks at for one environment. */
export interface EnvironmentFacts {
  readonly env: string;
  /** Stack name → deployed or not. */
  readonly stacks: Readonly<Record<string, boolean>>;
  /** SSM agent ping status of the instance (Online, ConnectionLost, Inactive), when known. */
  readonly ssmPing?: string;
  readonly alarms: readonly AlarmFact[];
  readonly health: HealthFact;
  /** Parsed output of the host's status document; absent when it could not run. */
  readonly hostStatus?: HostStatusFact;
}

export interface CheckResult {
  readonly env: string;
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  /** What to do when the check fails. */
  readonly hint?: string;
  /** A failed advisory check is reported but does not fail the checklist. */
  readonly advisory: boolean;
  /** Nothing was looked at (e.g. GitHub settings without a token): printed SKIP, never PASS. @default false */
  readonly notChecked?: boolean;
}

export function evaluateChecklist(facts: EnvironmentFacts): CheckResult[] {
  const { env } = facts;
  const results: CheckResult[] = [];
  const push = (check: string, ok: boolean, detail: string, hint: string, advisory = false) =>
    results.push({ env, check, ok, detail, hint: ok ? undefined : hint, advisory });

  for (const [stack, deployed] of Object.entries(facts.stacks)) {
    push(`stack ${stack}`, deployed, deployed ? 'deployed' : 'not deployed', `npx cdk deploy ${stack}`);
  }

  push(
    'host reachable through SSM',
    facts.ssmPing === 'Online',
    facts.ssmPing ? `agent ${facts.ssmPing}` : 'instance unknown to SSM',
    'check the instance is running (dev stops outside working hours) and its role has AmazonSSMManagedInstanceCore',
  );

  const firing = facts.alarms.filter((a) => a.state === 'ALARM');
  push(
    'no alarm firing',
    firing.length === 0,
    firing.length === 0 ? `${facts.alarms.length} alarms, none in ALARM` : `in ALARM: ${firing.map((a) => a.name).join(', ')}`,
    'read the alarm, then `ops status`; roll back with `ops rollback` if a recent deploy broke it',
  );

  const healthOk = facts.health.status !== undefined && facts.health.status >= 200 && facts.health.status < 300;
  push(
    `health ${facts.health.url}`,
    healthOk,
    facts.health.status !== undefined ? `HTTP ${facts.health.status}` : `no answer: ${facts.health.error ?? 'unknown error'}`,
    'check `ops status` for container states; TLS problems: `ops tls --dry-run`',
  );

  const status = facts.hostStatus;
  push(
    'app healthy from the host itself',
    status?.health?.ok === true,
    status?.health ? `${status.health.url ?? 'health URL'}: ${status.health.httpStatus ?? 'no answer'}` : 'host status unavailable',
    'the containers are down or failing: `ops status` lists them; `ops rollback` returns to the previous release',
  );
  push(
    'checkout matches the recorded release',
    status?.checkout?.matchesCurrent === true && status.checkout.clean !== false,
    status?.checkout ? `matches: ${status.checkout.matchesCurrent}, clean: ${status.checkout.clean}` : 'host status unavailable',
    'someone changed /opt/<app> by hand; the next deploy will refuse until it is clean',
    true,
  );
  push(
    'release recorded on the host',
    Boolean(status?.current?.commit),
    status?.current?.commit
      ? `current ${status.current.ref ?? '?'} (${status.current.commit.slice(0, 12)})`
      : 'no release recorded (host status unavailable or never deployed)',
    '`ops deploy --ref <git-ref>`',
  );
  push(
    'rollback target available',
    Boolean(status?.previous?.commit),
    status?.previous?.commit
      ? `previous ${status.previous.ref ?? '?'} (${status.previous.commit.slice(0, 12)})`
      : 'no previous release: a rollback has nowhere to go',
    'deploy twice so a known-good previous release exists',
    true,
  );
  return results;
}

/** True when every required check passed (advisory failures are only reported). */
export function checklistPassed(results: readonly CheckResult[]): boolean {
  return results.every((r) => r.ok || r.advisory);
}

/** Human-readable checklist; failed lines carry their hint. */
export function formatChecklist(results: readonly CheckResult[]): string {
  const mark = (r: CheckResult) => (r.ok ? 'PASS' : r.notChecked ? 'SKIP' : r.advisory ? 'WARN' : 'FAIL');
  return results.map((r) => `${mark(r)}  [${r.env}] ${r.check}: ${r.detail}${r.hint ? `\n        -> ${r.hint}` : ''}`).join('\n');
}

/** The URL the Route53 health check requests: the configured protocol and path (lib/config/health-check.ts). */
export function healthUrl(app: AppConfig, environment: NamedEnvironment): string {
  return `${healthCheckProtocol(environment).toLowerCase()}://${environment.domain}${healthCheckPath(app, environment)}`;
}

/**
 * The alarms of one environment among an account's: its named alarms exactly, and the alarms
 * CloudFormation named after its own stacks (`<stack>-<logical id>-<suffix>`, e.g. the recovery alarm).
 * Never a substring match: `prod` is inside `preprod`.
 */
export function alarmsOfEnvironment<T extends { readonly name: string }>(alarms: readonly T[], app: string, env: string): T[] {
  const named = new Set(environmentAlarmNames(app, env));
  const stackPrefixes = [stackNames.host(app, env), stackNames.health(app, env), stackNames.data(app, env)].map((stack) => `${stack}-`);
  return alarms.filter((a) => named.has(a.name) || stackPrefixes.some((prefix) => a.name.startsWith(prefix)));
}
