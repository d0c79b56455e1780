import type { SmokeJsonAssertion, SmokePlan, SmokeRequest } from './plan';

/*
 * The TypeScript runner of a smoke plan (`ops smoke`, the smoke-prod workflow, the benchmark). The
 * host runs the same plan with scripts/host/smoke.py (through smoke.sh); both print the same lines:
 * test/smoke/smoke-parity.test.ts runs one table of cases through both and compares them line by
 * line, so a change here needs the same change there. Secret values and the token are sent, never
 * printed: every line passes through `redact` first.
 */

/** How a runner finds a secret's value by name (the caller's environment, an env file). */
export type SecretLookup = (name: string) => string | undefined;

export interface SmokeOptions {
  /** @default fetch */
  readonly fetchImpl?: typeof fetch;
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
}

export interface SmokeReport {
  readonly ok: boolean;
  /** One line per step, then the summary; identical to smoke.py's. */
  readonly lines: readonly string[];
}

/** True when `status` matches `200` or a class like `4xx`. */
export function statusMatches(expected: string, status: number): boolean {
  return /^[1-5]xx$/.test(expected) ? Math.floor(status / 100) === Number(expected[0]) : Number(expected) === status;
}

/** The value at a dotted path (`errors.0.code`), or `undefined` when any step is missing. */
export function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const part of path.split('.')) {
    if (Array.isArray(node) && /^\d+$/.test(part)) node = node[Number(part)];
    else if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, part)) node = (node as Record<string, unknown>)[part];
    else return undefined;
  }
  return node;
}

/** Why an answer fails the assertions, or undefined when it passes (same wording as smoke.py). */
export function assertionProblem(body: string, assertions: readonly SmokeJsonAssertion[]): string | undefined {
  if (assertions.length === 0) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  for (const a of assertions) {
    const value = valueAt(json, a.path);
    const shown = value === undefined ? 'absent' : JSON.stringify(value);
    if (a.exists === false && value !== undefined) return `${a.path} is ${shown}, expected absent`;
    if ((a.exists === true || a.equals !== undefined) && value === undefined) return `${a.path} is absent`;
    if (a.equals !== undefined && JSON.stringify(value) !== JSON.stringify(a.equals)) return `${a.path} is ${shown}, expected ${JSON.stringify(a.equals)}`;
    if (a.notEquals !== undefined && JSON.stringify(value) === JSON.stringify(a.notEquals)) return `${a.path} is ${shown}, which it must not be`;
  }
  return undefined;
}

/**
 * Why a request got no answer, as the system names it: the error code (ECONNREFUSED, ENOTFOUND,
 * ECONNRESET, a TLS code such as ERR_SSL_WRONG_VERSION_NUMBER or DEPTH_ZERO_SELF_SIGNED_CERT) or,
 * for a timeout, TimeoutError. fetch reports every one of them as `TypeError: fetch failed`; the
 * code is in its cause, and for a host with several addresses (localhost: ::1 and 127.0.0.1) in the
 * first of the cause's errors. A cause without a code says why in words (undici's "bad port").
 * scripts/host/smoke.py prints the same words for the same failures (test/smoke/smoke-parity.test.ts).
 */
export function noAnswerReason(error: unknown): string {
  const { name, cause } = error as { name?: string; cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
  if (name === 'TimeoutError' || name === 'AbortError') return 'TimeoutError';
  const code = cause?.code ?? cause?.errors?.find((e) => e.code)?.code;
  return code ?? cause?.message ?? name ?? 'unknown error';
}

/** Runs `plan` against `baseUrl` (no trailing slash needed). Never throws for a failing app. */
export async function runSmoke(plan: SmokePlan, baseUrl: string, secretOf: SecretLookup, options: SmokeOptions = {}): Promise<SmokeReport> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const base = baseUrl.replace(/\/+$/, '');
  const hidden: string[] = [];
  const redact = (line: string) => hidden.reduce((text, value) => (value ? text.split(value).join('[redacted]') : text), line);
  const lines: string[] = [];
  let failed = 0;
  const fail = (line: string) => {
    failed++;
    lines.push(redact(`FAIL ${line}`));
  };

  async function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string } | string> {
    try {
      const response = await fetchImpl(`${base}${path}`, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      return { status: response.status, text: method === 'HEAD' ? '' : await response.text() };
    } catch (error) {
      return `no answer (${noAnswerReason(error)})`;
    }
  }

  let token: string | undefined;
  let loginFailed = false;
  if (plan.login) {
    const login = plan.login;
    const values: Record<string, string> = { ...login.fields };
    const missing = Object.values(login.credentials).filter((name) => !secretOf(name));
    if (missing.length > 0) {
      fail(`login: secret ${missing.join(', ')} is not set`);
      loginFailed = true;
    } else {
      for (const [field, name] of Object.entries(login.credentials)) {
        values[field] = secretOf(name) as string;
        hidden.push(values[field]);
      }
      const body = login.encoding === 'form' ? new URLSearchParams(values).toString() : JSON.stringify(values);
      const contentType = login.encoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
      const answer = await send(login.method, login.path, { 'Content-Type': contentType }, body);
      const what = `login: ${login.method} ${login.path}`;
      if (typeof answer === 'string') fail(`${what} -> ${answer}`);
      else if (!statusMatches(login.expectStatus, answer.status)) fail(`${what} -> ${answer.status}: expected ${login.expectStatus}`);
      else {
        let captured: unknown;
        try {
          captured = valueAt(JSON.parse(answer.text), login.tokenPath);
        } catch {
          captured = undefined;
        }
        if (typeof captured !== 'string' || captured === '') fail(`${what} -> ${answer.status}: no token at ${login.tokenPath}`);
        else {
          token = captured;
          hidden.push(token);
          lines.push(`ok   ${what} -> ${answer.status} (token captured)`);
        }
      }
      loginFailed = token === undefined;
    }
  }

  for (const check of plan.checks) await runCheck(check);

  async function runCheck(check: SmokeRequest): Promise<void> {
    const what = `${check.name}: ${check.method} ${check.path}`;
    if (check.auth && (loginFailed || token === undefined)) {
      fail(`${what} -> skipped: the login step failed`);
      return;
    }
    const headers: Record<string, string> = { ...check.headers };
    if (check.auth) headers.Authorization = `Bearer ${token}`;
    const answer = await send(check.method, check.path, headers, check.body);
    if (typeof answer === 'string') return fail(`${what} -> ${answer}`);
    if (!statusMatches(check.expectStatus, answer.status)) return fail(`${what} -> ${answer.status}: expected ${check.expectStatus}`);
    const problem = assertionProblem(answer.text, check.json);
    if (problem) return fail(`${what} -> ${answer.status}: ${problem}`);
    lines.push(redact(`ok   ${what} -> ${answer.status}`));
  }

  const total = plan.checks.length + (plan.login ? 1 : 0);
  lines.push(`smoke: ${total - failed} passed, ${failed} failed (${base})`);
  return { ok: failed === 0, lines };
}
