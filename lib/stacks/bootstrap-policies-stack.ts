import { Aws, CfnOutput, CliCredentialsStackSynthesizer, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { bootstrapNames, HEALTH_STACK_REGION } from '../names';

/**
 * The services whose resources the environment's stacks create, in both the boundary and the
 * execution policy: a service added to the stacks is added here, once, or the deploy fails on one of them.
 */
const STACK_RESOURCE_ACTIONS = ['ec2:*', 's3:*', 'logs:*', 'cloudwatch:*', 'sns:*', 'route53:*', 'scheduler:*', 'iam:Get*', 'iam:List*'] as const;

/** IAM writes that create or change a role's permissions: allowed only on `<app>-<env>-*` roles, and only with the boundary attached. */
const CREATE_OWN_ROLE_ACTIONS = [
  'iam:CreateRole',
  'iam:PutRolePermissionsBoundary',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
] as const;

/**
 * IAM writes that manage the environment's own roles, instance profiles and managed policies
 * (`<app>-<env>-*`), in both the boundary and the execution policy. The execution policy adds
 * `iam:PassRole` (the boundary grants it among the services); the boundary also admits
 * `iam:SetDefaultPolicyVersion`, which the execution policy does not grant.
 */
const MANAGE_OWN_IAM_ACTIONS = [
  'iam:DeleteRole',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:UpdateRole',
  'iam:UpdateRoleDescription',
  'iam:UpdateAssumeRolePolicy',
  'iam:CreateInstanceProfile',
  'iam:DeleteInstanceProfile',
  'iam:AddRoleToInstanceProfile',
  'iam:RemoveRoleFromInstanceProfile',
  'iam:TagInstanceProfile',
  'iam:CreatePolicy',
  'iam:CreatePolicyVersion',
  'iam:DeletePolicy',
  'iam:DeletePolicyVersion',
  'iam:TagPolicy',
] as const;

export interface BootstrapPoliciesStackProps extends StackProps {
  /** App name: every resource the environment's stacks create is named `<app>-<env>-...`. */
  readonly appName: string;
  /** Environment name. */
  readonly environmentName: string;
}

/**
 * What one environment's CDK bootstrap is allowed to do, written by the project instead of the
 * default `AdministratorAccess`:
 *
 * - the **CloudFormation execution policy**, given to `cdk bootstrap --cloudformation-execution-policies`:
 *   the services and resource types the environment's stacks deploy, and IAM only to create, tag,
 *   change and delete roles and policies named `<app>-<env>-*` that carry the boundary below;
 * - the **permissions boundary**, given to `cdk bootstrap --custom-permissions-boundary` (it bounds
 *   the execution role itself) and attached by the stacks to every role they create: no IAM
 *   writes, no leaving the boundary, no other environment's named resources, no assuming roles
 *   other than this environment's bootstrap roles. A malicious template can therefore create no
 *   role that exceeds it, and no administrator.
 *
 * Deployed by an administrator with their own credentials (`npm run bootstrap -- --env <env>`),
 * before `cdk bootstrap`: it uses no bootstrap resources itself.
 * @see https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-customizing.html
 */
export class BootstrapPoliciesStack extends Stack {
  public readonly executionPolicy: iam.ManagedPolicy;
  public readonly permissionsBoundary: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: BootstrapPoliciesStackProps) {
    super(scope, id, { ...props, synthesizer: new CliCredentialsStackSynthesizer() });
    const { appName: app, environmentName: env } = props;
    const account = Aws.ACCOUNT_ID;
    const prefix = `${app}-${env}`;
    const qualifier = bootstrapNames.qualifier(app, env);
    const boundaryArn = `arn:${Aws.PARTITION}:iam::${account}:policy/${bootstrapNames.permissionsBoundary(app, env)}`;
    const ownRoles = `arn:${Aws.PARTITION}:iam::${account}:role/${prefix}-*`;
    const ownPolicies = `arn:${Aws.PARTITION}:iam::${account}:policy/${prefix}-*`;
    const ownBootstrapRoles = `arn:${Aws.PARTITION}:iam::${account}:role/cdk-${qualifier}-*`;
    const withBoundary = { StringEquals: { 'iam:PermissionsBoundary': boundaryArn } };
    const ownInstanceProfiles = `arn:${Aws.PARTITION}:iam::${account}:instance-profile/${prefix}-*`;
    /** The two IAM statements both policies hold: create own roles only with the boundary, manage own roles, profiles and policies. */
    const ownIam = (o: { createSid: string; manageSid: string; alsoManage: string }) => [
      new iam.PolicyStatement({ sid: o.createSid, actions: [...CREATE_OWN_ROLE_ACTIONS], resources: [ownRoles], conditions: withBoundary }),
      new iam.PolicyStatement({
        sid: o.manageSid,
        actions: [...MANAGE_OWN_IAM_ACTIONS, o.alsoManage],
        resources: [ownRoles, ownPolicies, ownInstanceProfiles],
      }),
    ];

    this.permissionsBoundary = new iam.ManagedPolicy(this, 'PermissionsBoundary', {
      managedPolicyName: bootstrapNames.permissionsBoundary(app, env),
      description: `${prefix}: the most any role of this environment (and its CloudFormation execution role) may do`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ServicesTheEnvironmentUses',
          actions: [
            ...STACK_RESOURCE_ACTIONS,
            'cloudformation:*',
            'ssm:*',
            'ssmmessages:*',
            'ec2messages:*',
            'events:*',
            'iam:PassRole',
            'sts:AssumeRole',
            'sts:GetCallerIdentity',
            'tag:GetResources',
          ],
          resources: ['*'],
        }),
        ...ownIam({ createSid: 'IamOnlyForOwnRolesWithThisBoundary', manageSid: 'IamOwnRolesAndPolicies', alsoManage: 'iam:SetDefaultPolicyVersion' }),
        // Explicit denies: they hold whatever the Allow statements above grant or a later edit adds.
        new iam.PolicyStatement({
          sid: 'NoLeavingTheBoundary',
          effect: iam.Effect.DENY,
          actions: [
            'iam:DeleteRolePermissionsBoundary',
            'iam:DeleteUserPermissionsBoundary',
            'iam:CreateUser',
            'iam:CreateAccessKey',
            'iam:CreateLoginProfile',
            'iam:UpdateLoginProfile',
            'iam:CreateOpenIDConnectProvider',
            'iam:CreateSAMLProvider',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'NoChangingTheBootstrapPolicies',
          effect: iam.Effect.DENY,
          actions: ['iam:CreatePolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:SetDefaultPolicyVersion'],
          resources: [boundaryArn, `arn:${Aws.PARTITION}:iam::${account}:policy/${bootstrapNames.executionPolicy(app, env)}`],
        }),
        new iam.PolicyStatement({
          sid: 'NoPassingOrAssumingOtherRoles',
          effect: iam.Effect.DENY,
          actions: ['iam:PassRole', 'sts:AssumeRole'],
          notResources: [ownRoles, ownBootstrapRoles],
        }),
        new iam.PolicyStatement({
          sid: 'NoOtherEnvironmentsParameters',
          effect: iam.Effect.DENY,
          actions: ['ssm:GetParameter*', 'ssm:PutParameter', 'ssm:DeleteParameter*'],
          notResources: [
            `arn:${Aws.PARTITION}:ssm:*:${account}:parameter/${app}/${env}/*`,
            `arn:${Aws.PARTITION}:ssm:*:${account}:parameter/cdk-bootstrap/${qualifier}/*`,
          ],
        }),
        new iam.PolicyStatement({
          sid: 'NoOtherEnvironmentsLogs',
          effect: iam.Effect.DENY,
          actions: ['logs:GetLogEvents', 'logs:FilterLogEvents', 'logs:StartQuery'],
          notResources: [
            `arn:${Aws.PARTITION}:logs:*:${account}:log-group:/${app}/${env}/*`,
            `arn:${Aws.PARTITION}:logs:*:${account}:log-group:/${app}/${env}/*:*`,
          ],
        }),
      ],
    });

    this.executionPolicy = new iam.ManagedPolicy(this, 'ExecutionPolicy', {
      managedPolicyName: bootstrapNames.executionPolicy(app, env),
      description: `${prefix}: what CloudFormation may do when deploying this environment's stacks (CDK bootstrap execution policy)`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ResourceTypesOfTheStacks',
          actions: [
            ...STACK_RESOURCE_ACTIONS,
            // SSM: the host's documents and the parameters CDK reads, not the environment's secrets.
            'ssm:*Document*',
            'ssm:AddTagsToResource',
            'ssm:RemoveTagsFromResource',
            'ssm:ListTagsForResource',
            'ssm:GetParameters',
          ],
          resources: ['*'],
        }),
        ...ownIam({ createSid: 'CreateOwnRolesOnlyWithTheBoundary', manageSid: 'ManageOwnRolesPoliciesAndProfiles', alsoManage: 'iam:PassRole' }),
      ],
    });

    new CfnOutput(this, 'ExecutionPolicyArn', { value: this.executionPolicy.managedPolicyArn });
    new CfnOutput(this, 'PermissionsBoundaryName', { value: bootstrapNames.permissionsBoundary(app, env) });
    new CfnOutput(this, 'Qualifier', { value: qualifier });
    new CfnOutput(this, 'BootstrapRegions', { value: [...new Set([this.region, HEALTH_STACK_REGION])].join(',') });
  }
}
