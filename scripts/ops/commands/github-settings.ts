import { DEPLOY_WORKFLOW, GITHUB_OIDC_SUBJECT_CLAIMS } from '../../../lib/constructs/github-deploy-role';
import type { CheckResult } from './validate';

/*
 * The GitHub settings the deploy path relies on (docs/first-deploy.md, steps 2 and 4), as pure
 * checks over what the GitHub REST API returned (scripts/ops/github/settings.ts reads it). AWS
 * cannot see them, so without a token each is reported as not checked, never as passed.
 */

/**
 * The GitHub environment whose required reviewers approve its deploy: the `deploy` job of
 * .github/workflows/deploy-environment.yml runs in the environment it deploys, after the plan job
 * (in `<env>-plan`, without reviewers) has shown the change sets (a test keeps the two equal).
 */
export const APPROVAL_ENVIRONMENT = 'prod';

/**
 * The GitHub environment of the scheduled smoke checks of prod (.github/workflows/smoke-prod.yml;
 * a test keeps the two equal). Not `prod`: prod's required reviewers would block every scheduled
 * run. It holds only the smoke user's login and no AWS role: smoke needs only the public URL.
 */
export const SMOKE_ENVIRONMENT = 'prod-smoke';

/** The environment whose smoke checks run on a schedule in `SMOKE_ENVIRONMENT`. */
export const SMOKED_ENVIRONMENT = 'prod';

/** The GitHub environments the checks of `environments` read: theirs, and the smoke environment with prod. */
export function githubEnvironmentNames(environments: readonly string[]): string[] {
  return environments.includes(SMOKED_ENVIRONMENT) ? [...environments, SMOKE_ENVIRONMENT] : [...environments];
}

/** The one branch a deploy environment may deploy from: the branch the deploy roles trust. */
export const DEPLOY_BRANCH = DEPLOY_WORKFLOW.ref.replace(/^refs\/heads\//, '');

/** What one GitHub API read gave: the JSON body, or why there is none (`status` 404: it does not exist). */
export type GithubRead<T> = { readonly ok: true; readonly body: T } | { readonly ok: false; readonly status?: number; readonly error: string };

/** `GET /repos/{owner}/{repo}/actions/oidc/customization/sub` */
export interface OidcSubjectBody {
  readonly use_default?: boolean;
  readonly include_claim_keys?: readonly string[];
}

/** `GET /repos/{owner}/{repo}/environments/{name}` (the fields the checks read). */
export interface EnvironmentBody {
  readonly name?: string;
  readonly protection_rules?: readonly { readonly type?: string; readonly prevent_self_review?: boolean; readonly reviewers?: readonly unknown[] }[];
  readonly deployment_branch_policy?: { readonly protected_branches?: boolean; readonly custom_branch_policies?: boolean } | null;
}

/** `GET /repos/{owner}/{repo}/environments/{name}/deployment-branch-policies` */
export interface BranchPoliciesBody {
  readonly branch_policies?: readonly { readonly name?: string; readonly type?: string }[];
}

/** Everything the checks read, for one repository and its environments. */
export interface GithubFacts {
  readonly repository: string;
  readonly oidcSubject: GithubRead<OidcSubjectBody>;
  readonly environments: Readonly<
    Record<string, { readonly environment: GithubRead<EnvironmentBody>; readonly branchPolicies?: GithubRead<BranchPoliciesBody> }>
  >;
}

/** The line of each check without a token. */
export const NOT_CHECKED_WITHOUT_TOKEN = 'not checked: set GITHUB_TOKEN (read-only) to check GitHub settings';

/** The names of the checks for `environments`, in report order: repository-wide first. */
function checkNames(repository: string, environments: readonly string[]): { env: string; check: string }[] {
  return [
    { env: repository, check: 'GitHub OIDC subject claims' },
    ...githubEnvironmentNames(environments).flatMap((env) => [
      { env, check: `GitHub environment ${env} exists` },
      { env, check: `GitHub environment ${env} deploys only from ${DEPLOY_BRANCH}` },
      ...(env === APPROVAL_ENVIRONMENT ? [{ env, check: `GitHub environment ${env} requires a reviewer, not the author` }] : []),
      ...(env === SMOKE_ENVIRONMENT ? [{ env, check: `GitHub environment ${env} requires no reviewer (a schedule cannot wait for one)` }] : []),
    ]),
  ];
}

/** One advisory "not checked" line per check: the settings are unknown, not fine. */
export function githubNotChecked(repository: string, environments: readonly string[], why = NOT_CHECKED_WITHOUT_TOKEN): CheckResult[] {
  return checkNames(repository, environments).map(({ env, check }) => ({ env, check, ok: false, detail: why, advisory: true, notChecked: true }));
}

const unread = (read: { readonly status?: number; readonly error: string }) => `not checked: ${read.error}${read.status ? ` (HTTP ${read.status})` : ''}`;

/** The checks over what GitHub returned. A read that failed for another reason than 404 is "not checked", not a pass. */
export function evaluateGithubSettings(facts: GithubFacts, environments: readonly string[]): CheckResult[] {
  const results: CheckResult[] = [];
  const names = checkNames(facts.repository, environments);
  const name = (env: string, index: number) => names.filter((n) => n.env === env)[index].check;
  const push = (env: string, check: string, ok: boolean, detail: string, hint: string) =>
    results.push({ env, check, ok, detail, hint: ok ? undefined : hint, advisory: false });
  const skip = (env: string, check: string, detail: string) => results.push({ env, check, ok: false, detail, advisory: true, notChecked: true });

  const oidc = facts.oidcSubject;
  const expected = GITHUB_OIDC_SUBJECT_CLAIMS.join(', ');
  const fix =
    'run the `gh api --method PUT .../actions/oidc/customization/sub` line that `npm run bootstrap -- --env <env>` prints (docs/first-deploy.md, step 2)';
  if (oidc.ok) {
    const keys = oidc.body.include_claim_keys ?? [];
    const ok = oidc.body.use_default === false && keys.join(', ') === expected;
    push(
      facts.repository,
      name(facts.repository, 0),
      ok,
      oidc.body.use_default !== false
        ? "GitHub's default subject (use_default true): no deploy role trusts it"
        : `claims ${keys.join(', ') || '(none)'}, expected ${expected}`,
      fix,
    );
  } else if (oidc.status === 404) {
    push(facts.repository, name(facts.repository, 0), false, "not customized: GitHub's default subject, which no deploy role trusts", fix);
  } else skip(facts.repository, name(facts.repository, 0), unread(oidc));

  for (const env of githubEnvironmentNames(environments)) {
    const read = facts.environments[env]?.environment ?? { ok: false, error: 'not read' };
    const [exists, branches, reviewers] = [0, 1, 2].map((i) => names.filter((n) => n.env === env)[i]?.check);
    const create = `create it in Settings → Environments with the settings of docs/first-deploy.md, step 4`;
    if (!read.ok) {
      if (read.status === 404)
        push(
          env,
          exists,
          false,
          env === SMOKE_ENVIRONMENT ? 'missing: the scheduled smoke job cannot run' : 'missing: the deploy job of this environment cannot run',
          create,
        );
      else skip(env, exists, unread(read));
      skip(env, branches, 'not checked: the environment could not be read');
      if (reviewers) skip(env, reviewers, 'not checked: the environment could not be read');
      continue;
    }
    push(env, exists, true, 'exists', create);

    const policy = read.body.deployment_branch_policy;
    const listed = facts.environments[env]?.branchPolicies;
    if (!policy)
      push(env, branches, false, 'any branch may deploy (no deployment branch policy)', `Deployment branches: "Selected branches", only ${DEPLOY_BRANCH}`);
    else if (policy.protected_branches)
      push(env, branches, false, 'every protected branch may deploy', `Deployment branches: "Selected branches", only ${DEPLOY_BRANCH}`);
    else if (!listed?.ok) skip(env, branches, listed ? unread(listed) : 'not checked: the branch policies were not read');
    else {
      const rules = (listed.body.branch_policies ?? []).map((p) => `${p.type ?? 'branch'} ${p.name ?? '?'}`);
      const ok = policy.custom_branch_policies === true && rules.length === 1 && rules[0] === `branch ${DEPLOY_BRANCH}`;
      push(
        env,
        branches,
        ok,
        ok ? `only branch ${DEPLOY_BRANCH}` : `selected: ${rules.join(', ') || '(none)'}`,
        `Deployment branches: "Selected branches", only ${DEPLOY_BRANCH}`,
      );
    }

    if (reviewers && env === SMOKE_ENVIRONMENT) {
      const rule = (read.body.protection_rules ?? []).find((r) => r.type === 'required_reviewers');
      push(
        env,
        reviewers,
        !rule,
        rule ? `${rule.reviewers?.length ?? 0} required reviewer(s): every scheduled smoke run would wait for an approval` : 'no required reviewers',
        `Required reviewers: none for ${SMOKE_ENVIRONMENT}; it holds only the smoke login and no AWS role (docs/first-deploy.md, step 4)`,
      );
    } else if (reviewers) {
      const rule = (read.body.protection_rules ?? []).find((r) => r.type === 'required_reviewers');
      const count = rule?.reviewers?.length ?? 0;
      const ok = count > 0 && rule?.prevent_self_review === true;
      push(
        env,
        reviewers,
        ok,
        !rule
          ? 'no required reviewers: prod would deploy without an approval'
          : `${count} reviewer(s), prevent self-review ${rule.prevent_self_review === true ? 'on' : 'off'}`,
        'Required reviewers: at least one person, with "Prevent self-review" (docs/first-deploy.md, step 4)',
      );
    }
  }
  return results;
}
