import type { SmokePlan } from '../../lib/smoke/plan';

/*
 * One table of smoke cases for both runners (lib/smoke/run.ts and scripts/host/smoke.py): a plan,
 * the env file its secrets come from, what the app answers, and the lines each runner must print.
 * smoke-parity.test.ts runs every case through both and asserts they print exactly these lines, so
 * a change to either runner's semantics or wording fails the case it touches.
 */

export const SECRETS = {
  email: 'smoke-user@example.test',
  password: 'pw-5f1b9c2e-never-printed',
  token: 'tok-8d2f7a41-never-printed',
  /** Characters the two encoders could write differently: non-ASCII, space, and form and JSON syntax. */
  odd: 'pä ss*~-_.!\'()&=+%"\\/€-never-printed',
} as const;

/** What the app answers to `METHOD /path`; anything not listed answers 404. */
export interface CannedAnswer {
  readonly status: number;
  /** Sent as is; an object is sent as JSON. @default '' */
  readonly body?: string | object;
  /** Answer only after this long (the runners' timeout in these cases is 500 ms). @default 0 */
  readonly delayMs?: number;
  /** Answer only when the request carries exactly these headers (lower-case names) and body; 401 otherwise. @default - any request */
  readonly when?: { readonly headers?: Readonly<Record<string, string>>; readonly body?: string };
}

export interface SmokeCase {
  readonly name: string;
  readonly plan: SmokePlan;
  /** The secrets by name: the env file smoke.py reads, the lookup run.ts is given. */
  readonly secrets: Readonly<Record<string, string>>;
  /** `refused`: the base URL is a port nobody listens on. */
  readonly answers: Readonly<Record<string, CannedAnswer>> | 'refused';
  /** Every line, the summary last; `BASE` stands for the base URL. */
  readonly lines: readonly string[];
}

const ENV = { SMOKE_EMAIL: SECRETS.email, SMOKE_PASSWORD: SECRETS.password, OTHER: '1' };
const loginJson = {
  method: 'POST',
  path: '/auth/login',
  encoding: 'json',
  credentials: { email: 'SMOKE_EMAIL', password: 'SMOKE_PASSWORD' },
  fields: { client: 'smoke' },
  tokenPath: 'data.access_token',
  expectStatus: '200',
} as const;
const loginAnswer: CannedAnswer = {
  status: 200,
  body: { data: { access_token: SECRETS.token } },
  when: { body: JSON.stringify({ client: 'smoke', email: SECRETS.email, password: SECRETS.password }), headers: { 'content-type': 'application/json' } },
};
const me = { name: 'me', method: 'GET', path: '/me', headers: {}, auth: true, expectStatus: '200', json: [] } as const;
const meAnswer: CannedAnswer = { status: 200, body: { email: SECRETS.email }, when: { headers: { authorization: `Bearer ${SECRETS.token}` } } };
const get = (name: string, path: string, expectStatus: string, json: SmokePlan['checks'][number]['json'] = []) =>
  ({ name, method: 'GET', path, headers: {}, auth: false, expectStatus, json }) as const;

export const SMOKE_CASES: readonly SmokeCase[] = [
  {
    name: 'JSON login captures the token at its path; the authenticated check sends it as a bearer token',
    plan: { login: loginJson, checks: [me] },
    secrets: ENV,
    answers: { 'POST /auth/login': loginAnswer, 'GET /me': meAnswer },
    lines: ['ok   login: POST /auth/login -> 200 (token captured)', 'ok   me: GET /me -> 200', 'smoke: 2 passed, 0 failed (BASE)'],
  },
  {
    name: 'form login sends the fields url-encoded',
    plan: { login: { ...loginJson, encoding: 'form', tokenPath: 'token' }, checks: [me] },
    secrets: ENV,
    answers: {
      'POST /auth/login': {
        status: 200,
        body: { token: SECRETS.token },
        when: {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client: 'smoke', email: SECRETS.email, password: SECRETS.password }).toString(),
        },
      },
      'GET /me': meAnswer,
    },
    lines: ['ok   login: POST /auth/login -> 200 (token captured)', 'ok   me: GET /me -> 200', 'smoke: 2 passed, 0 failed (BASE)'],
  },
  {
    name: 'a password with non-ASCII and syntax characters is sent byte for byte as the other runner sends it, JSON and form',
    plan: { login: { ...loginJson, credentials: { password: 'ODD' }, fields: {} }, checks: [{ ...me, name: 'me-json' }] },
    secrets: { ODD: SECRETS.odd },
    answers: {
      'POST /auth/login': { ...loginAnswer, when: { body: JSON.stringify({ password: SECRETS.odd }) } },
      'GET /me': meAnswer,
    },
    lines: ['ok   login: POST /auth/login -> 200 (token captured)', 'ok   me-json: GET /me -> 200', 'smoke: 2 passed, 0 failed (BASE)'],
  },
  {
    name: 'the same password, form-encoded as URLSearchParams encodes it',
    plan: { login: { ...loginJson, encoding: 'form', credentials: { password: 'ODD' }, fields: { user: 'a b' } }, checks: [] },
    secrets: { ODD: SECRETS.odd },
    answers: {
      'POST /auth/login': { ...loginAnswer, when: { body: new URLSearchParams({ user: 'a b', password: SECRETS.odd }).toString() } },
    },
    lines: ['ok   login: POST /auth/login -> 200 (token captured)', 'smoke: 1 passed, 0 failed (BASE)'],
  },
  {
    name: 'a refused login fails and the authenticated check is skipped, not sent',
    plan: { login: loginJson, checks: [me, get('health', '/healthz', '2xx')] },
    secrets: { SMOKE_EMAIL: SECRETS.email, SMOKE_PASSWORD: `wrong-${SECRETS.password}` },
    answers: { 'POST /auth/login': loginAnswer, 'GET /me': meAnswer, 'GET /healthz': { status: 204 } },
    lines: [
      'FAIL login: POST /auth/login -> 401: expected 200',
      'FAIL me: GET /me -> skipped: the login step failed',
      'ok   health: GET /healthz -> 204',
      'smoke: 1 passed, 2 failed (BASE)',
    ],
  },
  {
    name: 'a login answer without a token at the path fails (and echoes nothing of the answer)',
    plan: { login: loginJson, checks: [me] },
    secrets: ENV,
    answers: { 'POST /auth/login': { ...loginAnswer, body: { data: { access_token: '' }, password: SECRETS.password } } },
    lines: [
      'FAIL login: POST /auth/login -> 200: no token at data.access_token',
      'FAIL me: GET /me -> skipped: the login step failed',
      'smoke: 0 passed, 2 failed (BASE)',
    ],
  },
  {
    name: 'secrets missing from the env file are named, the request is not sent',
    plan: { login: loginJson, checks: [me] },
    secrets: { SMOKE_EMAIL: SECRETS.email, OTHER: '1' },
    answers: { 'POST /auth/login': loginAnswer },
    lines: ['FAIL login: secret SMOKE_PASSWORD is not set', 'FAIL me: GET /me -> skipped: the login step failed', 'smoke: 0 passed, 2 failed (BASE)'],
  },
  {
    name: 'status classes: 4xx matches 404 and not 500; an exact status matches only itself',
    plan: { checks: [get('missing', '/missing', '4xx'), get('crash', '/crash', '4xx'), get('exact', '/healthz', '200')] },
    secrets: {},
    answers: { 'GET /crash': { status: 500, body: 'boom' }, 'GET /healthz': { status: 201 } },
    lines: [
      'ok   missing: GET /missing -> 404',
      'FAIL crash: GET /crash -> 500: expected 4xx',
      'FAIL exact: GET /healthz -> 201: expected 200',
      'smoke: 1 passed, 2 failed (BASE)',
    ],
  },
  {
    name: 'JSON assertions that pass: equals (string, number, boolean, null), notEquals, exists true and false, array index',
    plan: {
      checks: [
        get('all', '/status', '200', [
          { path: 'status', equals: 'ok' },
          { path: 'count', equals: 3 },
          { path: 'ready', equals: true },
          { path: 'error', equals: null },
          { path: 'status', notEquals: 'down' },
          { path: 'absent', notEquals: 'x' },
          { path: 'items.1.id', exists: true },
          { path: 'items.2', exists: false },
        ]),
      ],
    },
    secrets: {},
    answers: { 'GET /status': { status: 200, body: { status: 'ok', count: 3.0, ready: true, error: null, items: [{ id: 'a' }, { id: 'b' }] } } },
    lines: ['ok   all: GET /status -> 200', 'smoke: 1 passed, 0 failed (BASE)'],
  },
  {
    name: 'JSON assertions that fail name what was found: equals, notEquals, exists false, exists true, not JSON',
    plan: {
      checks: [
        get('equals', '/status', '200', [{ path: 'status', equals: 'ok' }]),
        get('not-equals', '/status', '200', [{ path: 'code', notEquals: 'INTERNAL_ERROR' }]),
        get('exists-false', '/status', '200', [{ path: 'debug', exists: false }]),
        get('exists-true', '/status', '200', [{ path: 'version', exists: true }]),
        get('equals-absent', '/status', '200', [{ path: 'nested.deep', equals: 1 }]),
        get('not-json', '/text', '200', [{ path: 'status', exists: true }]),
        get('no-assertions-on-text', '/text', '200'),
      ],
    },
    secrets: {},
    answers: {
      'GET /status': { status: 200, body: { status: 'degraded', code: 'INTERNAL_ERROR', debug: { on: true }, nested: { deep: 'ü' } } },
      'GET /text': { status: 200, body: 'plain text' },
    },
    lines: [
      'FAIL equals: GET /status -> 200: status is "degraded", expected "ok"',
      'FAIL not-equals: GET /status -> 200: code is "INTERNAL_ERROR", which it must not be',
      'FAIL exists-false: GET /status -> 200: debug is {"on":true}, expected absent',
      'FAIL exists-true: GET /status -> 200: version is absent',
      'FAIL equals-absent: GET /status -> 200: nested.deep is "ü", expected 1',
      'FAIL not-json: GET /text -> 200: body is not JSON',
      'ok   no-assertions-on-text: GET /text -> 200',
      'smoke: 1 passed, 6 failed (BASE)',
    ],
  },
  {
    name: 'secret values and the token are redacted from every line, also when the app echoes them back',
    plan: {
      login: loginJson,
      checks: [
        { ...me, json: [{ path: 'token', equals: 'something else' }] },
        { ...get('echo', '/echo', '200', [{ path: 'password', notEquals: SECRETS.password }]) },
      ],
    },
    secrets: ENV,
    answers: {
      'POST /auth/login': loginAnswer,
      'GET /me': { ...meAnswer, body: { token: SECRETS.token } },
      'GET /echo': { status: 200, body: { password: SECRETS.password } },
    },
    lines: [
      'ok   login: POST /auth/login -> 200 (token captured)',
      'FAIL me: GET /me -> 200: token is "[redacted]", expected "something else"',
      'FAIL echo: GET /echo -> 200: password is "[redacted]", which it must not be',
      'smoke: 1 passed, 2 failed (BASE)',
    ],
  },
  {
    name: 'a request body and headers are sent as planned; HEAD reads no body',
    plan: {
      checks: [
        {
          name: 'graphql',
          method: 'POST',
          path: '/graphql',
          headers: { 'Content-Type': 'application/json', 'X-Smoke': 'yes' },
          body: '{"query":"{ ok }"}',
          auth: false,
          expectStatus: '2xx',
          json: [{ path: 'data.ok', equals: true }],
        },
        { name: 'head', method: 'HEAD', path: '/healthz', headers: {}, auth: false, expectStatus: '200', json: [] },
      ],
    },
    secrets: {},
    answers: {
      'POST /graphql': {
        status: 200,
        body: { data: { ok: true } },
        when: { headers: { 'x-smoke': 'yes', 'content-type': 'application/json' }, body: '{"query":"{ ok }"}' },
      },
      'HEAD /healthz': { status: 200 },
    },
    lines: ['ok   graphql: POST /graphql -> 200', 'ok   head: HEAD /healthz -> 200', 'smoke: 2 passed, 0 failed (BASE)'],
  },
  {
    name: 'a redirect is not followed: its status is the answer',
    plan: { checks: [get('moved', '/old', '3xx'), get('moved-strict', '/old', '200')] },
    secrets: {},
    answers: { 'GET /old': { status: 301, body: '' } },
    lines: ['ok   moved: GET /old -> 301', 'FAIL moved-strict: GET /old -> 301: expected 200', 'smoke: 1 passed, 1 failed (BASE)'],
  },
  {
    name: 'an app that answers too late fails the check by the timeout; the next check still runs',
    plan: { checks: [get('slow', '/slow', '200'), get('fast', '/healthz', '200')] },
    secrets: {},
    answers: { 'GET /slow': { status: 200, delayMs: 3000 }, 'GET /healthz': { status: 200 } },
    lines: ['FAIL slow: GET /slow -> no answer (TimeoutError)', 'ok   fast: GET /healthz -> 200', 'smoke: 1 passed, 1 failed (BASE)'],
  },
  {
    name: 'nothing listening: every step fails with connection refused, the login included',
    plan: { login: loginJson, checks: [me, get('health', '/healthz', '2xx')] },
    secrets: ENV,
    answers: 'refused',
    lines: [
      'FAIL login: POST /auth/login -> no answer (ECONNREFUSED)',
      'FAIL me: GET /me -> skipped: the login step failed',
      'FAIL health: GET /healthz -> no answer (ECONNREFUSED)',
      'smoke: 0 passed, 3 failed (BASE)',
    ],
  },
];
