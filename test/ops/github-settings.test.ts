import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'yaml';
import { main } from '../../scripts/ops/cli';
import {
  APPROVAL_ENVIRONMENT,
  DEPLOY_BRANCH,
  evaluateGithubSettings,
  githubEnvironmentNames,
  githubNotChecked,
  NOT_CHECKED_WITHOUT_TOKEN,
  SMOKE_ENVIRONMENT,
} from '../../scripts/ops/commands/github-settings';
import { checklistPassed, formatChecklist } from '../../scripts/ops/commands/validate';
import { readGithubSettings } from '../../scripts/ops/github/settings';
import { projectRoot } from '../helpers/paths';
import { shippedConfig } from '../helpers/synth';

/*
 * `ops validate`'s GitHub checks against a local HTTP server standing in for api.github.com:
 * the settings docs/first-deploy.md asks for pass; each one changed fails, naming it.
 */

const REPO = 'acme/shop';
const TOKEN = 'ghp_test-token-never-printed-7Qx';
type Route = { status: number; body?: unknown };

const compliant = (): Record<string, Route> => ({
  [`/repos/${REPO}/actions/oidc/customization/sub`]: {
    status: 200,
    body: { use_default: false, include_claim_keys: ['repo', 'context', 'ref', 'job_workflow_ref'] },
  },
  [`/repos/${REPO}/environments/dev`]: {
    status: 200,
    body: { name: 'dev', protection_rules: [{ type: 'branch_policy' }], deployment_branch_policy: { protected_branches: false, custom_branch_policies: true } },
  },
  [`/repos/${REPO}/environments/dev/deployment-branch-policies`]: {
    status: 200,
    body: { total_count: 1, branch_policies: [{ name: 'main', type: 'branch' }] },
  },
  [`/repos/${REPO}/environments/prod`]: {
    status: 200,
    body: {
      name: 'prod',
      protection_rules: [
        { type: 'required_reviewers', prevent_self_review: true, reviewers: [{ type: 'User', reviewer: { login: 'ana' } }] },
        { type: 'branch_policy' },
      ],
      deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
    },
  },
  [`/repos/${REPO}/environments/prod/deployment-branch-policies`]: {
    status: 200,
    body: { total_count: 1, branch_policies: [{ name: 'main', type: 'branch' }] },
  },
  [`/repos/${REPO}/environments/prod-smoke`]: {
    status: 200,
    body: {
      name: 'prod-smoke',
      protection_rules: [{ type: 'branch_policy' }],
      deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
    },
  },
  [`/repos/${REPO}/environments/prod-smoke/deployment-branch-policies`]: {
    status: 200,
    body: { total_count: 1, branch_policies: [{ name: 'main', type: 'branch' }] },
  },
});

let routes: Record<string, Route> = {};
const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
let server: Server;
let apiUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const route = routes[req.url ?? ''] ?? { status: 404, body: { message: 'Not Found' } };
    res.writeHead(route.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(route.body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  routes = compliant();
  seen.length = 0;
});

async function check(environments = ['dev', 'prod']) {
  const results = evaluateGithubSettings(await readGithubSettings({ token: TOKEN, apiUrl }, REPO, githubEnvironmentNames(environments)), environments);
  const text = formatChecklist(results);
  expect(text).not.toContain(TOKEN);
  return { results, text, passed: checklistPassed(results) };
}

test('COMPLIANT: the settings of docs/first-deploy.md pass, read with the token in the Authorization header only', async () => {
  const { results, text, passed } = await check();
  expect(text.split('\n')).toEqual([
    'PASS  [acme/shop] GitHub OIDC subject claims: claims repo, context, ref, job_workflow_ref, expected repo, context, ref, job_workflow_ref',
    'PASS  [dev] GitHub environment dev exists: exists',
    'PASS  [dev] GitHub environment dev deploys only from main: only branch main',
    'PASS  [prod] GitHub environment prod exists: exists',
    'PASS  [prod] GitHub environment prod deploys only from main: only branch main',
    'PASS  [prod] GitHub environment prod requires a reviewer, not the author: 1 reviewer(s), prevent self-review on',
    'PASS  [prod-smoke] GitHub environment prod-smoke exists: exists',
    'PASS  [prod-smoke] GitHub environment prod-smoke deploys only from main: only branch main',
    'PASS  [prod-smoke] GitHub environment prod-smoke requires no reviewer (a schedule cannot wait for one): no required reviewers',
  ]);
  expect(passed).toBe(true);
  expect(results.every((r) => r.ok)).toBe(true);
  expect(seen.map((s) => s.headers.authorization)).toEqual(seen.map(() => `Bearer ${TOKEN}`));
  expect(seen.every((s) => !s.path.includes(TOKEN))).toBe(true);
});

const nonCompliant: [string, (r: Record<string, Route>) => void, string][] = [
  [
    'OIDC subject not customized',
    (r) => delete r[`/repos/${REPO}/actions/oidc/customization/sub`],
    "FAIL  [acme/shop] GitHub OIDC subject claims: not customized: GitHub's default subject, which no deploy role trusts",
  ],
  [
    'OIDC subject back to the default',
    (r) => (r[`/repos/${REPO}/actions/oidc/customization/sub`] = { status: 200, body: { use_default: true } }),
    "FAIL  [acme/shop] GitHub OIDC subject claims: GitHub's default subject (use_default true): no deploy role trusts it",
  ],
  [
    'OIDC claims in another order (the subject would differ)',
    (r) =>
      (r[`/repos/${REPO}/actions/oidc/customization/sub`] = {
        status: 200,
        body: { use_default: false, include_claim_keys: ['repo', 'job_workflow_ref', 'context'] },
      }),
    'FAIL  [acme/shop] GitHub OIDC subject claims: claims repo, job_workflow_ref, context, expected repo, context, ref, job_workflow_ref',
  ],
  [
    'prod environment missing',
    (r) => delete r[`/repos/${REPO}/environments/prod`],
    'FAIL  [prod] GitHub environment prod exists: missing: the deploy job of this environment cannot run',
  ],
  [
    'dev deploys from any branch',
    (r) => (r[`/repos/${REPO}/environments/dev`] = { status: 200, body: { name: 'dev', protection_rules: [], deployment_branch_policy: null } }),
    'FAIL  [dev] GitHub environment dev deploys only from main: any branch may deploy (no deployment branch policy)',
  ],
  [
    'dev deploys from protected branches',
    (r) =>
      (r[`/repos/${REPO}/environments/dev`] = {
        status: 200,
        body: { name: 'dev', deployment_branch_policy: { protected_branches: true, custom_branch_policies: false } },
      }),
    'FAIL  [dev] GitHub environment dev deploys only from main: every protected branch may deploy',
  ],
  [
    'dev also deploys from release/*',
    (r) =>
      (r[`/repos/${REPO}/environments/dev/deployment-branch-policies`] = {
        status: 200,
        body: {
          branch_policies: [
            { name: 'main', type: 'branch' },
            { name: 'release/*', type: 'branch' },
          ],
        },
      }),
    'FAIL  [dev] GitHub environment dev deploys only from main: selected: branch main, branch release/*',
  ],
  [
    'prod without required reviewers',
    (r) =>
      (r[`/repos/${REPO}/environments/prod`] = {
        status: 200,
        body: { name: 'prod', protection_rules: [], deployment_branch_policy: { protected_branches: false, custom_branch_policies: true } },
      }),
    'FAIL  [prod] GitHub environment prod requires a reviewer, not the author: no required reviewers: prod would deploy without an approval',
  ],
  [
    'prod reviewers may approve their own deploys',
    (r) =>
      (r[`/repos/${REPO}/environments/prod`] = {
        status: 200,
        body: {
          name: 'prod',
          protection_rules: [{ type: 'required_reviewers', prevent_self_review: false, reviewers: [{}] }],
          deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
        },
      }),
    'FAIL  [prod] GitHub environment prod requires a reviewer, not the author: 1 reviewer(s), prevent self-review off',
  ],
  [
    'the smoke environment missing',
    (r) => delete r[`/repos/${REPO}/environments/prod-smoke`],
    'FAIL  [prod-smoke] GitHub environment prod-smoke exists: missing: the scheduled smoke job cannot run',
  ],
  [
    'the smoke environment with required reviewers (every scheduled run would wait)',
    (r) =>
      (r[`/repos/${REPO}/environments/prod-smoke`] = {
        status: 200,
        body: {
          name: 'prod-smoke',
          protection_rules: [{ type: 'required_reviewers', prevent_self_review: true, reviewers: [{}] }],
          deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
        },
      }),
    'FAIL  [prod-smoke] GitHub environment prod-smoke requires no reviewer (a schedule cannot wait for one): 1 required reviewer(s): every scheduled smoke run would wait for an approval',
  ],
];

test.each(nonCompliant)('NON_COMPLIANT: %s fails validate, naming the setting', async (_, change, line) => {
  change(routes);
  const { text, passed } = await check();
  expect(text.split('\n')).toContain(line);
  expect(text).toContain('        -> ');
  expect(passed).toBe(false);
});

test('a token that cannot read a setting reports it as not checked (SKIP, with the HTTP status), never as passed', async () => {
  routes[`/repos/${REPO}/environments/prod`] = { status: 403, body: { message: 'Resource not accessible by integration' } };
  const { results, text } = await check();
  expect(text).toContain('SKIP  [prod] GitHub environment prod exists: not checked: the token may not read this (HTTP 403)');
  expect(text).toContain('SKIP  [prod] GitHub environment prod requires a reviewer, not the author: not checked: the environment could not be read');
  expect(results.filter((r) => r.env === 'prod').every((r) => !r.ok)).toBe(true);
});

test('an unreachable API is not checked either', async () => {
  const results = evaluateGithubSettings(await readGithubSettings({ token: TOKEN, apiUrl: 'http://127.0.0.1:9' }, REPO, ['dev']), ['dev']);
  expect(results.map((r) => [r.ok, r.notChecked])).toEqual(results.map(() => [false, true]));
  expect(results[0].detail).toMatch(/^not checked: GitHub API unreachable \(\w+\)$/);
});

test('without a token: one SKIP line per check, which does not fail the checklist but never passes', () => {
  const results = githubNotChecked(REPO, ['dev', 'prod']);
  expect(formatChecklist(results).split('\n')).toEqual(
    [
      '[acme/shop] GitHub OIDC subject claims',
      '[dev] GitHub environment dev exists',
      '[dev] GitHub environment dev deploys only from main',
      '[prod] GitHub environment prod exists',
      '[prod] GitHub environment prod deploys only from main',
      '[prod] GitHub environment prod requires a reviewer, not the author',
      '[prod-smoke] GitHub environment prod-smoke exists',
      '[prod-smoke] GitHub environment prod-smoke deploys only from main',
      '[prod-smoke] GitHub environment prod-smoke requires no reviewer (a schedule cannot wait for one)',
    ].map((check) => `SKIP  ${check}: ${NOT_CHECKED_WITHOUT_TOKEN}`),
  );
  expect(NOT_CHECKED_WITHOUT_TOKEN).toBe('not checked: set GITHUB_TOKEN (read-only) to check GitHub settings');
  expect(checklistPassed(results)).toBe(true);
  expect(results.some((r) => r.ok)).toBe(false);
});

test('the approval environment is a deploy environment (its deploy job runs in it) and the deploy branch the one the deploy roles use', () => {
  const workflow = parse(readFileSync(join(projectRoot, '.github/workflows/deploy-environment.yml'), 'utf8'));
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
  expect(workflow.jobs.deploy.environment).toBe('${{ inputs.environment }}');
  expect(Object.keys(shippedConfig().environments)).toContain(APPROVAL_ENVIRONMENT);
  const smoke = parse(readFileSync(join(projectRoot, '.github/workflows/smoke-prod.yml'), 'utf8'));
  expect(smoke.jobs.smoke.environment).toBe(SMOKE_ENVIRONMENT);
  expect(SMOKE_ENVIRONMENT).not.toBe(APPROVAL_ENVIRONMENT);
  expect(DEPLOY_BRANCH).toBe('main');
});

test('the CLI reads GITHUB_TOKEN from the environment (never argv) and checks the configured repository', async () => {
  // AWS answers "nothing deployed"; the health probe fails (no network): only the GitHub lines matter here.
  const cfn = mockClient(CloudFormationClient);
  const cloudwatch = mockClient(CloudWatchClient);
  cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id x does not exist'), { name: 'ValidationError' }));
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
  const repository = 'auraxis/auraxis-infra';
  routes = Object.fromEntries(Object.entries(compliant()).map(([path, route]) => [path.replace(REPO, repository), route]));
  const saved = { token: process.env.GITHUB_TOKEN, url: process.env.OPS_GITHUB_API_URL_FOR_TESTS };
  process.env.GITHUB_TOKEN = TOKEN;
  process.env.OPS_GITHUB_API_URL_FOR_TESTS = apiUrl;
  const printed: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((text: string) => printed.push(text));
  try {
    await main(['validate', '--env', 'dev']);
  } finally {
    log.mockRestore();
    cfn.restore();
    cloudwatch.restore();
    if (saved.token === undefined) delete process.env.GITHUB_TOKEN;
    else process.env.GITHUB_TOKEN = saved.token;
    if (saved.url === undefined) delete process.env.OPS_GITHUB_API_URL_FOR_TESTS;
    else process.env.OPS_GITHUB_API_URL_FOR_TESTS = saved.url;
  }
  const text = printed.join('\n');
  expect(text).toContain(`PASS  [${repository}] GitHub OIDC subject claims`);
  expect(text).toContain('PASS  [dev] GitHub environment dev deploys only from main: only branch main');
  expect(text).not.toContain(TOKEN);
  expect(seen.map((r) => r.headers.authorization)).toContain(`Bearer ${TOKEN}`);
});
