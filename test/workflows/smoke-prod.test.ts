// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are GitHub Actions expressions, not JavaScript templates
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { environmentsOf } from '../../lib/config';
import { smokePlan, smokeSecretNames } from '../../lib/smoke/plan';
import { shippedConfig } from '../helpers/config-fixtures';
import { projectRoot } from '../helpers/paths';

/*
 * smoke-prod: scheduled, runs `ops smoke --env prod` with exactly the secrets prod's login names,
 * no AWS credentials, actions pinned by SHA, and a failure that opens or updates an issue.
 */

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML
const workflow: any = parse(readFileSync(join(projectRoot, '.github/workflows/smoke-prod.yml'), 'utf8'));
const config = shippedConfig();
const prod = environmentsOf(config).find((e) => e.name === 'prod')!;

test('runs on a schedule (and by hand) with read-only contents and no id-token', () => {
  expect(Object.keys(workflow.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
  expect(workflow.permissions).toEqual({ contents: 'read' });
  const text = JSON.stringify(workflow);
  expect(text).not.toContain('id-token');
  expect(text).not.toContain('configure-aws-credentials');
});

test("passes the smoke step exactly the secrets prod's smoke login names, from the prod-smoke environment (not prod: its reviewers would block the schedule)", () => {
  const smoke = workflow.jobs.smoke;
  expect(smoke.environment).toBe('prod-smoke');
  expect(JSON.stringify(workflow)).not.toMatch(/"environment":"prod"/);
  const step = smoke.steps.find((s: { run?: string }) => s.run?.includes('ops -- smoke'));
  expect(step.run).toBe('npm run -s ops -- smoke --env prod');
  const names = smokeSecretNames(smokePlan(config.app, prod));
  expect(names.length).toBeGreaterThan(0);
  expect(step.env).toEqual(Object.fromEntries(names.map((n) => [n, `\${{ secrets.${n} }}`])));
});

test('every action is pinned by a full commit SHA; npm ci skips install scripts', () => {
  const uses = Object.values(workflow.jobs).flatMap((j) => ((j as { steps: { uses?: string }[] }).steps ?? []).map((s) => s.uses).filter(Boolean)) as string[];
  expect(uses.length).toBeGreaterThan(0);
  for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  expect(workflow.jobs.smoke.steps.some((s: { run?: string }) => s.run?.startsWith('npm ci --ignore-scripts'))).toBe(true);
});

test('a failure opens an issue, or comments on the open one, naming what to run next', () => {
  const report = workflow.jobs['report-failure'];
  expect(report).toMatchObject({ needs: 'smoke', if: 'failure()', permissions: { issues: 'write' } });
  const script = report.steps[0].with.script as string;
  expect(script).toContain("labels: 'smoke-prod'");
  expect(script).toContain('issues.createComment');
  expect(script).toContain('issues.create(');
  expect(script).toContain('npm run ops -- logs --env prod');
});
