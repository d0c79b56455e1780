import type { REAPPLIED_OPERATIONS } from '../host-runtime/document-spec';
import { ENVIRONMENT_TAG } from '../names';

/*
 * The questions that decide whether environments are isolated, as requests an IAM policy
 * evaluator answers (lib/iam/evaluate.ts): what one environment's principals must never do to
 * another environment's resources, what they must never do even to their own, and the work each
 * principal must still be able to do (the positive controls). Shared by the test matrix
 * (test/iam/) and `ops iam-audit`.
 */

/** One environment's resources, as ARNs and names (concrete values, no CloudFormation tokens). */
export interface EnvironmentResources {
  readonly name: string;
  readonly account: string;
  readonly partition: string;
  /** The host instance (whichever the group runs now); it carries the environment tag and the group's name tag. */
  readonly instanceArn: string;
  /** The host's Auto Scaling group of one (`hostGroupName`); it carries the environment tag. */
  readonly groupArn: string;
  /** The environment's Elastic IP (allocation ARN), for an always-on environment; a scheduled one has none. */
  readonly addressArn?: string;
  /** The data volume (Postgres, Redis, state). */
  readonly dataVolumeArn: string;
  /** A snapshot of the data volume (Data Lifecycle Manager copies the volume's tags onto it); its ARN names no account. */
  readonly snapshotArn: string;
  /** The host's security group. */
  readonly securityGroupArn: string;
  /** The host's network interface, which EC2 creates untagged. */
  readonly networkInterfaceArn: string;
  /** The environment's alarm topic. */
  readonly alarmTopicArn: string;
  /** One of the environment's EventBridge Scheduler schedules (generated names start `<app>-<env>-`). */
  readonly scheduleArn: string;
  /** Name of the backups bucket. */
  readonly backupsBucket: string;
  /** Key prefix of the environment's backups in that bucket (`backupPrefix(env)`). */
  readonly backupsPrefix: string;
  /** Name of the environment's CDK staging bucket. */
  readonly stagingBucket: string;
  /** One secret of the environment in Parameter Store. */
  readonly secretParameterArn: string;
  /** The environment's command log group (the others are alike). */
  readonly commandLogGroupArn: string;
  /** One of the environment's stacks (the data stack: backups, logs, data volume). */
  readonly stackArn: string;
  /** The environment's deploy document (a replacement host sends it to itself). */
  readonly documentArn: string;
  /** The environment's tls, firewall and backup documents (a replacement host sends those applied before to itself). */
  readonly reappliedDocumentArns: Readonly<Record<(typeof REAPPLIED_OPERATIONS)[number], string>>;
  /** One of the environment's named alarms. */
  readonly alarmArn: string;
  /** The environment's DNS record, when it has one. */
  readonly dnsRecord?: { readonly hostedZoneId: string; readonly recordName: string };
  /** The environment's roles: deploy (OIDC), instance, bootstrap roles, execution role. */
  readonly roles: {
    readonly deploy: string;
    readonly instance: string;
    readonly bootstrapDeploy: string;
    readonly filePublishing: string;
    readonly lookup: string;
    readonly execution: string;
    /** The OIDC role of the plan job (`ops plan`): change sets, never executed. */
    readonly plan: string;
  };
  /** The permissions boundary's ARN (`iam:PermissionsBoundary` of roles the environment creates). */
  readonly boundaryArn: string;
}

/** Which resource policy applies to a request, when one does. */
export type ResourcePolicyRef = { readonly kind: 'bucket'; readonly bucket: string } | { readonly kind: 'trust'; readonly roleArn: string };

/** One request and why it is asked. */
export interface Operation {
  /** What it stands for, e.g. `run a command on prod's instance`. */
  readonly id: string;
  readonly action: string;
  readonly resource: string;
  readonly resourceAccount: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  readonly resourcePolicy?: ResourcePolicyRef;
}

/** The principals of an environment the matrix asks about. */
export type PrincipalKind = 'oidc-deploy' | 'oidc-plan' | 'bootstrap-deploy' | 'file-publishing' | 'lookup' | 'execution' | 'created-role' | 'instance';

const tagged = (env: string) => ({ [`aws:ResourceTag/${ENVIRONMENT_TAG}`]: env });
/** The tag EC2 Auto Scaling puts on every instance it launches (its value is the group's name, the last part of its ARN). */
const groupTag = (groupArn: string) => ({ 'aws:ResourceTag/aws:autoscaling:groupName': groupArn.slice(groupArn.lastIndexOf('/') + 1) });
/** An instance of the environment's group, as a request about it carries its tags. */
const hostInstance = (r: EnvironmentResources) => ({ ...tagged(r.name), ...groupTag(r.groupArn) });
const s3 = (partition: string, bucket: string, key?: string) => `arn:${partition}:s3:::${bucket}${key === undefined ? '' : `/${key}`}`;

/**
 * What a principal of environment `from` must never be allowed to do to environment `to`'s
 * resources: run commands or sessions on its instance, read, delete or overwrite its backups and
 * their versions, change its bucket's policy, lifecycle, versioning or lock, read or write its
 * parameters, change its DNS record, change or delete its stacks, read or subscribe to its logs,
 * use its snapshots or volumes, change its instance, firewall or tags, change or pass or assume its
 * roles, write its staging bucket, silence its alarms.
 */
export function crossEnvironmentOperations(fromResources: EnvironmentResources, to: EnvironmentResources): Operation[] {
  const from = fromResources.name;
  const env = to.name;
  const acct = to.account;
  const backup = `${to.backupsPrefix}2026-01-01T00-00-00Z.dump`;
  const op = (id: string, action: string, resource: string, extra: Partial<Operation> = {}): Operation => ({
    id: `${id} of ${env}`,
    action,
    resource,
    resourceAccount: acct,
    ...extra,
  });
  const bucketPolicy: ResourcePolicyRef = { kind: 'bucket', bucket: to.backupsBucket };
  const instance = { context: { ...tagged(env), [`ssm:resourceTag/${ENVIRONMENT_TAG}`]: env } };
  const roles = Object.values(to.roles);
  return [
    op('send a command to the instance', 'ssm:SendCommand', to.instanceArn, instance),
    op('send a host document', 'ssm:SendCommand', to.documentArn),
    ...Object.entries(to.reappliedDocumentArns).map(([operation, arn]) => op(`send its ${operation} document`, 'ssm:SendCommand', arn)),
    op('start a session on the instance', 'ssm:StartSession', to.instanceArn, instance),
    op('read a backup', 's3:GetObject', s3(to.partition, to.backupsBucket, backup), { resourcePolicy: bucketPolicy }),
    op('read an old backup version', 's3:GetObjectVersion', s3(to.partition, to.backupsBucket, backup), { resourcePolicy: bucketPolicy }),
    op('overwrite a backup', 's3:PutObject', s3(to.partition, to.backupsBucket, backup), { resourcePolicy: bucketPolicy }),
    op('delete a backup', 's3:DeleteObject', s3(to.partition, to.backupsBucket, backup), { resourcePolicy: bucketPolicy }),
    op('delete a backup version', 's3:DeleteObjectVersion', s3(to.partition, to.backupsBucket, backup), { resourcePolicy: bucketPolicy }),
    ...['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutLifecycleConfiguration', 's3:PutBucketVersioning', 's3:PutBucketObjectLockConfiguration'].map(
      (action) => op(`change the backups bucket (${action})`, action, s3(to.partition, to.backupsBucket), { resourcePolicy: bucketPolicy }),
    ),
    op('read a secret', 'ssm:GetParameter', to.secretParameterArn),
    op('overwrite a secret', 'ssm:PutParameter', to.secretParameterArn),
    ...(to.dnsRecord
      ? [
          op('change the DNS record', 'route53:ChangeResourceRecordSets', `arn:${to.partition}:route53:::hostedzone/${to.dnsRecord.hostedZoneId}`, {
            context: { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [to.dnsRecord.recordName.toLowerCase()] },
          }),
          op('add an ACME challenge record', 'route53:ChangeResourceRecordSets', `arn:${to.partition}:route53:::hostedzone/${to.dnsRecord.hostedZoneId}`, {
            context: { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`_acme-challenge.${to.dnsRecord.recordName.toLowerCase()}`] },
          }),
        ]
      : []),
    op('update a stack', 'cloudformation:UpdateStack', to.stackArn, { context: { 'cloudformation:RoleArn': to.roles.execution } }),
    op('create a change set', 'cloudformation:CreateChangeSet', to.stackArn, { context: { 'cloudformation:RoleArn': to.roles.execution } }),
    op('execute a change set', 'cloudformation:ExecuteChangeSet', to.stackArn),
    op('delete a stack', 'cloudformation:DeleteStack', to.stackArn),
    op('read the logs', 'logs:FilterLogEvents', to.commandLogGroupArn),
    op('read a log stream', 'logs:GetLogEvents', to.commandLogGroupArn),
    op('subscribe to the logs', 'logs:PutSubscriptionFilter', to.commandLogGroupArn),
    op('delete the logs', 'logs:DeleteLogGroup', to.commandLogGroupArn),
    op('create a volume from a snapshot', 'ec2:CreateVolume', to.snapshotArn, {
      context: { ...tagged(env), 'ec2:Owner': acct, [`aws:RequestTag/${ENVIRONMENT_TAG}`]: from },
    }),
    op('create a volume from an untagged snapshot', 'ec2:CreateVolume', to.snapshotArn, {
      context: { 'ec2:Owner': acct, [`aws:RequestTag/${ENVIRONMENT_TAG}`]: from },
    }),
    op('share a snapshot', 'ec2:ModifySnapshotAttribute', to.snapshotArn, { context: { ...tagged(env), 'ec2:Owner': acct } }),
    op('snapshot the data volume', 'ec2:CreateSnapshot', to.dataVolumeArn, { context: { ...tagged(env), [`aws:RequestTag/${ENVIRONMENT_TAG}`]: from } }),
    op('attach the data volume', 'ec2:AttachVolume', to.dataVolumeArn, { context: tagged(env) }),
    op('detach the data volume', 'ec2:DetachVolume', to.dataVolumeArn, { context: tagged(env) }),
    op('attach a volume to the instance', 'ec2:AttachVolume', to.instanceArn, { context: hostInstance(to) }),
    // The host's Auto Scaling group: its size, its instance, its clean stop, its launch template.
    op('set the host group’s desired capacity', 'autoscaling:SetDesiredCapacity', to.groupArn, { context: tagged(env) }),
    op('terminate the host through its group', 'autoscaling:TerminateInstanceInAutoScalingGroup', to.groupArn, { context: tagged(env) }),
    op('complete the host group’s lifecycle action', 'autoscaling:CompleteLifecycleAction', to.groupArn, { context: tagged(env) }),
    op('update the host group', 'autoscaling:UpdateAutoScalingGroup', to.groupArn, { context: tagged(env) }),
    op('start an instance refresh of the host group', 'autoscaling:StartInstanceRefresh', to.groupArn, { context: tagged(env) }),
    op('associate an address with the instance', 'ec2:AssociateAddress', to.instanceArn, { context: hostInstance(to) }),
    ...(to.addressArn ? [op('take the Elastic IP', 'ec2:AssociateAddress', to.addressArn, { context: tagged(env) })] : []),
    op('change the instance (user data)', 'ec2:ModifyInstanceAttribute', to.instanceArn, { context: tagged(env) }),
    op('stop the instance', 'ec2:StopInstances', to.instanceArn, { context: tagged(env) }),
    op('open the firewall', 'ec2:AuthorizeSecurityGroupIngress', to.securityGroupArn, { context: tagged(env) }),
    op('re-tag the instance as its own', 'ec2:CreateTags', to.instanceArn, {
      context: { ...tagged(env), [`aws:RequestTag/${ENVIRONMENT_TAG}`]: from, 'aws:TagKeys': [ENVIRONMENT_TAG] },
    }),
    op('remove the environment tag', 'ec2:DeleteTags', to.instanceArn, { context: { ...tagged(env), 'aws:TagKeys': [ENVIRONMENT_TAG] } }),
    op('change its network interface', 'ec2:ModifyNetworkInterfaceAttribute', to.networkInterfaceArn),
    op('claim its untagged network interface', 'ec2:CreateTags', to.networkInterfaceArn, {
      context: { [`aws:RequestTag/${ENVIRONMENT_TAG}`]: from, 'aws:TagKeys': [ENVIRONMENT_TAG] },
    }),
    // An instance of `from` tagged as `to`'s would receive `to`'s commands, volume and secrets.
    {
      id: `plant an instance tagged as ${env}'s`,
      action: 'ec2:CreateTags',
      resource: fromResources.instanceArn,
      resourceAccount: fromResources.account,
      context: { ...tagged(from), [`aws:RequestTag/${ENVIRONMENT_TAG}`]: env, 'aws:TagKeys': [ENVIRONMENT_TAG] },
    },
    op('subscribe to the alarm topic', 'sns:Subscribe', to.alarmTopicArn),
    op('delete a schedule', 'scheduler:DeleteSchedule', to.scheduleArn),
    op('silence an alarm', 'cloudwatch:DisableAlarmActions', to.alarmArn),
    op('delete an alarm', 'cloudwatch:DeleteAlarms', to.alarmArn),
    ...roles.flatMap((role) => [
      op(`change the trust of ${role}`, 'iam:UpdateAssumeRolePolicy', role),
      op(`add a policy to ${role}`, 'iam:PutRolePolicy', role),
      op(`attach a policy to ${role}`, 'iam:AttachRolePolicy', role),
      op(`pass ${role}`, 'iam:PassRole', role),
    ]),
    ...[to.roles.bootstrapDeploy, to.roles.filePublishing, to.roles.lookup, to.roles.instance, to.roles.deploy, to.roles.plan].map((role) =>
      op(`assume ${role}`, 'sts:AssumeRole', role, { resourcePolicy: { kind: 'trust', roleArn: role } }),
    ),
    op('plant an object in the staging bucket', 's3:PutObject', s3(to.partition, to.stagingBucket, 'planted.json'), {
      resourcePolicy: { kind: 'bucket', bucket: to.stagingBucket },
    }),
  ];
}

/**
 * What no principal of an environment may do even to its own environment: destroy or rewrite its
 * backups' history, write backups the host could not read back (SSE-C), leave the boundary.
 * `executionRole` marks the one principal the bucket policy lets change the bucket's configuration,
 * `filePublishing` the one that writes the staging bucket, `bootstrapDeploy` the one that deploys.
 */
export function neverOperations(
  own: EnvironmentResources,
  options: { readonly executionRole: boolean; readonly filePublishing: boolean; readonly bootstrapDeploy: boolean; readonly plan?: boolean },
): Operation[] {
  const bucketPolicy: ResourcePolicyRef = { kind: 'bucket', bucket: own.backupsBucket };
  const backup = s3(own.partition, own.backupsBucket, `${own.backupsPrefix}2026-01-01T00-00-00Z.dump`);
  const bucket = s3(own.partition, own.backupsBucket);
  const op = (id: string, action: string, resource: string, extra: Partial<Operation> = {}): Operation => ({
    id: `${id} (own ${own.name})`,
    action,
    resource,
    resourceAccount: own.account,
    ...extra,
  });
  return [
    op('delete a backup version', 's3:DeleteObjectVersion', backup, { resourcePolicy: bucketPolicy }),
    op('bypass the backups lock', 's3:BypassGovernanceRetention', backup, { resourcePolicy: bucketPolicy }),
    op('write a backup with a customer key (SSE-C)', 's3:PutObject', backup, {
      resourcePolicy: bucketPolicy,
      context: { 's3:x-amz-server-side-encryption-customer-algorithm': 'AES256' },
    }),
    ...(options.executionRole
      ? []
      : ['s3:PutBucketVersioning', 's3:PutLifecycleConfiguration', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketObjectLockConfiguration'].map(
          (action) => op(`change the backups bucket (${action})`, action, bucket, { resourcePolicy: bucketPolicy }),
        )),
    op('read a backup over plain HTTP', 's3:GetObject', backup, { resourcePolicy: bucketPolicy, context: { 'aws:SecureTransport': 'false' } }),
    op('read the staging bucket over plain HTTP', 's3:GetObject', s3(own.partition, own.stagingBucket, 'template.json'), {
      resourcePolicy: { kind: 'bucket', bucket: own.stagingBucket },
      context: { 'aws:SecureTransport': 'false' },
    }),
    ...(options.filePublishing
      ? []
      : [
          op('plant an object in its staging bucket', 's3:PutObject', s3(own.partition, own.stagingBucket, 'planted.json'), {
            resourcePolicy: { kind: 'bucket', bucket: own.stagingBucket },
          }),
        ]),
    // The bootstrap deploy role runs stacks with the environment's execution role only.
    ...(options.bootstrapDeploy
      ? [
          op('deploy its stack with another role than its execution role', 'cloudformation:CreateChangeSet', own.stackArn, {
            context: { 'cloudformation:RoleArn': own.roles.instance },
          }),
        ]
      : []),
    // The plan runs before any approval: it creates change sets and never executes one.
    ...(options.plan ? [op('execute a change set', 'cloudformation:ExecuteChangeSet', own.stackArn)] : []),
    op('remove its instance environment tag', 'ec2:DeleteTags', own.instanceArn, { context: { ...tagged(own.name), 'aws:TagKeys': [ENVIRONMENT_TAG] } }),
    op('remove its host group’s environment tag', 'autoscaling:DeleteTags', own.groupArn, {
      context: { ...tagged(own.name), 'aws:TagKeys': [ENVIRONMENT_TAG] },
    }),
    op('remove a role boundary', 'iam:DeleteRolePermissionsBoundary', own.roles.instance),
    op('create a role without the boundary', 'iam:CreateRole', `arn:${own.partition}:iam::${own.account}:role/${roleNameOf(own.roles.instance)}-new`),
    op('change the boundary', 'iam:CreatePolicyVersion', own.boundaryArn),
  ];
}

/** The work each principal of an environment exists for: it must stay allowed. */
export function ownWork(kind: PrincipalKind, own: EnvironmentResources): Operation[] {
  const env = own.name;
  const acct = own.account;
  const op = (id: string, action: string, resource: string, extra: Partial<Operation> = {}): Operation => ({
    id: `${id} (own ${env})`,
    action,
    resource,
    resourceAccount: acct,
    ...extra,
  });
  const instance = { context: { ...tagged(env), [`ssm:resourceTag/${ENVIRONMENT_TAG}`]: env } };
  const backup = s3(own.partition, own.backupsBucket, `${own.backupsPrefix}2026-01-01T00-00-00Z.dump`);
  const bucketPolicy: ResourcePolicyRef = { kind: 'bucket', bucket: own.backupsBucket };
  const created = { [`aws:RequestTag/${ENVIRONMENT_TAG}`]: env, 'aws:TagKeys': [ENVIRONMENT_TAG] };
  const ec2 = (resource: string) => `arn:${own.partition}:ec2:${regionOf(own.instanceArn)}:${acct}:${resource}`;
  switch (kind) {
    case 'oidc-deploy':
      return [
        op('send a host document', 'ssm:SendCommand', own.documentArn),
        op('send it to the instance', 'ssm:SendCommand', own.instanceArn, instance),
        op('find the instance through its group', 'autoscaling:DescribeAutoScalingGroups', '*'),
        op('read command output', 'logs:FilterLogEvents', own.commandLogGroupArn),
        op('read stack outputs', 'cloudformation:DescribeStacks', own.stackArn),
        op('assume the bootstrap deploy role', 'sts:AssumeRole', own.roles.bootstrapDeploy, {
          resourcePolicy: { kind: 'trust', roleArn: own.roles.bootstrapDeploy },
        }),
      ];
    case 'oidc-plan':
      return [
        op('create a change set', 'cloudformation:CreateChangeSet', `${own.stackArn}`),
        op('read the deployed template', 'cloudformation:GetTemplate', own.stackArn),
        op("put a plan's template under ops-plan/", 's3:PutObject', s3(own.partition, own.stagingBucket, 'ops-plan/template.json'), {
          resourcePolicy: { kind: 'bucket', bucket: own.stagingBucket },
        }),
      ];
    case 'bootstrap-deploy':
      return [
        op('create a change set with the execution role', 'cloudformation:CreateChangeSet', own.stackArn, {
          context: { 'cloudformation:RoleArn': own.roles.execution },
        }),
        op('execute it', 'cloudformation:ExecuteChangeSet', own.stackArn),
        op('read the deployed template', 'cloudformation:GetTemplate', own.stackArn),
        op('pass the execution role', 'iam:PassRole', own.roles.execution),
        op('read a staged template', 's3:GetObject', s3(own.partition, own.stagingBucket, 'template.json'), {
          resourcePolicy: { kind: 'bucket', bucket: own.stagingBucket },
        }),
      ];
    case 'file-publishing':
      return [
        op('stage a template', 's3:PutObject', s3(own.partition, own.stagingBucket, 'template.json'), {
          resourcePolicy: { kind: 'bucket', bucket: own.stagingBucket },
        }),
        op('check a staged template', 's3:GetObject', s3(own.partition, own.stagingBucket, 'template.json'), {
          resourcePolicy: { kind: 'bucket', bucket: own.stagingBucket },
        }),
      ];
    case 'lookup':
      return [op('read the deployed template', 'cloudformation:GetTemplate', own.stackArn)];
    case 'execution':
      return [
        op('launch the instance tagged for the environment', 'ec2:RunInstances', ec2('instance/*'), { context: created }),
        op('launch from the public AMI', 'ec2:RunInstances', `arn:${own.partition}:ec2:${regionOf(own.instanceArn)}::image/ami-0123456789abcdef0`),
        op('tag at creation', 'ec2:CreateTags', ec2('instance/*'), { context: { ...created, 'ec2:CreateAction': 'RunInstances' } }),
        op('create the data volume', 'ec2:CreateVolume', ec2('volume/*'), { context: created }),
        op('create the host group tagged for the environment', 'autoscaling:CreateAutoScalingGroup', own.groupArn, { context: created }),
        op('change its host group', 'autoscaling:UpdateAutoScalingGroup', own.groupArn, { context: tagged(env) }),
        op('put the clean-stop hook on its group', 'autoscaling:PutLifecycleHook', own.groupArn, { context: tagged(env) }),
        op(
          "create Auto Scaling's service-linked role",
          'iam:CreateServiceLinkedRole',
          `arn:${own.partition}:iam::${acct}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
        ),
        op('change its own instance', 'ec2:ModifyInstanceAttribute', own.instanceArn, { context: tagged(env) }),
        op('rename its instance', 'ec2:CreateTags', own.instanceArn, { context: { ...tagged(env), 'aws:TagKeys': ['Name'] } }),
        op('remove a tag of its instance', 'ec2:DeleteTags', own.instanceArn, { context: { ...tagged(env), 'aws:TagKeys': ['Name'] } }),
        op('restore its volume from its snapshot', 'ec2:CreateVolume', own.snapshotArn, { context: { ...tagged(env), 'ec2:Owner': acct, ...created } }),
        op(
          "launch with the public AMI's snapshot",
          'ec2:RunInstances',
          `arn:${own.partition}:ec2:${regionOf(own.instanceArn)}::snapshot/snap-0a1b2c3d4e5f60718`,
          {
            context: { 'ec2:Owner': 'amazon' },
          },
        ),
        op('change its own firewall', 'ec2:AuthorizeSecurityGroupIngress', own.securityGroupArn, { context: tagged(env) }),
        op('change the backups lifecycle', 's3:PutLifecycleConfiguration', s3(own.partition, own.backupsBucket), { resourcePolicy: bucketPolicy }),
        op('change the backups bucket policy', 's3:PutBucketPolicy', s3(own.partition, own.backupsBucket), { resourcePolicy: bucketPolicy }),
        op('create the log group', 'logs:CreateLogGroup', own.commandLogGroupArn),
        op('update a host document', 'ssm:UpdateDocument', own.documentArn),
        op('create a role with the boundary', 'iam:CreateRole', `arn:${own.partition}:iam::${acct}:role/${roleNameOf(own.roles.instance)}-new`, {
          context: { 'iam:PermissionsBoundary': own.boundaryArn },
        }),
        op('pass the instance role', 'iam:PassRole', own.roles.instance),
        op('create an alarm', 'cloudwatch:PutMetricAlarm', own.alarmArn),
        ...(own.dnsRecord
          ? [
              op('change its own DNS record', 'route53:ChangeResourceRecordSets', `arn:${own.partition}:route53:::hostedzone/${own.dnsRecord.hostedZoneId}`, {
                context: { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [own.dnsRecord.recordName.toLowerCase()] },
              }),
            ]
          : []),
      ];
    case 'created-role':
      return [
        op('send a command to its instance', 'ssm:SendCommand', own.instanceArn, instance),
        op('read its backups', 's3:GetObject', backup, { resourcePolicy: bucketPolicy }),
        op('read its secrets', 'ssm:GetParameter', own.secretParameterArn),
        op('read its logs', 'logs:FilterLogEvents', own.commandLogGroupArn),
        op('snapshot its data volume', 'ec2:CreateSnapshot', own.dataVolumeArn, { context: tagged(env) }),
        // The working-hours schedule's role.
        op('start and stop its host group', 'autoscaling:UpdateAutoScalingGroup', own.groupArn, { context: tagged(env) }),
      ];
    case 'instance':
      return [
        op('write a backup', 's3:PutObject', backup, { resourcePolicy: bucketPolicy }),
        op('read a backup', 's3:GetObject', backup, { resourcePolicy: bucketPolicy }),
        op('read an older backup version', 's3:GetObjectVersion', backup, { resourcePolicy: bucketPolicy }),
        op('read its secrets', 'ssm:GetParameter', own.secretParameterArn),
        op('ship command output', 'logs:PutLogEvents', own.commandLogGroupArn),
        op('attach its data volume', 'ec2:AttachVolume', own.dataVolumeArn, { context: tagged(env) }),
        op('attach it to its instance', 'ec2:AttachVolume', own.instanceArn, { context: hostInstance(own) }),
        op('detach its data volume (the clean stop)', 'ec2:DetachVolume', own.dataVolumeArn, { context: tagged(env) }),
        op('detach it from its instance', 'ec2:DetachVolume', own.instanceArn, { context: hostInstance(own) }),
        op('complete its group’s lifecycle action', 'autoscaling:CompleteLifecycleAction', own.groupArn, { context: tagged(env) }),
        // A replacement deploys the recorded release by sending the deploy document to itself.
        op('send its deploy document', 'ssm:SendCommand', own.documentArn),
        op('to itself', 'ssm:SendCommand', own.instanceArn, instance),
        // ... and the host-wide settings applied before (host-boot.sh step 5).
        ...Object.entries(own.reappliedDocumentArns).map(([operation, arn]) => op(`send its ${operation} document`, 'ssm:SendCommand', arn)),
        // Its address at boot: the Elastic IP of an always-on environment, else its own DNS record.
        ...(own.addressArn
          ? [
              op('associate its Elastic IP', 'ec2:AssociateAddress', own.addressArn, { context: tagged(env) }),
              op('with its instance', 'ec2:AssociateAddress', own.instanceArn, { context: hostInstance(own) }),
            ]
          : own.dnsRecord
            ? [
                op(
                  'point its own DNS record at itself',
                  'route53:ChangeResourceRecordSets',
                  `arn:${own.partition}:route53:::hostedzone/${own.dnsRecord.hostedZoneId}`,
                  {
                    context: {
                      'route53:ChangeResourceRecordSetsNormalizedRecordNames': [own.dnsRecord.recordName.toLowerCase()],
                      'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
                      'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
                    },
                  },
                ),
              ]
            : []),
        op('register with SSM', 'ssm:UpdateInstanceInformation', own.instanceArn, instance),
      ];
  }
}

function roleNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function regionOf(arn: string): string {
  return arn.split(':')[3];
}
