import type { AppConfig, NamedEnvironment } from '../config';

/*
 * The smoke plan: an environment's checks rendered once from config into plain data. The host
 * runner (scripts/host/smoke.py, run by smoke.sh, the plan shipped beside them as smoke.json) and
 * the ops CLI's runner (lib/smoke/run.ts) both execute this same plan, so they cannot disagree on
 * what a check is; test/smoke/smoke-parity.test.ts holds them to the same verdicts and lines.
 */

/** One assertion on a JSON answer. */
export interface SmokeJsonAssertion {
  readonly path: string;
  readonly equals?: string | number | boolean | null;
  readonly notEquals?: string | number | boolean | null;
  readonly exists?: boolean;
}

/** One request and what its answer must be. */
export interface SmokeRequest {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  /** Non-secret headers, Content-Type included when there is a body. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as sent. @default - none */
  readonly body?: string;
  /** Send the login token as a bearer token. */
  readonly auth: boolean;
  /** `200` or a class `4xx`. */
  readonly expectStatus: string;
  readonly json: readonly SmokeJsonAssertion[];
}

/** The login step: fields by name, each value from the secret of that name. */
export interface SmokeLogin {
  readonly method: string;
  readonly path: string;
  readonly encoding: 'json' | 'form';
  /** Field name → secret name (never a value). */
  readonly credentials: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, string>>;
  readonly tokenPath: string;
  readonly expectStatus: string;
}

export interface SmokePlan {
  readonly login?: SmokeLogin;
  readonly checks: readonly SmokeRequest[];
}

type CheckConfig = NonNullable<AppConfig['smoke']>['checks'][string];

function request(name: string, check: CheckConfig): SmokeRequest {
  const headers: Record<string, string> = { ...(check.headers ?? {}) };
  let body: string | undefined;
  if (typeof check.body === 'string') body = check.body;
  else if (check.body !== undefined) {
    body = JSON.stringify(check.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  return {
    name,
    method: check.method,
    path: check.path,
    headers,
    ...(body === undefined ? {} : { body }),
    auth: check.auth,
    expectStatus: String(check.expect.status),
    json: check.expect.json ?? [],
  };
}

/**
 * The environment's plan: the app's checks, with the environment's checks replacing them by name
 * (`false` drops one) and its login replacing the app's. Without `app.smoke`, one check: the
 * health path must answer 2xx (what deploys checked before smoke checks existed).
 */
export function smokePlan(app: AppConfig, env: NamedEnvironment): SmokePlan {
  const base = app.smoke ?? { checks: { health: { method: 'GET' as const, path: app.healthPath, auth: false, expect: { status: '2xx' as const } } } };
  const merged: Record<string, CheckConfig | false> = { ...base.checks, ...(env.smoke?.checks ?? {}) };
  const checks = Object.entries(merged).flatMap(([name, check]) => (check === false ? [] : [request(name, check)]));
  const login = env.smoke?.login ?? ('login' in base ? base.login : undefined);
  const problems = checks.filter((c) => c.auth && !login).map((c) => c.name);
  if (problems.length > 0) {
    // The schema cannot see the merge; the loader's caller reports this like a config error.
    throw new Error(`environments.${env.name}.smoke: checks ${problems.join(', ')} say auth: true but no login step is configured for ${env.name}`);
  }
  return {
    ...(login
      ? {
          login: {
            method: login.method,
            path: login.path,
            encoding: login.encoding,
            credentials: Object.fromEntries(Object.entries(login.credentials).map(([field, ref]) => [field, ref.secret])),
            fields: login.fields ?? {},
            tokenPath: login.tokenPath,
            expectStatus: String(login.expectStatus),
          },
        }
      : {}),
    checks,
  };
}

/** The secret names a plan reads (what the smoke-prod workflow must provide). */
export function smokeSecretNames(plan: SmokePlan): string[] {
  return [...new Set(Object.values(plan.login?.credentials ?? {}))].sort();
}

/** The environment's public base URL: what `ops smoke` and the host's smoke through nginx after a switch ask. */
export function publicBaseUrl(env: { readonly tls: boolean; readonly domain: string }): string {
  return `${env.tls ? 'https' : 'http'}://${env.domain}`;
}
