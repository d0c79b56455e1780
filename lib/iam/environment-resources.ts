import { REAPPLIED_OPERATIONS } from '../host-runtime/document-spec';
import { backupPrefix, bootstrapNames, cdkBootstrapRoleName, hostDocumentName, hostGroupName, logGroupNames, stackNames } from '../names';
import type { EnvironmentResources } from './operations';

/** What is known of an environment without reading its templates: names, and what its stack outputs say. */
export interface EnvironmentByName {
  readonly app: string;
  readonly env: string;
  readonly account: string;
  readonly region: string;
  /** Parameter Store path of its secrets, ending in `/`. */
  readonly secretsPath: string;
  readonly dnsRecord?: { readonly hostedZoneId: string; readonly recordName: string };
  /** From the data stack's outputs, when deployed. @default - a generated name `<app>-<env>-data-backupsbucket…` */
  readonly backupsBucket?: string;
  /** From the host stack's outputs, when deployed. @default - an example id */
  readonly instanceId?: string;
  /** From the data stack's outputs, when deployed. @default - an example id */
  readonly dataVolumeId?: string;
  /** The Elastic IP's allocation id, for an always-on environment. @default - none (a scheduled environment's host updates its DNS record) */
  readonly addressAllocationId?: string;
  /** From the host stack's outputs, when deployed. @default - generated names `<app>-<env>-host-…` */
  readonly deployRoleArn?: string;
  readonly instanceRoleArn?: string;
  readonly planRoleArn?: string;
}

/**
 * An environment's resources built from the project's names (lib/names.ts) and CloudFormation's
 * generated-name rule (`<stack>-<logical id>-<suffix>`), for `ops iam-audit`: the other
 * environments of an account, and a probe environment that does not exist, are judged by the
 * names and tags their resources would have. Ids that only a deploy knows are examples; the
 * boundary fences those resources by the environment tag, which the requests carry.
 */
export function environmentResourcesByName(e: EnvironmentByName): EnvironmentResources {
  const { app, env, account, region } = e;
  const q = bootstrapNames.qualifier(app, env);
  const iam = (resource: string) => `arn:aws:iam::${account}:${resource}`;
  const host = stackNames.host(app, env);
  const data = stackNames.data(app, env);
  return {
    name: env,
    account,
    partition: 'aws',
    instanceArn: `arn:aws:ec2:${region}:${account}:instance/${e.instanceId ?? 'i-0123456789abcdef0'}`,
    // The group's ARN carries a UUID only a deploy knows; the boundary fences the group by its tag.
    groupArn: `arn:aws:autoscaling:${region}:${account}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${hostGroupName(app, env)}`,
    addressArn: e.addressAllocationId ? `arn:aws:ec2:${region}:${account}:elastic-ip/${e.addressAllocationId}` : undefined,
    dataVolumeArn: `arn:aws:ec2:${region}:${account}:volume/${e.dataVolumeId ?? 'vol-0123456789abcdef0'}`,
    snapshotArn: `arn:aws:ec2:${region}::snapshot/snap-0123456789abcdef0`,
    securityGroupArn: `arn:aws:ec2:${region}:${account}:security-group/sg-0123456789abcdef0`,
    networkInterfaceArn: `arn:aws:ec2:${region}:${account}:network-interface/eni-0123456789abcdef0`,
    alarmTopicArn: `arn:aws:sns:${region}:${account}:${data}-AlarmTopic-EXAMPLE`,
    scheduleArn: `arn:aws:scheduler:${region}:${account}:schedule/default/${host}-Schedule-EXAMPLE`,
    backupsBucket: e.backupsBucket ?? `${data}-backupsbucket-example`,
    backupsPrefix: backupPrefix(env),
    stagingBucket: `cdk-${q}-assets-${account}-${region}`,
    secretParameterArn: `arn:aws:ssm:${region}:${account}:parameter${e.secretsPath}DATABASE_URL`,
    commandLogGroupArn: `arn:aws:logs:${region}:${account}:log-group:${logGroupNames.commands(app, env)}:*`,
    stackArn: `arn:aws:cloudformation:${region}:${account}:stack/${data}/00000000-0000-0000-0000-000000000000`,
    documentArn: `arn:aws:ssm:${region}:${account}:document/${hostDocumentName(app, env, 'deploy')}`,
    reappliedDocumentArns: Object.fromEntries(
      REAPPLIED_OPERATIONS.map((operation) => [operation, `arn:aws:ssm:${region}:${account}:document/${hostDocumentName(app, env, operation)}`]),
    ) as EnvironmentResources['reappliedDocumentArns'],
    alarmArn: `arn:aws:cloudwatch:${region}:${account}:alarm:${app}-${env}-cpu`,
    dnsRecord: e.dnsRecord,
    roles: {
      deploy: e.deployRoleArn ?? iam(`role/${host}-DeployRole-EXAMPLE`),
      instance: e.instanceRoleArn ?? iam(`role/${host}-HostInstanceRole-EXAMPLE`),
      plan: e.planRoleArn ?? iam(`role/${host}-PlanRole-EXAMPLE`),
      bootstrapDeploy: iam(`role/${cdkBootstrapRoleName(q, 'deploy-role', account, region)}`),
      filePublishing: iam(`role/${cdkBootstrapRoleName(q, 'file-publishing-role', account, region)}`),
      lookup: iam(`role/${cdkBootstrapRoleName(q, 'lookup-role', account, region)}`),
      execution: iam(`role/${cdkBootstrapRoleName(q, 'cfn-exec-role', account, region)}`),
    },
    boundaryArn: iam(`policy/${bootstrapNames.permissionsBoundary(app, env)}`),
  };
}
