import { Aws, CfnOutput, CliCredentialsStackSynthesizer, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import {
  bootstrapNames,
  CDK_BOOTSTRAP_ROLES,
  cdkBootstrapRoleName,
  ENVIRONMENT_TAG,
  environmentStackNames,
  HEALTH_STACK_REGION,
  healthAlarmName,
} from '../names';

/**
 * The services whose resources the stacks fence by the environment tag (`env`, set on every
 * taggable resource by `bin/build-apps.ts`): an action of these services is allowed on a resource
 * tagged with the environment's own name, or when it creates one with that tag, and denied on a
 * resource tagged for another environment. A service whose resources carry no environment name
 * (instances, volumes, snapshots, lifecycle policies, the host's Auto Scaling group and its
 * launch template) belongs here. The group's name is `<app>-<env>-host`, but its ARN carries a
 * UUID and Auto Scaling authorizes most calls on the group by tag, so it is fenced by the tag
 * like the instance it launches (the tag is propagated at launch).
 */
export const TAG_SCOPED_SERVICES = ['ec2', 'dlm', 'autoscaling'] as const;

/**
 * Read-only calls without data that the stacks' deployment, the agents and the ops CLI make
 * account-wide (list and describe calls that take no resource, or whose resource is the whole
 * account): names, states and settings, never object contents, parameter values, log events or
 * command output.
 */
const ACCOUNT_WIDE_READS = [
  'ec2:Describe*',
  'dlm:GetLifecyclePolicies',
  // Describe calls of Auto Scaling take no resource (the ops CLI finds the host through its group).
  'autoscaling:Describe*',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:DescribeAlarmsForMetric',
  'cloudwatch:GetMetricData',
  'cloudwatch:GetMetricStatistics',
  'cloudwatch:ListMetrics',
  'logs:DescribeLogGroups',
  'ssm:DescribeInstanceInformation',
  'ssm:DescribeParameters',
  'ssm:ListDocuments',
  'route53:GetChange',
  'route53:GetHealthCheckCount',
  'route53:ListHealthChecks',
  'route53:ListHostedZones',
  'route53:GetHostedZone',
  'route53:ListResourceRecordSets',
  'sns:ListTopics',
  'scheduler:ListSchedules',
  's3:ListAllMyBuckets',
  'iam:GetRole',
  'iam:GetRolePolicy',
  'iam:GetPolicy',
  'iam:GetPolicyVersion',
  'iam:GetInstanceProfile',
  'iam:ListRolePolicies',
  'iam:ListAttachedRolePolicies',
  'iam:ListRoleTags',
  'iam:ListPolicyVersions',
  'iam:ListInstanceProfilesForRole',
  'cloudformation:DescribeStacks',
  'cloudformation:ListStacks',
  'cloudformation:GetTemplateSummary',
  'cloudformation:ValidateTemplate',
  'tag:GetResources',
  'sts:GetCallerIdentity',
] as const;

/** IAM writes that create or change a role's permissions: allowed only on the environment's roles, and only with the boundary attached. */
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
 * `iam:PassRole` (the boundary grants it by its own statement); the boundary also admits
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

/** Where an environment's DNS record lives, when it has one. */
export interface EnvironmentDnsRecord {
  /** Route53 hosted zone id. */
  readonly hostedZoneId: string;
  /** The one record name the environment may change (its `domain`). */
  readonly recordName: string;
}

export interface BootstrapPoliciesStackProps extends StackProps {
  /** App name: every resource the environment's stacks create is named `<app>-<env>-...`. */
  readonly appName: string;
  /**
   * Environment name; `<app>-<env>-` names this environment only (the config refuses names with
   * `-`, so `dev-eu` cannot continue `dev`).
   */
  readonly environmentName: string;
  /**
   * Parameter Store path of the environment's secrets, ending in `/` (`secretsPath`).
   * @default `/<app>/<env>/`
   */
  readonly secretsPath?: string;
  /**
   * The environment's DNS record: the only record name its roles may change in that zone.
   * @default - no Route53 record changes at all
   */
  readonly dnsRecord?: EnvironmentDnsRecord;
}

/**
 * What one environment's CDK bootstrap is allowed to do, written by the project instead of the
 * default `AdministratorAccess`, and fenced to that environment even where several environments
 * share an account:
 *
 * - the **permissions boundary**, given to `cdk bootstrap --custom-permissions-boundary`: it bounds
 *   every bootstrap role (the project's bootstrap template, lib/bootstrap/, attaches it to all of
 *   them) and every role the stacks create. Every permission in it is scoped to the environment:
 *   its stacks by exact name (`environmentStackNames`), its buckets, roles, policies, documents,
 *   alarms and topics by the `<app>-<env>-` prefix, its parameters and log groups by the
 *   `/<app>/<env>/` path, its DNS record by Route53's normalized record name, its bootstrap roles
 *   and staging bucket by its qualifier, and its instances, volumes, snapshots and lifecycle
 *   policies by the `env` tag, which only a role of the environment may set, and only to its own
 *   name. A template deployed by the environment's pipeline can therefore create no role that
 *   reaches another environment, and no administrator.
 * - the **CloudFormation execution policy**, given to `cdk bootstrap --cloudformation-execution-policies`:
 *   the services of the stacks, and IAM only to create, tag, change and delete roles and policies
 *   named `<app>-<env>-*` that carry the boundary. The boundary caps it (the execution role carries
 *   the boundary too), so it names services, not resources.
 *
 * Proven by an IAM policy evaluator over every principal and another environment's resources
 * (test/iam/). Deployed by an administrator with their own credentials (`npm run bootstrap -- --env <env>`),
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
    const partition = Aws.PARTITION;
    const prefix = `${app}-${env}`;
    const qualifier = bootstrapNames.qualifier(app, env);
    const secrets = (props.secretsPath ?? `/${app}/${env}/`).slice(1);
    const arn = (service: string, resource: string, region = '*') => `arn:${partition}:${service}:${region}:${account}:${resource}`;
    const iamArn = (resource: string) => `arn:${partition}:iam::${account}:${resource}`;
    const boundaryArn = iamArn(`policy/${bootstrapNames.permissionsBoundary(app, env)}`);
    const ownRoles = iamArn(`role/${prefix}-*`);
    const ownPolicies = iamArn(`policy/${prefix}-*`);
    const ownInstanceProfiles = iamArn(`instance-profile/${prefix}-*`);
    const bootstrapRoles = [...new Set([HEALTH_STACK_REGION, this.region])].flatMap((region) =>
      CDK_BOOTSTRAP_ROLES.map((role) => iamArn(`role/${cdkBootstrapRoleName(qualifier, role, account, region)}`)),
    );
    const executionRoles = [...new Set([HEALTH_STACK_REGION, this.region])].map((region) =>
      iamArn(`role/${cdkBootstrapRoleName(qualifier, 'cfn-exec-role', account, region)}`),
    );
    const ownTag = { [`aws:ResourceTag/${ENVIRONMENT_TAG}`]: env };
    const withBoundary = { StringEquals: { 'iam:PermissionsBoundary': boundaryArn } };
    /** The two IAM statements both policies hold: create own roles only with the boundary, manage own roles, profiles and policies. */
    const ownIam = (o: { createSid: string; manageSid: string; alsoManage: string }) => [
      new iam.PolicyStatement({ sid: o.createSid, actions: [...CREATE_OWN_ROLE_ACTIONS], resources: [ownRoles], conditions: withBoundary }),
      new iam.PolicyStatement({
        sid: o.manageSid,
        actions: [...MANAGE_OWN_IAM_ACTIONS, o.alsoManage],
        resources: [ownRoles, ownPolicies, ownInstanceProfiles],
      }),
    ];
    const tagScoped = TAG_SCOPED_SERVICES.map((service) => `${service}:*`);
    const stacks = [...new Set([this.region, HEALTH_STACK_REGION])].flatMap((region) =>
      environmentStackNames(app, env).map((name) => arn('cloudformation', `stack/${name}/*`, region)),
    );

    this.permissionsBoundary = new iam.ManagedPolicy(this, 'PermissionsBoundary', {
      managedPolicyName: bootstrapNames.permissionsBoundary(app, env),
      description: `${prefix}: the most any role of this environment (bootstrap roles, CloudFormation execution role, the stacks' roles) may do`,
      statements: [
        new iam.PolicyStatement({ sid: 'AccountWideReadsWithoutData', actions: [...ACCOUNT_WIDE_READS], resources: ['*'] }),
        new iam.PolicyStatement({ sid: 'OwnStacks', actions: ['cloudformation:*'], resources: stacks }),
        new iam.PolicyStatement({
          sid: 'OwnBucketsAndStagingBucket',
          actions: ['s3:*'],
          resources: [`arn:${partition}:s3:::${prefix}-*`, `arn:${partition}:s3:::cdk-${qualifier}-assets-${account}-*`],
        }),
        new iam.PolicyStatement({
          sid: 'OwnLogGroups',
          actions: ['logs:*'],
          resources: [arn('logs', `log-group:/${app}/${env}/*`)],
        }),
        new iam.PolicyStatement({
          sid: 'OwnParametersAndDocuments',
          actions: ['ssm:*'],
          resources: [arn('ssm', `parameter/${secrets}*`), arn('ssm', `parameter/cdk-bootstrap/${qualifier}/*`), arn('ssm', `document/${prefix}-*`)],
        }),
        // The public parameter EC2 resolves the AMI from (`resolve:ssm:` in the launch template).
        new iam.PolicyStatement({
          sid: 'PublicAmiParameters',
          actions: ['ssm:GetParameter', 'ssm:GetParameters'],
          resources: [`arn:${partition}:ssm:*::parameter/aws/service/*`],
        }),
        // Commands to and sessions of instances are fenced by the instance's environment tag, so an
        // instance the environment's Auto Scaling group launches later is covered (issue 25).
        new iam.PolicyStatement({
          sid: 'OwnInstancesBySsm',
          actions: ['ssm:SendCommand', 'ssm:UpdateInstanceInformation', 'ssm:ListInstanceAssociations', 'ssm:UpdateInstanceAssociationStatus'],
          resources: [arn('ec2', 'instance/*')],
          conditions: { StringEquals: ownTag },
        }),
        // The agents' channels take no resource: the service binds them to the calling instance.
        new iam.PolicyStatement({
          sid: 'AgentChannels',
          actions: [
            'ssmmessages:CreateControlChannel',
            'ssmmessages:CreateDataChannel',
            'ssmmessages:OpenControlChannel',
            'ssmmessages:OpenDataChannel',
            'ec2messages:*',
          ],
          resources: ['*'],
        }),
        // Metric data takes no resource, and the namespaces are the app's, not an environment's
        // (docs/aws.md, "What a shared account shares"); the instance role's own policy names them.
        new iam.PolicyStatement({ sid: 'Metrics', actions: ['cloudwatch:PutMetricData'], resources: ['*'] }),
        new iam.PolicyStatement({
          sid: 'OwnAlarms',
          actions: ['cloudwatch:*'],
          resources: [arn('cloudwatch', `alarm:${prefix}-*`), arn('cloudwatch', `alarm:${healthAlarmName(app, env)}`)],
        }),
        new iam.PolicyStatement({ sid: 'OwnTopics', actions: ['sns:*'], resources: [arn('sns', `${prefix}-*`)] }),
        new iam.PolicyStatement({ sid: 'OwnSchedules', actions: ['scheduler:*'], resources: [arn('scheduler', `schedule/default/${prefix}-*`)] }),
        // Health checks have no name IAM can match and no tag condition: the one Route53 write an
        // environment cannot be fenced in on (docs/aws.md, "What a shared account shares").
        new iam.PolicyStatement({
          sid: 'HealthChecks',
          actions: [
            'route53:CreateHealthCheck',
            'route53:UpdateHealthCheck',
            'route53:DeleteHealthCheck',
            'route53:GetHealthCheck*',
            'route53:ChangeTagsForResource',
            'route53:ListTagsForResource',
          ],
          resources: [`arn:${partition}:route53:::healthcheck/*`],
        }),
        ...(props.dnsRecord
          ? [
              new iam.PolicyStatement({
                sid: 'OwnDnsRecordOnly',
                actions: ['route53:ChangeResourceRecordSets'],
                resources: [`arn:${partition}:route53:::hostedzone/${props.dnsRecord.hostedZoneId}`],
                conditions: {
                  'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [props.dnsRecord.recordName.toLowerCase()] },
                },
              }),
            ]
          : []),
        // Tag-scoped services: own tagged resources, and new resources created with the own tag.
        new iam.PolicyStatement({ sid: 'TaggedForThisEnvironment', actions: tagScoped, resources: ['*'], conditions: { StringEquals: ownTag } }),
        new iam.PolicyStatement({
          sid: 'CreatedWithThisEnvironmentsTag',
          actions: tagScoped,
          resources: ['*'],
          conditions: { StringEquals: { [`aws:RequestTag/${ENVIRONMENT_TAG}`]: env } },
        }),
        // What an instance launch and its address use that is nobody's tagged resource: AWS's
        // public images and their snapshots (no account in the ARN), and the new network interface.
        new iam.PolicyStatement({
          sid: 'LaunchFromPublicImages',
          actions: ['ec2:RunInstances', 'ec2:CreateLaunchTemplate', 'ec2:CreateLaunchTemplateVersion'],
          resources: [`arn:${partition}:ec2:*::image/*`, `arn:${partition}:ec2:*::snapshot/*`],
        }),
        new iam.PolicyStatement({
          sid: 'NewNetworkInterfaces',
          actions: ['ec2:RunInstances', 'ec2:AssociateAddress', 'ec2:DisassociateAddress'],
          resources: [arn('ec2', 'network-interface/*')],
        }),
        ...ownIam({ createSid: 'IamOnlyForOwnRolesWithThisBoundary', manageSid: 'IamOwnRolesAndPolicies', alsoManage: 'iam:SetDefaultPolicyVersion' }),
        new iam.PolicyStatement({ sid: 'PassOwnRoles', actions: ['iam:PassRole'], resources: [ownRoles, ...executionRoles] }),
        autoScalingServiceLinkedRole(partition, account),
        new iam.PolicyStatement({ sid: 'AssumeOwnBootstrapRoles', actions: ['sts:AssumeRole'], resources: bootstrapRoles }),
        // Explicit denies: they hold whatever the Allow statements above grant or a later edit adds.
        new iam.PolicyStatement({
          sid: 'NoOtherEnvironmentsTaggedResources',
          effect: iam.Effect.DENY,
          actions: tagScoped,
          resources: ['*'],
          conditions: { StringNotEquals: ownTag, Null: { [`aws:ResourceTag/${ENVIRONMENT_TAG}`]: 'false' } },
        }),
        // The account's snapshots that are not tagged for this environment, untagged ones included
        // (CloudFormation's snapshot of a deleted volume carries no tags): never read, copied,
        // shared or restored. Snapshot ARNs name no account; `ec2:Owner` tells the account's own
        // from AWS's public ones, which a launch from a public image reads.
        new iam.PolicyStatement({
          sid: 'NoSnapshotsButOwn',
          effect: iam.Effect.DENY,
          notActions: ['ec2:CreateSnapshot', 'ec2:CreateSnapshots', 'ec2:CreateTags', 'ec2:Describe*'],
          resources: [`arn:${partition}:ec2:*::snapshot/*`],
          conditions: { StringNotEquals: ownTag, StringEquals: { 'ec2:Owner': account } },
        }),
        new iam.PolicyStatement({
          sid: 'EnvironmentTagOnlyToOwnName',
          effect: iam.Effect.DENY,
          actions: TAG_SCOPED_SERVICES.map((service) => `${service}:*Tag*`),
          resources: ['*'],
          conditions: { StringNotEquals: { [`aws:RequestTag/${ENVIRONMENT_TAG}`]: env }, Null: { [`aws:RequestTag/${ENVIRONMENT_TAG}`]: 'false' } },
        }),
        new iam.PolicyStatement({
          sid: 'EnvironmentTagNeverRemoved',
          effect: iam.Effect.DENY,
          actions: ['ec2:DeleteTags', 'dlm:UntagResource', 'autoscaling:DeleteTags'],
          resources: ['*'],
          conditions: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': [ENVIRONMENT_TAG] } },
        }),
        new iam.PolicyStatement({
          sid: 'TagOthersOnlyAtCreation',
          effect: iam.Effect.DENY,
          actions: ['ec2:CreateTags'],
          resources: ['*'],
          conditions: { Null: { 'ec2:CreateAction': 'true' }, StringNotEquals: ownTag },
        }),
        new iam.PolicyStatement({
          sid: 'NoChangingTheBootstrapPolicies',
          effect: iam.Effect.DENY,
          actions: ['iam:CreatePolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:SetDefaultPolicyVersion'],
          resources: [boundaryArn, iamArn(`policy/${bootstrapNames.executionPolicy(app, env)}`)],
        }),
      ],
    });

    this.executionPolicy = new iam.ManagedPolicy(this, 'ExecutionPolicy', {
      managedPolicyName: bootstrapNames.executionPolicy(app, env),
      description: `${prefix}: what CloudFormation may do when deploying this environment's stacks (CDK bootstrap execution policy; the boundary fences it to the environment)`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ResourceTypesOfTheStacks',
          actions: [
            ...tagScoped,
            's3:*',
            'logs:*',
            'cloudwatch:*',
            'sns:*',
            'route53:*',
            'scheduler:*',
            'iam:Get*',
            'iam:List*',
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
        autoScalingServiceLinkedRole(partition, account),
      ],
    });

    new CfnOutput(this, 'ExecutionPolicyArn', { value: this.executionPolicy.managedPolicyArn });
    new CfnOutput(this, 'PermissionsBoundaryName', { value: bootstrapNames.permissionsBoundary(app, env) });
    new CfnOutput(this, 'Qualifier', { value: qualifier });
    new CfnOutput(this, 'BootstrapRegions', { value: [...new Set([this.region, HEALTH_STACK_REGION])].join(',') });
  }
}

/**
 * The first Auto Scaling group of an account makes CloudFormation create Auto Scaling's
 * service-linked role (it launches and terminates the host): that one role, by its fixed ARN.
 * @see https://docs.aws.amazon.com/autoscaling/ec2/userguide/autoscaling-service-linked-role.html
 */
function autoScalingServiceLinkedRole(partition: string, account: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'AutoScalingServiceLinkedRole',
    actions: ['iam:CreateServiceLinkedRole'],
    resources: [`arn:${partition}:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`],
  });
}
