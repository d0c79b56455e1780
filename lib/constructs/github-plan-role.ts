import { DefaultStackSynthesizer, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { githubDeploySubject, githubOidcRole } from './github-deploy-role';

/** Prefix of the change sets `ops plan` creates (scripts/ops/commands/plan.ts names them `ops-plan-<time>`). */
export const PLAN_CHANGE_SET_PREFIX = 'ops-plan-';
/** Where `ops plan` puts templates over CloudFormation's inline limit, in the environment's staging bucket. */
export const PLAN_TEMPLATE_PREFIX = 'ops-plan/';
/** The GitHub environment of one environment's plan job: no reviewers, its own OIDC subject. */
export const planEnvironmentName = (environment: string) => `${environment}-plan`;

export interface GithubPlanRoleProps {
  /** The account's GitHub OIDC provider (imported by ARN; created by the account stack). */
  readonly provider: iam.IOpenIdConnectProvider;
  /** `owner/name` of the repository whose workflows may assume the role. */
  readonly repository: string;
  /** The environment planned; the role trusts only its plan job (GitHub environment `<env>-plan`). */
  readonly environmentName: string;
  /** The environment's stacks, each with its region: the only ones the role may plan. */
  readonly stacks: readonly { readonly stackName: string; readonly region: string }[];
  /**
   * Qualifier of the environment's own CDK bootstrap: its staging buckets (one per region) hold the
   * plan's large templates, its version parameter is every template's `BootstrapVersion`.
   * @default DefaultStackSynthesizer.DEFAULT_QUALIFIER
   */
  readonly bootstrapQualifier?: string;
}

/**
 * The role of one environment's plan job (`npm run ops -- plan` in deploy-environment.yml): it may
 * read the environment's deployed templates and create, read and delete change sets on its stacks,
 * and put, read and delete the plan's templates under `ops-plan/` of the environment's staging
 * bucket, never where a deploy reads its assets. It cannot execute a change set or update a stack:
 * the plan runs before the approval, in a GitHub environment without reviewers.
 */
export class GithubPlanRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GithubPlanRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const subject = githubDeploySubject(props.repository, planEnvironmentName(props.environmentName));
    this.role = githubOidcRole(this, {
      provider: props.provider,
      subject,
      description: `GitHub Actions (${subject}): create, read and delete change sets of the environment's stacks; never execute them`,
    });
    const partition = Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;
    const stackArn = (s: { stackName: string; region: string }, p: string) => `arn:${p}:cloudformation:${s.region}:${stack.account}:stack/${s.stackName}/*`;
    const changeSetArn = (region: string, p: string) => `arn:${p}:cloudformation:${region}:${stack.account}:changeSet/${PLAN_CHANGE_SET_PREFIX}*/*`;
    const regions = [...new Set(props.stacks.map((s) => s.region))];
    const qualifier = props.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const bucketKeys = (p: string) => regions.map((region) => `arn:${p}:s3:::cdk-${qualifier}-assets-${stack.account}-${region}/${PLAN_TEMPLATE_PREFIX}*`);
    const versionParameters = regions.map((region) =>
      stack.formatArn({ service: 'ssm', region, resource: 'parameter', resourceName: `cdk-bootstrap/${qualifier}/version` }),
    );
    const policy = new iam.Policy(this, 'Plan', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ChangeSetsOfTheEnvironment',
          actions: ['cloudformation:GetTemplate', 'cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:DeleteChangeSet'],
          resources: [...props.stacks.map((s) => stackArn(s, stack.partition)), ...regions.map((r) => changeSetArn(r, stack.partition))],
        }),
        new iam.PolicyStatement({
          sid: 'PlanTemplates',
          actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
          resources: bucketKeys(stack.partition),
        }),
        // CloudFormation resolves each template's BootstrapVersion parameter with the caller's rights.
        new iam.PolicyStatement({ sid: 'BootstrapVersion', actions: ['ssm:GetParameters'], resources: versionParameters }),
      ],
    });
    const acknowledge = (resource: string, reason: string) => Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    for (const s of props.stacks)
      acknowledge(
        stackArn(s, partition),
        `The wildcard is the unique suffix CloudFormation appends to the id of stack ${s.stackName}; the ARN names that one stack.`,
      );
    for (const region of regions) {
      acknowledge(
        changeSetArn(region, partition),
        'Change sets named ops-plan-<time> by ops plan: only the plan creates, reads and deletes them, on the stacks above.',
      );
    }
    for (const key of bucketKeys(partition))
      acknowledge(key, "The plan's own prefix of the staging bucket (templates over CloudFormation's inline limit), apart from the assets a deploy reads.");
  }
}
