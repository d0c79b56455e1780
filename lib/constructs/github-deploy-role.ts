import { DefaultStackSynthesizer, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CDK_BOOTSTRAP_ROLES, cdkBootstrapRoleName, ENVIRONMENT_TAG } from '../names';
import { GITHUB_OIDC_ISSUER } from '../rules/iam-policy';

export { GITHUB_OIDC_ISSUER };

/**
 * Claims GitHub puts in the OIDC subject of this repository once customized (`npm run bootstrap`
 * prints the `gh api` call; `ops validate` checks it with a token), in this order:
 * `repo:<owner>/<repo>:environment:<env>:ref:<ref>:job_workflow_ref:<workflow>@<ref>`.
 * `ref` is the ref of the run that called the workflow and `job_workflow_ref` the ref the reusable
 * deploy workflow was taken from: pinning both to main means AWS itself refuses a workflow on
 * another branch that calls `deploy-environment.yml@main` with `environment: dev` (with
 * `job_workflow_ref` alone it got exactly the trusted subject, and its checkout ran that
 * branch's code). The GitHub environment's deployment-branch rule is a second, independent guard.
 * @see https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#customizing-the-subject-claims-for-an-organization-or-repository
 */
export const GITHUB_OIDC_SUBJECT_CLAIMS = ['repo', 'context', 'ref', 'job_workflow_ref'] as const;

/** The reusable workflow every deploy job runs, and the only branch it may run from and be called from. */
export const DEPLOY_WORKFLOW = { path: '.github/workflows/deploy-environment.yml', ref: 'refs/heads/main' } as const;

/** The exact OIDC subject of a job of one GitHub environment (customized claims above) on main, running `workflowPath`. */
export function githubOidcSubject(repository: string, environmentName: string, workflowPath: string): string {
  return `repo:${repository}:environment:${environmentName}:ref:${DEPLOY_WORKFLOW.ref}:job_workflow_ref:${repository}/${workflowPath}@${DEPLOY_WORKFLOW.ref}`;
}

/** The exact OIDC subject of the deploy job of one GitHub environment. */
export function githubDeploySubject(repository: string, environmentName: string): string {
  return githubOidcSubject(repository, environmentName, DEPLOY_WORKFLOW.path);
}

/**
 * The role (construct id `Role`) a GitHub Actions job assumes through OIDC: the token's audience must
 * be STS and its subject exactly `subject` (no wildcard), for at most an hour. The one definition of
 * that trust, for the deploy role and the plan role alike.
 */
export function githubOidcRole(
  scope: Construct,
  props: { readonly provider: iam.IOpenIdConnectProvider; readonly subject: string; readonly description: string },
): iam.Role {
  return new iam.Role(scope, 'Role', {
    description: props.description,
    assumedBy: new iam.WebIdentityPrincipal(props.provider.openIdConnectProviderArn, {
      StringEquals: { [`${GITHUB_OIDC_ISSUER}:aud`]: 'sts.amazonaws.com', [`${GITHUB_OIDC_ISSUER}:sub`]: props.subject },
    }),
    // An hour covers the longest pipeline job (a deploy waits at most 30 minutes for its document).
    maxSessionDuration: Duration.hours(1),
  });
}

export interface GithubDeployRoleProps {
  /** The account's GitHub OIDC provider (imported by ARN; created by the account stack). */
  readonly provider: iam.IOpenIdConnectProvider;
  /** `owner/name` of the repository whose workflows may assume the role. */
  readonly repository: string;
  /** GitHub environment name the workflow job must run in (see `githubDeploySubject`). */
  readonly environmentName: string;
  /**
   * The environment tag (`ENVIRONMENT_TAG` = this value) of the instances commands may be sent to:
   * whichever instance the environment runs, also one its Auto Scaling group launches.
   */
  readonly instanceEnvironmentTag: string;
  /** ARNs of the SSM documents that may be sent (may be empty: then no document can be sent). */
  readonly documentArns: readonly string[];
  /**
   * The environment's command log group, where SSM writes the documents' output: the one place the
   * role reads command results from (FilterLogEvents, GetLogEvents on this group only).
   */
  readonly commandLogGroup: logs.ILogGroup;
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
   * Qualifier of the environment's own CDK bootstrap (`bootstrapNames.qualifier`): the role may
   * assume only the bootstrap roles of that qualifier, disjoint from every other environment's.
   * @default DefaultStackSynthesizer.DEFAULT_QUALIFIER
   */
  readonly bootstrapQualifier?: string;
}

/**
 * The role a GitHub Actions job of one environment assumes through OIDC. The trust requires the
 * token's audience to be STS and its subject to be exactly that repository, GitHub environment,
 * calling ref main and reviewed deploy workflow from main (`githubDeploySubject`; no wildcards), so
 * a pushed branch, a dispatch from another branch, another branch calling the workflow at `@main`
 * or a fork cannot assume it. It may send the host's SSM documents to
 * the environment's instance only, read their output and outcome from the environment's command
 * log group only, the environment's stack outputs, the instance's SSM status and alarm states
 * (what the ops CLI's deploy and checklist read), and assume its own environment's CDK bootstrap
 * roles (which do the CloudFormation work with the project's execution policy). No `*` action and
 * no managed policy.
 * @see https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
 */
export class GithubDeployRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GithubDeployRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const subject = githubDeploySubject(props.repository, props.environmentName);
    this.role = githubOidcRole(this, {
      provider: props.provider,
      subject,
      description: `GitHub Actions (${subject}): send host SSM documents, read their output, assume the CDK bootstrap roles`,
    });

    if (props.documentArns.length > 0) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'SendHostDocuments', actions: ['ssm:SendCommand'], resources: [...props.documentArns] }));
      // A policy of its own, so that its acknowledgement of instance/* covers this one statement.
      const anyInstance = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
      const instances = new iam.Policy(this, 'EnvironmentInstances', {
        roles: [this.role],
        statements: [
          new iam.PolicyStatement({
            sid: 'SendToEnvironmentInstances',
            actions: ['ssm:SendCommand'],
            resources: [anyInstance],
            conditions: { StringEquals: { [`ssm:resourceTag/${ENVIRONMENT_TAG}`]: props.instanceEnvironmentTag } },
          }),
        ],
      });
      Validations.of(instances).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${Token.isUnresolved(anyInstance) ? 'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*' : anyInstance}]`,
        reason: `The host documents go to whichever instance the environment runs (replaced hosts and Auto Scaling launches get new ids), so instance/* is limited by the ssm:resourceTag/${ENVIRONMENT_TAG} condition to instances tagged for this environment, a tag only this environment's roles may set (permissions boundary). Which documents may be sent is named by ARN in the role's own policy.`,
      });
    }
    // An own policy for the `Resource: *` read, so its acknowledgement covers exactly it: a `*`
    // statement added to the role's default policy later is a new, unacknowledged finding.
    const hostState = new iam.Policy(this, 'HostState', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadHostState',
          actions: ['ssm:DescribeInstanceInformation', 'cloudwatch:DescribeAlarms', 'autoscaling:DescribeAutoScalingGroups'],
          resources: ['*'],
        }),
      ],
    });
    Validations.of(hostState).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Read-only metadata calls of the ops checklist that take no resource-level permissions (ssm:DescribeInstanceInformation, filtered by instance id; cloudwatch:DescribeAlarms, filtered by name prefix; autoscaling:DescribeAutoScalingGroups, by group name, to find the current instance); they return states, not data. Sending commands stays limited to this environment documents and its group instance.',
    });
    // Command outcomes and output come from the environment's command log group (the documents
    // print an exit marker, lib/host-runtime/outcome.ts), not from ssm:GetCommandInvocation, which
    // IAM cannot limit to one instance: reading this one group is all the role needs.
    props.commandLogGroup.grant(this.role, 'logs:FilterLogEvents', 'logs:GetLogEvents');
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
        Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
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
            stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: cdkBootstrapRoleName(qualifier, role, stack.account, region) }),
          ),
        ),
      }),
    );
  }
}

/** `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/*`; `partitionToken` replaces an unresolved partition (as cdk-nag renders it). */
function stackArnPattern(stack: Stack, target: { readonly stackName: string; readonly region: string }, partitionToken?: string): string {
  const partition = Token.isUnresolved(stack.partition) && partitionToken ? partitionToken : stack.partition;
  return `arn:${partition}:cloudformation:${target.region}:${stack.account}:stack/${target.stackName}/*`;
}
