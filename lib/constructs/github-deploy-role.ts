import { DefaultStackSynthesizer, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Issuer host of GitHub Actions OIDC tokens, the prefix of their condition keys. */
export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';

/** The CDK bootstrap roles a pipeline assumes to diff and deploy (modern bootstrap template). */
export const CDK_BOOTSTRAP_ROLES = ['deploy-role', 'file-publishing-role', 'image-publishing-role', 'lookup-role'] as const;

export interface GithubDeployRoleProps {
  /** The account's GitHub OIDC provider (imported by ARN; created by the account stack). */
  readonly provider: iam.IOpenIdConnectProvider;
  /** `owner/name` of the repository whose workflows may assume the role. */
  readonly repository: string;
  /** GitHub environment name the workflow job must run in (`sub = repo:<owner>/<repo>:environment:<env>`). */
  readonly environmentName: string;
  /** ARN of the one instance commands may be sent to. */
  readonly instanceArn: string;
  /** ARNs of the SSM documents that may be sent (may be empty: then no document can be sent). */
  readonly documentArns: readonly string[];
  /**
   * Stacks whose outputs and status the pipeline reads (`cloudformation:DescribeStacks`), e.g. to
   * find the instance id; each is named with its region.
   * @default - none
   */
  readonly readableStacks?: readonly { readonly stackName: string; readonly region: string }[];
  /**
   * Regions whose CDK bootstrap roles the role may assume.
   * @default - the stack's region
   */
  readonly bootstrapRegions?: readonly string[];
  /**
   * Qualifier of the CDK bootstrap stack.
   * @default DefaultStackSynthesizer.DEFAULT_QUALIFIER
   */
  readonly bootstrapQualifier?: string;
  /**
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
}

/**
 * The role a GitHub Actions job of one environment assumes through OIDC. The trust requires the
 * token's audience to be STS and its subject to be exactly that repository and GitHub environment
 * (no wildcards), so a branch or a fork cannot assume it. It may send the host's SSM documents to
 * the environment's instance only, read command results, the environment's stack outputs, the
 * instance's SSM status and alarm states (what the ops CLI's deploy and checklist read), and assume the account's CDK bootstrap
 * roles (which do the CloudFormation work). No `*` action and no managed policy.
 * @see https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
 */
export class GithubDeployRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GithubDeployRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const subject = `repo:${props.repository}:environment:${props.environmentName}`;
    this.role = new iam.Role(this, 'Role', {
      description: `GitHub Actions (${subject}): send host SSM documents, read results, assume the CDK bootstrap roles`,
      assumedBy: new iam.WebIdentityPrincipal(props.provider.openIdConnectProviderArn, {
        StringEquals: { [`${GITHUB_OIDC_ISSUER}:aud`]: 'sts.amazonaws.com', [`${GITHUB_OIDC_ISSUER}:sub`]: subject },
      }),
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
    });

    if (props.documentArns.length > 0) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'SendHostDocuments', actions: ['ssm:SendCommand'], resources: [...props.documentArns, props.instanceArn] }),
      );
    }
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadCommandResultsAndHostState',
        actions: ['ssm:GetCommandInvocation', 'ssm:ListCommandInvocations', 'ssm:ListCommands', 'ssm:DescribeInstanceInformation', 'cloudwatch:DescribeAlarms'],
        resources: ['*'],
      }),
    );
    const stacks = props.readableStacks ?? [];
    if (stacks.length > 0) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadEnvironmentStacks',
          actions: ['cloudformation:DescribeStacks'],
          resources: stacks.map((s) => stackArnPattern(stack, s)),
        }),
      );
      for (const s of stacks) {
        Validations.of(this.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${stackArnPattern(stack, s, '<AWS::Partition>')}]`,
          reason: `The wildcard is the unique suffix CloudFormation appends to the id of stack ${s.stackName}, unknown before it is created; the ARN names that one stack.`,
        });
      }
    }
    const qualifier = props.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const regions = [...new Set(props.bootstrapRegions ?? [stack.region])];
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkBootstrapRoles',
        actions: ['sts:AssumeRole'],
        resources: regions.flatMap((region) =>
          CDK_BOOTSTRAP_ROLES.map((role) =>
            stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `cdk-${qualifier}-${role}-${stack.account}-${region}` }),
          ),
        ),
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Read-only calls the pipeline makes that take no resource-level permissions or are filtered by name, not ARN (ssm:GetCommandInvocation, ListCommandInvocations, ListCommands, DescribeInstanceInformation; cloudwatch:DescribeAlarms with a name prefix); sending commands stays limited to this environment documents and instance.',
    });
  }
}

/** `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/*`; `partitionToken` replaces an unresolved partition (as cdk-nag renders it). */
function stackArnPattern(stack: Stack, target: { readonly stackName: string; readonly region: string }, partitionToken?: string): string {
  const partition = Token.isUnresolved(stack.partition) && partitionToken ? partitionToken : stack.partition;
  return `arn:${partition}:cloudformation:${target.region}:${stack.account}:stack/${target.stackName}/*`;
}
