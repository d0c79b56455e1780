// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are GitHub Actions expressions, not JavaScript templates

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ACKNOWLEDGE_LABEL, FULL_REPORT_ARTIFACT, REVIEW_MARKER } from '../../scripts/review/comment';
import { shippedConfig } from '../helpers/config-fixtures';
import { projectRoot } from '../helpers/paths';
import { TIERS } from '../tiers';

/*
 * The GitOps pipelines, parsed and checked against the rest of the repository: pull requests get
 * no AWS credentials, deploys get exactly one environment's OIDC role, and every npm script and
 * environment a workflow names exists.
 */

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Job {
  permissions?: Record<string, string>;
  environment?: string;
  if?: string;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  steps?: Step[];
  uses?: string;
  needs?: string | string[];
  with?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown[]> };
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = (name: string): Workflow => parse(readFileSync(join(projectRoot, '.github/workflows', name), 'utf8'));
const allRuns = (w: Workflow) => Object.values(w.jobs).flatMap((j) => (j.steps ?? []).map((s) => s.run ?? ''));
const packageScripts = Object.keys(JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).scripts);
const WORKFLOWS = ['pull-request.yml', 'deploy.yml', 'deploy-environment.yml', 'render-manifests.yml'];

test('every `npm run <script>` in a workflow is a script of package.json', () => {
  const used = WORKFLOWS.flatMap((name) => allRuns(workflow(name)).flatMap((run) => [...run.matchAll(/npm run (?:-s )?([\w:-]+)/g)].map((m) => m[1])));
  expect(used.length).toBeGreaterThan(5);
  expect(used.filter((script) => !packageScripts.includes(script))).toEqual([]);
});

describe('pull requests', () => {
  const pr = workflow('pull-request.yml');

  test('run the CI entry point and never receive AWS credentials', () => {
    expect(Object.keys(pr.on)).toEqual(['pull_request']);
    // One job per jest tier, in parallel (jest.config.ts; .ci/run TIER).
    expect(allRuns(pr)).toContain('bash .ci/run ${{ matrix.tier }}');
    expect(pr.jobs.test.strategy?.matrix?.tier).toEqual([...TIERS]);
    const text = readFileSync(join(projectRoot, '.github/workflows/pull-request.yml'), 'utf8');
    expect(text).not.toMatch(/id-token|configure-aws-credentials|AWS_ACCESS_KEY|secrets\./);
  });

  test('comment with the diff of base and head synth output and the cost estimate', () => {
    const review = pr.jobs.review;
    expect(review.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    const runs = (review.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('npm run synth -- --out "$RUNNER_TEMP/head"');
    expect(runs).toContain('npm run synth -- --out "$RUNNER_TEMP/base"');
    expect(runs).toContain('npm run -s review -- "$RUNNER_TEMP/base" "$RUNNER_TEMP/head" --full "$RUNNER_TEMP/review-full.md" $ack');
  });

  test('one sticky comment found by the review marker, the full report as an artifact, the state gate by label', () => {
    const text = readFileSync(join(projectRoot, '.github/workflows/pull-request.yml'), 'utf8');
    const steps = pr.jobs.review.steps ?? [];
    const runs = steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain(`marker='${REVIEW_MARKER}'`);
    expect(runs).toContain('--method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id"');
    expect(text).toContain(`name: ${FULL_REPORT_ARTIFACT}`);
    expect(text).toContain(`contains(github.event.pull_request.labels.*.name, '${ACKNOWLEDGE_LABEL}')`);
    expect((pr.on.pull_request as { types: string[] }).types).toEqual(expect.arrayContaining(['labeled', 'unlabeled']));
    const gate = steps.find((s) => s.name === 'Gate on state replaced or deleted');
    expect((gate as { if?: string } | undefined)?.if).toBe("steps.review.outputs.status == '3'");
    expect(gate?.run).toContain('exit 1');
  });
});

describe('deploys', () => {
  const deploy = workflow('deploy.yml');
  const perEnvironment = workflow('deploy-environment.yml');
  const configured = Object.keys(shippedConfig().environments);

  test('dev first, then prod, each through the reusable per-environment workflow', () => {
    expect(Object.keys(deploy.jobs)).toEqual(configured);
    expect(deploy.jobs.prod.needs).toBe('dev');
    for (const env of configured) {
      expect(deploy.jobs[env]).toMatchObject({ uses: './.github/workflows/deploy-environment.yml', with: { environment: env } });
    }
    const dispatch = deploy.on.workflow_dispatch as { inputs: { environment: { options: string[] } } };
    expect(dispatch.inputs.environment.options).toEqual(configured);
  });

  test("run in the GitHub environment whose OIDC subject the environment's deploy role trusts, from main only", () => {
    for (const name of ['changes', 'deploy']) {
      const job = perEnvironment.jobs[name];
      expect(job.environment).toBe('${{ inputs.environment }}');
      expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
      const credentials = (job.steps ?? []).find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'));
      expect(credentials?.with).toEqual({ 'role-to-assume': '${{ vars.DEPLOY_ROLE_ARN }}', 'aws-region': '${{ vars.AWS_REGION }}' });
    }
    expect(perEnvironment.permissions).toEqual({});
    expect(deploy.permissions).toEqual({});
    for (const env of configured) expect(deploy.jobs[env].if).toMatch(/^(always\(\) && )?github\.ref == 'refs\/heads\/main' && /);
  });

  test('IAM or security-group widening is shown and waits for a prod reviewer before the deploy', () => {
    const security = (perEnvironment.jobs.changes.steps ?? []).find((s) => s.name === 'IAM and security-group changes');
    expect(security?.run).toContain('npx cdk diff --exclusively $stacks --security-only --fail');
    expect(security?.run).toContain('GITHUB_STEP_SUMMARY');
    const gate = perEnvironment.jobs['approve-widening'];
    expect(gate).toMatchObject({ needs: 'changes', if: "needs.changes.outputs.widening == 'true'", environment: 'prod', permissions: {} });
    expect(perEnvironment.jobs.deploy.needs).toEqual(['changes', 'approve-widening']);
    expect(perEnvironment.jobs.deploy.if).toContain("needs.approve-widening.result == 'success' || needs.approve-widening.result == 'skipped'");
  });

  test('one deploy per environment at a time, queued, never cancelled', () => {
    expect(perEnvironment.jobs.deploy.concurrency).toEqual({ group: 'deploy-${{ inputs.environment }}', 'cancel-in-progress': false });
  });

  test('deploy the stacks (only the environment ones), then the release, then nginx/TLS, then run the checklist', () => {
    const runs = (perEnvironment.jobs.deploy.steps ?? []).map((s) => s.run ?? '').filter((r) => r.includes('ops'));
    expect(runs).toEqual([
      'npx cdk deploy --exclusively $(npm run -s ops -- stacks --env "${{ inputs.environment }}") --require-approval never',
      'npm run -s ops -- deploy --env "${{ inputs.environment }}"',
      'npm run -s ops -- tls --env "${{ inputs.environment }}"',
      'npm run -s ops -- validate --env "${{ inputs.environment }}"',
    ]);
  });
});

test('rendered manifests are pushed for Argo CD from main only, with write access to contents alone', () => {
  const render = workflow('render-manifests.yml');
  expect(render.on).toEqual({ push: { branches: ['main'] } });
  expect(render.permissions).toEqual({});
  expect(render.jobs.render.permissions).toEqual({ contents: 'write' });
  const runs = allRuns(render).join('\n');
  expect(runs).toContain('npm run synth -- --out "$RUNNER_TEMP/out"');
  expect(runs).toContain('git push origin rendered');
  // The Argo CD Applications sync the branch this workflow pushes.
  for (const env of Object.values(shippedConfig().environments)) expect(env.kubernetes.gitops?.targetRevision).toBe('rendered');
});

describe('supply chain (every workflow)', () => {
  const steps = WORKFLOWS.flatMap((name) =>
    Object.entries(workflow(name).jobs).flatMap(([job, j]) => (j.steps ?? []).map((s) => ({ name, job, step: s, jobDef: j }))),
  );
  const text = (name: string) => readFileSync(join(projectRoot, '.github/workflows', name), 'utf8');

  test('every action is pinned by a full commit SHA with its version in a comment', () => {
    const uses = steps.filter((s) => s.step.uses && !s.step.uses.startsWith('./')).map((s) => s.step.uses as string);
    expect(uses.length).toBeGreaterThan(5);
    expect(uses.filter((u) => !/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/.test(u))).toEqual([]);
    for (const name of WORKFLOWS) {
      for (const line of text(name)
        .split('\n')
        .filter((l) => /uses: [^.]/.test(l)))
        expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  test('no npm ci with install scripts in a job holding id-token: write or contents: write', () => {
    const privileged = steps.filter(({ jobDef, name }) => {
      const perms = { ...(workflow(name).permissions ?? {}), ...(jobDef.permissions ?? {}) };
      return perms['id-token'] === 'write' || perms.contents === 'write';
    });
    const installs = privileged.filter((s) => /npm (ci|install)\b/.test(s.step.run ?? ''));
    expect(installs.length).toBeGreaterThanOrEqual(3);
    expect(installs.filter((s) => !/npm ci --ignore-scripts\b/.test(s.step.run ?? '')).map((s) => `${s.name}/${s.job}`)).toEqual([]);
  });

  test('pipelines run on Node 22', () => {
    const versions = steps.filter((s) => s.step.uses?.startsWith('actions/setup-node')).map((s) => String(s.step.with?.['node-version']));
    expect(versions.length).toBeGreaterThanOrEqual(4);
    expect(new Set(versions)).toEqual(new Set(['22']));
  });
});
