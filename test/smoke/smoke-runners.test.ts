import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { environmentsOf } from '../../lib/config';
import { type SmokePlan, smokePlan } from '../../lib/smoke/plan';
import { runSmoke } from '../../lib/smoke/run';
import { configWith } from '../helpers/config-fixtures';
import { runHostScript } from '../helpers/host-scripts';
import { startSmokeApp } from '../helpers/smoke-app';

/*
 * One plan (prod's shipped checks, rendered from config), two runners: scripts/host/smoke.sh (the
 * wrapper the host runs, with smoke.py) and lib/smoke/run.ts (fetch), against the same local app.
 * Both must print the same lines, and neither may print a secret or the token, whatever passes or
 * fails. The case-by-case comparison of the runners is smoke-parity.test.ts; this is the end to end.
 */

const EMAIL = 'smoke-user@example.test';
const PASSWORD = 'pw-5f1b9c2e-not-printed';
const TOKEN = 'tok-8d2f7a41-not-printed';
const root = mkdtempSync('/tmp/smoke-runners-');
const planFile = join(root, 'smoke.json');
const secretsFile = join(root, '.env.production');
const config = configWith(() => undefined);
const plan: SmokePlan = smokePlan(config.app, environmentsOf(config).find((e) => e.name === 'prod')!);
writeFileSync(planFile, JSON.stringify(plan));
const servers: Server[] = [];

afterAll(() => {
  for (const s of servers) s.close();
  rmSync(root, { recursive: true, force: true });
});

async function app(broken = false): Promise<string> {
  const started = await startSmokeApp({ email: EMAIL, password: PASSWORD, token: TOKEN, broken });
  servers.push(started.server);
  return started.url;
}

function secretsOf(text: string): (name: string) => string | undefined {
  const values = Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return (name) => values[name];
}

/** Runs both runners with the given env-file text; returns [shell lines, TS lines, shell result]. */
async function both(url: string, envFile: string, runPlan: SmokePlan = plan) {
  writeFileSync(secretsFile, envFile, { mode: 0o600 });
  const shell = await runHostScript('smoke.sh', [url], { APP_NAME: 'smoketest', SMOKE_PLAN: planFile, SMOKE_SECRETS_FILE: secretsFile, STATE_DIR: root });
  const ts = await runSmoke(runPlan, url, secretsOf(envFile));
  for (const text of [shell.output, ts.lines.join('\n')]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(EMAIL);
  }
  return { shellLines: shell.stdout.trim().split('\n'), tsLines: [...ts.lines], shell, ts };
}

test('a healthy app passes every check, logged in with the secrets from the env file', async () => {
  const url = await app();
  const { shellLines, tsLines, shell, ts } = await both(url, `SMOKE_EMAIL=${EMAIL}\nSMOKE_PASSWORD=${PASSWORD}\nOTHER=1\n`);
  expect(tsLines).toEqual([
    'ok   login: POST /auth/login -> 200 (token captured)',
    'ok   health: GET /healthz -> 200',
    'ok   graphql: POST /graphql -> 400',
    'ok   invalid-login: POST /auth/login -> 401',
    'ok   me: GET /auth/me -> 200',
    `smoke: 5 passed, 0 failed (${url})`,
  ]);
  expect(shellLines).toEqual(tsLines);
  expect(shell.code).toBe(0);
  expect(ts.ok).toBe(true);
});

test('a broken release fails: GraphQL 500 INTERNAL_ERROR, and a wrong password fails the login and skips the authenticated read', async () => {
  const url = await app(true);
  const { shellLines, tsLines, shell, ts } = await both(url, `SMOKE_EMAIL=${EMAIL}\nSMOKE_PASSWORD=wrong-${PASSWORD}\n`);
  expect(tsLines).toEqual([
    'FAIL login: POST /auth/login -> 401: expected 200',
    'ok   health: GET /healthz -> 200',
    'FAIL graphql: POST /graphql -> 500: expected 4xx',
    'ok   invalid-login: POST /auth/login -> 401',
    'FAIL me: GET /auth/me -> skipped: the login step failed',
    `smoke: 2 passed, 3 failed (${url})`,
  ]);
  expect(shellLines).toEqual(tsLines);
  expect(shell.code).toBe(1);
  expect(ts.ok).toBe(false);
});

test('a secret missing from the env file is named, not guessed', async () => {
  const url = await app();
  const { shellLines, tsLines, shell } = await both(url, `OTHER=1\n`);
  expect(tsLines[0]).toBe('FAIL login: secret SMOKE_EMAIL, SMOKE_PASSWORD is not set');
  expect(shellLines).toEqual(tsLines);
  expect(shell.code).toBe(1);
});

test('JSON assertions: a wrong code and an absent path fail with what was found', async () => {
  const url = await app();
  const strict: SmokePlan = {
    checks: [
      {
        name: 'code',
        method: 'POST',
        path: '/graphql',
        headers: { 'Content-Type': 'application/json' },
        body: '{"query":""}',
        auth: false,
        expectStatus: '400',
        json: [{ path: 'errors.0.extensions.code', equals: 'OTHER' }],
      },
      { name: 'absent', method: 'GET', path: '/healthz', headers: {}, auth: false, expectStatus: '2xx', json: [{ path: 'version', exists: true }] },
      { name: 'not-json', method: 'GET', path: '/healthz', headers: {}, auth: false, expectStatus: '200', json: [{ path: 'status', equals: 'ok' }] },
    ],
  };
  writeFileSync(planFile, JSON.stringify(strict));
  try {
    const { shellLines, tsLines } = await both(url, '', strict);
    expect(tsLines).toEqual([
      'FAIL code: POST /graphql -> 400: errors.0.extensions.code is "VALIDATION_ERROR", expected "OTHER"',
      'FAIL absent: GET /healthz -> 200: version is absent',
      'ok   not-json: GET /healthz -> 200',
      `smoke: 1 passed, 2 failed (${url})`,
    ]);
    expect(shellLines).toEqual(tsLines);
  } finally {
    writeFileSync(planFile, JSON.stringify(plan));
  }
});
