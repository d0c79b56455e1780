import { environmentsOf } from '../../lib/config';
import { smokePlan, smokeSecretNames } from '../../lib/smoke/plan';
import { configWith, problemsOf, shippedConfigInput } from '../helpers/config-fixtures';

/*
 * Smoke checks and the migration command in config: what passes, and every rejection with its key
 * path (a check without an expected status, a login without a secret reference, a literal secret).
 */

// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, broken on purpose
type Raw = Record<string, any>;

function brokenBy(edit: (raw: Raw) => void): readonly string[] {
  const raw = shippedConfigInput();
  edit(raw);
  return problemsOf(raw);
}

describe('the shipped smoke checks', () => {
  test("express the runbooks' checks: health, GraphQL, invalid login 4xx, login -> token -> authenticated GET (prod)", () => {
    const config = configWith(() => undefined);
    const [dev, prod] = environmentsOf(config);
    const devPlan = smokePlan(config.app, dev);
    const prodPlan = smokePlan(config.app, prod);
    expect(devPlan.login).toBeUndefined();
    expect(devPlan.checks.map((c) => c.name)).toEqual(['health', 'graphql', 'invalid-login']);
    expect(devPlan.checks[1]).toEqual({
      name: 'graphql',
      method: 'POST',
      path: '/graphql',
      headers: { 'Content-Type': 'application/json' },
      body: '{"query":""}',
      auth: false,
      expectStatus: '4xx',
      json: [{ path: 'errors.0.extensions.code', equals: 'VALIDATION_ERROR' }],
    });
    expect(prodPlan.checks.map((c) => c.name)).toEqual(['health', 'graphql', 'invalid-login', 'me']);
    expect(prodPlan.login).toEqual({
      method: 'POST',
      path: '/auth/login',
      encoding: 'json',
      credentials: { email: 'SMOKE_EMAIL', password: 'SMOKE_PASSWORD' },
      fields: {},
      tokenPath: 'access_token',
      expectStatus: '200',
    });
    expect(smokeSecretNames(prodPlan)).toEqual(['SMOKE_EMAIL', 'SMOKE_PASSWORD']);
    expect(config.app.migration).toEqual({ service: 'api', command: ['npx', 'prisma', 'migrate', 'deploy'] });
  });

  test('without app.smoke the plan is the health path answering 2xx; an environment can drop or replace a check', () => {
    const bare = configWith((c) => {
      delete c.app.smoke;
      delete c.environments.prod.smoke;
    });
    expect(smokePlan(bare.app, environmentsOf(bare)[0]).checks).toEqual([
      { name: 'health', method: 'GET', path: '/healthz', headers: {}, auth: false, expectStatus: '2xx', json: [] },
    ]);
    const edited = configWith((c) => {
      c.environments.dev.smoke = { checks: { graphql: false, health: { path: '/ready', expect: { status: 204 } } } };
    });
    const plan = smokePlan(edited.app, environmentsOf(edited)[0]);
    expect(plan.checks.map((c) => [c.name, c.path, c.expectStatus])).toEqual([
      ['health', '/ready', '204'],
      ['invalid-login', '/auth/login', '4xx'],
    ]);
  });
});

describe('bad smoke config is rejected with its key path', () => {
  test.each<[string, (raw: Raw) => void, string]>([
    ['a check without an expected status', (c) => delete c.app.smoke.checks.health.expect.status, 'app.smoke.checks.health.expect.status: is required'],
    ['a check without expect at all', (c) => delete c.app.smoke.checks.graphql.expect, 'app.smoke.checks.graphql.expect: is required'],
    [
      'a status that is not one',
      (c) => (c.app.smoke.checks.health.expect.status = '2XX'),
      'app.smoke.checks.health.expect.status: "2XX" must be an HTTP status (100-599) or a status class (2xx, 3xx, 4xx, 5xx)',
    ],
    ['a login step without credentials', (c) => delete c.environments.prod.smoke.login.credentials, 'environments.prod.smoke.login.credentials: is required'],
    [
      'a login step with no secret reference',
      (c) => (c.environments.prod.smoke.login.credentials = {}),
      'environments.prod.smoke.login.credentials: must name at least one field with a secret reference, e.g. password: { secret: SMOKE_PASSWORD }',
    ],
    [
      'a password written as a value',
      (c) => (c.environments.prod.smoke.login.credentials.password = 'hunter2'),
      'environments.prod.smoke.login.credentials.password: must be a secret reference { secret: NAME }, never a value',
    ],
    [
      'a secret name that is not an env-file key',
      (c) => (c.environments.prod.smoke.login.credentials.password = { secret: 'smoke password' }),
      'environments.prod.smoke.login.credentials.password.secret: is not a secret name',
    ],
    [
      'an Authorization header (a literal secret)',
      (c) => (c.app.smoke.checks.health.headers = { Authorization: 'Bearer abc' }),
      'app.smoke.checks.health.headers: must not set Authorization',
    ],
    ['an unknown key in a check', (c) => (c.app.smoke.checks.health.expected = 200), 'app.smoke.checks.health.expected: is not a known key'],
    [
      'a JSON assertion that asserts nothing',
      (c) => (c.app.smoke.checks.health.expect.json = [{ path: 'a.b' }]),
      'app.smoke.checks.health.expect.json[0]: {"path":"a.b"} needs one of equals, notEquals or exists',
    ],
    [
      'an authenticated check where no login is configured',
      (c) => (c.app.smoke.checks.health.auth = true),
      'app.smoke.checks.health.auth: true needs a login step, and environment dev has none (add app.smoke.login or environments.dev.smoke.login)',
    ],
    [
      'a migration command with shell syntax',
      (c) => (c.app.migration.command = ['alembic', 'upgrade', 'head;', 'rm -rf /']),
      'app.migration.command[2]: "head;" is not a plain word',
    ],
    ['a migration without a command', (c) => (c.app.migration.command = []), 'app.migration.command: [] must have at least one word'],
  ])('%s', (_name, edit, expected) => {
    const problems = brokenBy(edit);
    expect(problems.filter((p) => p.startsWith(expected))).toHaveLength(1);
  });
});
