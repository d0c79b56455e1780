import type { NamedEnvironment, ProjectConfig } from '../../lib/config';
import { DEPLOY_WORKFLOW, GITHUB_OIDC_SUBJECT_CLAIMS } from '../../lib/constructs/github-deploy-role';
import { bootstrapNames, HEALTH_STACK_REGION } from '../../lib/names';

/** One step of an environment's bootstrap: what it does and the exact command. */
export interface BootstrapStep {
  readonly title: string;
  readonly argv: readonly string[];
}

/**
 * The project's CDK bootstrap template (derived from `cdk bootstrap --show-template`): every
 * bootstrap role carries the environment's boundary and acts only on that environment.
 */
export const BOOTSTRAP_TEMPLATE = 'lib/bootstrap/bootstrap-template.yaml';

/** The CDK toolkit stack of an environment: one per qualifier, so two environments in one account and region do not share it. */
export const toolkitStackName = (qualifier: string) => `CDKToolkit-${qualifier}`;

/**
 * Everything an administrator runs, once, to let the pipeline deploy one environment, from the
 * config: (1) the execution policy and permissions boundary, (2) `cdk bootstrap` in the
 * environment's region and in us-east-1 (health stack) with the environment's own qualifier,
 * that execution policy instead of AdministratorAccess and that boundary, and (3) GitHub's OIDC
 * subject customization the deploy roles' trust expects (`githubDeploySubject`).
 */
export function bootstrapPlan(config: ProjectConfig, environment: NamedEnvironment): BootstrapStep[] {
  const app = config.app.name;
  const env = environment.name;
  const qualifier = bootstrapNames.qualifier(app, env);
  const executionPolicyArn = `arn:aws:iam::${environment.account}:policy/${bootstrapNames.executionPolicy(app, env)}`;
  const regions = [...new Set([environment.region, HEALTH_STACK_REGION])];
  return [
    {
      title: `Execution policy and permissions boundary of ${env} (${bootstrapNames.policiesStack(app, env)}), with your administrator credentials`,
      argv: [
        'npx',
        'cdk',
        '--app',
        'npx ts-node --swc bin/bootstrap-app.ts',
        'deploy',
        bootstrapNames.policiesStack(app, env),
        '--require-approval',
        'broadening',
      ],
    },
    ...regions.map((region) => ({
      title: `CDK bootstrap of ${env} in ${region}: the project's template (${BOOTSTRAP_TEMPLATE}), qualifier ${qualifier}, the project's execution policy, the boundary on every role`,
      argv: [
        'npx',
        'cdk',
        'bootstrap',
        `aws://${environment.account}/${region}`,
        '--template',
        BOOTSTRAP_TEMPLATE,
        '--qualifier',
        qualifier,
        '--toolkit-stack-name',
        toolkitStackName(qualifier),
        '--cloudformation-execution-policies',
        executionPolicyArn,
        '--custom-permissions-boundary',
        bootstrapNames.permissionsBoundary(app, env),
        '--termination-protection',
      ],
    })),
    {
      title: `GitHub OIDC subject of ${config.github.repository}: ${GITHUB_OIDC_SUBJECT_CLAIMS.join(', ')} (deploy roles trust only ${DEPLOY_WORKFLOW.path}@${DEPLOY_WORKFLOW.ref})`,
      argv: [
        'gh',
        'api',
        '--method',
        'PUT',
        `repos/${config.github.repository}/actions/oidc/customization/sub`,
        '-F',
        'use_default=false',
        ...GITHUB_OIDC_SUBJECT_CLAIMS.flatMap((claim) => ['-f', `include_claim_keys[]=${claim}`]),
      ],
    },
  ];
}

/** A command line a person can paste: arguments with spaces or shell characters quoted. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
