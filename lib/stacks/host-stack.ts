import { ArnFormat, CfnOutput, Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { AppConfig, NamedEnvironment } from '../config';
import { isKnownInstanceType, spotInstanceTypes } from '../config/instance-types';
import { blueGreenOf } from '../config/schema/blue-green';
import { secretsPath } from '../config/schema/secrets';
import { ComposeHost } from '../constructs/compose-host';
import { GithubDeployRole } from '../constructs/github-deploy-role';
import { GithubPlanRole } from '../constructs/github-plan-role';
import { HostAlarms } from '../constructs/host-alarms';
import { HostDocuments } from '../constructs/host-documents';
import { InstanceSchedule } from '../constructs/instance-schedule';
import { BACKUP_METRIC } from '../host-runtime/backup-metric';
import { type HostDocumentSpec, REAPPLIED_OPERATIONS } from '../host-runtime/document-spec';
import { stateDir } from '../host-runtime/first-boot';
import { hostScript } from '../host-runtime/scripts';
import {
  bootstrapNames,
  ENVIRONMENT_TAG,
  githubOidcProviderArn,
  HEALTH_STACK_REGION,
  HOST_TERMINATION_HOOK,
  hostDocumentName,
  hostGroupName,
  logGroupNames,
  outputNames,
  stackNames,
} from '../names';

/** ext4 label of the data volume's file system, written when an empty volume is formatted (at most 16 characters). */
export const DATA_VOLUME_LABEL = 'app-data';

/** VPC address range: one /26 public subnet is plenty for one instance. */
export const HOST_VPC_CIDR = '10.0.0.0/24';

export interface HostStackProps extends StackProps {
  /** The application the host runs. */
  readonly app: AppConfig;
  /** The environment this stack belongs to. */
  readonly environment: NamedEnvironment;
  /** `owner/name` of the GitHub repository whose environment job may assume the deploy role. */
  readonly githubRepository: string;
  /** Attached to the instance role: read and write of the environment's backups prefix only (data stack). */
  readonly hostBackupsPolicy: iam.IManagedPolicy;
  /** Every host alarm notifies this topic (data stack). */
  readonly alarmTopic: sns.ITopic;
  /** Where the CloudWatch agent ships container logs (data stack). */
  readonly containerLogGroup: logs.ILogGroup;
  /** Where the CloudWatch agent ships the system log (data stack). */
  readonly systemLogGroup: logs.ILogGroup;
  /**
   * Where SSM writes the output of the host documents (data stack): the instance role may write
   * only here among command outputs, the deploy role may read only this group.
   */
  readonly commandLogGroup: logs.ILogGroup;
  /** The environment's data volume (data stack), in the zone of `instance.availabilityZone`; the host attaches it at boot. */
  readonly dataVolume: ec2.IVolume;
  /**
   * The host operations, one SSM Command document each (`hostDocumentSpecs(...)` from
   * `lib/host-runtime/documents.ts`). The deploy role may send only these.
   * @default - no documents: the deploy role can send nothing
   */
  readonly hostDocuments?: readonly HostDocumentSpec[];
}

/** Whether the host of an environment is termination-protected: the config, else only `prod`. */
export function hostTerminationProtection(environment: NamedEnvironment): boolean {
  return environment.instance.terminationProtection ?? environment.name === 'prod';
}

/**
 * The availability zone of the environment's subnet: the config's, else the region's first zone
 * as CloudFormation lists them at deploy time (`Fn::GetAZs`), so synth never looks zones up.
 */
export function hostAvailabilityZone(environment: NamedEnvironment): string {
  return environment.instance.availabilityZone ?? Fn.select(0, Fn.getAzs(environment.region));
}

/**
 * Compute of one environment, safe to replace (its state lives in the data stack): a VPC with
 * one public subnet and no NAT gateway, the EC2 compose host reachable only through SSM, its
 * alarms, the SSM documents of the host operations, the GitHub Actions deploy role and, when
 * configured, the working-hours schedule. Nothing here is looked up at synth.
 */
export class HostStack extends Stack {
  public readonly vpc: ec2.Vpc;
  public readonly host: ComposeHost;
  public readonly alarms: HostAlarms;
  public readonly documents: HostDocuments;
  public readonly deployRole: GithubDeployRole;
  /** The plan job's role: change sets of this environment's stacks, never executed. */
  public readonly planRole: GithubPlanRole;
  public readonly schedule?: InstanceSchedule;
  private readonly zone: string;

  constructor(scope: Construct, id: string, props: HostStackProps) {
    super(scope, id, { ...props, terminationProtection: props.terminationProtection ?? hostTerminationProtection(props.environment) });
    const { app, environment } = props;
    this.zone = hostAvailabilityZone(environment);
    const prefix = `${app.name}-${environment.name}`;
    const instanceType = new ec2.InstanceType(environment.instance.type);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(HOST_VPC_CIDR),
      availabilityZones: this.availabilityZones,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 26 }],
      // Nothing uses the default security group, and its rules admit only its own (absent) members;
      // restricting it would add a Lambda-backed custom resource to every environment.
      restrictDefaultSecurityGroup: false,
    });
    Validations.of(this.vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason:
        'Cost: flow logs to CloudWatch are billed per GB ingested for every web request the single public instance serves; the security group admits only 80/443, and the host has no SSH to audit.',
    });

    const zone = environment.hostedZone;
    const hasDocument = (operation: string) => (props.hostDocuments ?? []).some((d) => d.operation === operation);
    const groupName = hostGroupName(app.name, environment.name);
    const type = environment.instance.type;
    const dataVolume = {
      volumeId: props.dataVolume.volumeId,
      mountPoint: stateDir(app.name),
      label: DATA_VOLUME_LABEL,
      region: environment.region,
      script: hostScript('data-volume.sh'),
    };
    this.host = new ComposeHost(this, 'Host', {
      vpc: this.vpc,
      instanceType,
      instanceName: prefix,
      groupName,
      terminationHookName: HOST_TERMINATION_HOOK,
      rootVolumeGiB: environment.instance.rootVolumeGiB,
      tls: environment.tls,
      cpuCredits: environment.instance.cpuCredits === 'unlimited' ? ec2.CpuCredits.UNLIMITED : ec2.CpuCredits.STANDARD,
      purchase:
        environment.instance.purchase === 'spot' && isKnownInstanceType(type)
          ? { kind: 'spot', instanceTypes: spotInstanceTypes(type).map((t) => new ec2.InstanceType(t)) }
          : { kind: 'on-demand' },
      scheduled: environment.instance.schedule !== undefined,
      dns: zone ? { hostedZoneId: zone.id, zoneName: zone.name, recordName: environment.domain } : undefined,
      alarmTopic: props.alarmTopic,
      bootstrap: {
        appName: app.name,
        repository: app.repository,
        gitRef: environment.gitRef,
        swapGiB: environment.instance.swapGiB,
        dataVolume,
        agent: {
          containerLogGroupName: logGroupNames.containers(app.name, environment.name),
          systemLogGroupName: logGroupNames.system(app.name, environment.name),
          diskMetricDimensions: { AutoScalingGroupName: groupName },
        },
      },
      lifecycle: {
        appName: app.name,
        composeFile: app.composeFile,
        sharedServices: blueGreenOf(app, environment)?.sharedServices ?? [],
        dataVolume,
        // A replacement host deploys the recorded release again through this document.
        deployDocumentName: hasDocument('deploy') ? hostDocumentName(app.name, environment.name, 'deploy') : undefined,
        // ... and applies again the host-wide settings the data volume records as applied before.
        reapplyDocumentNames: Object.fromEntries(
          REAPPLIED_OPERATIONS.filter((operation) => hasDocument(operation)).map((operation) => [
            operation,
            hostDocumentName(app.name, environment.name, operation),
          ]),
        ),
        commandLogGroupName: logGroupNames.commands(app.name, environment.name),
      },
    });

    if (environment.instance.availabilityZone) {
      Validations.of(this.vpc).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason: `The zone is set on purpose in the config (instance.availabilityZone ${environment.instance.availabilityZone}), e.g. because the instance type is not offered in the region's first zone.`,
      });
    }

    // The CloudWatch agent writes both log groups; the backup job uses only its environment's prefix
    // of the bucket (the policy is defined beside the bucket, in the data stack).
    // The SSM agent writes the documents' output to the command group (it creates one stream per
    // command and step, and looks the group and stream up first).
    for (const group of [props.containerLogGroup, props.systemLogGroup, props.commandLogGroup]) {
      group.grantWrite(this.host.role);
      group.grant(this.host.role, 'logs:DescribeLogStreams');
    }
    this.grantDescribeLogGroups();
    this.host.role.addManagedPolicy(props.hostBackupsPolicy);
    this.host.grantReadEnvironmentSecrets(secretsPath(app.name, environment.name, environment.secrets));
    this.grantDataVolumeAndBackupMetric(props.dataVolume, app.name, environment.name);

    this.alarms = new HostAlarms(this, 'Alarms', { groupName: this.host.groupName, topic: props.alarmTopic, alarmNamePrefix: prefix });

    this.documents = new HostDocuments(this, 'Documents', {
      appName: app.name,
      environmentName: environment.name,
      documents: props.hostDocuments ?? [],
    });

    const sentAtBoot = (['deploy', ...REAPPLIED_OPERATIONS] as const).filter((operation) => this.documents.documents.has(operation));
    if (sentAtBoot.length > 0) this.grantRedeployRecordedRelease(app.name, environment.name, sentAtBoot);

    const readableStacks = [
      { stackName: stackNames.data(app.name, environment.name), region: environment.region },
      { stackName: stackNames.host(app.name, environment.name), region: environment.region },
      { stackName: stackNames.health(app.name, environment.name), region: HEALTH_STACK_REGION },
    ];
    const provider = iam.OpenIdConnectProvider.fromOpenIdConnectProviderArn(this, 'GithubOidcProvider', githubOidcProviderArn(environment.account));
    this.deployRole = new GithubDeployRole(this, 'DeployRole', {
      provider,
      repository: props.githubRepository,
      environmentName: environment.name,
      instanceEnvironmentTag: environment.name,
      documentArns: this.documents.documentArns,
      readableStacks,
      commandLogGroup: props.commandLogGroup,
      bootstrapRegions: [environment.region, HEALTH_STACK_REGION],
      bootstrapQualifier: bootstrapNames.qualifier(app.name, environment.name),
    });
    this.planRole = new GithubPlanRole(this, 'PlanRole', {
      provider,
      repository: props.githubRepository,
      environmentName: environment.name,
      stacks: readableStacks,
      bootstrapQualifier: bootstrapNames.qualifier(app.name, environment.name),
    });

    const schedule = environment.instance.schedule;
    if (schedule) {
      this.schedule = new InstanceSchedule(this, 'Schedule', { groupName: this.host.groupName, groupArn: this.host.groupArn, ...schedule });
    }

    new CfnOutput(this, outputNames.hostGroupName, { value: this.host.groupName });
    if (this.host.elasticIp) new CfnOutput(this, outputNames.publicIp, { value: this.host.elasticIp.attrPublicIp });
    new CfnOutput(this, outputNames.instanceRoleArn, { value: this.host.role.roleArn });
    new CfnOutput(this, outputNames.deployRoleArn, { value: this.deployRole.role.roleArn });
    new CfnOutput(this, outputNames.planRoleArn, { value: this.planRole.role.roleArn });
  }

  /**
   * The one zone the VPC uses, from the config: overriding this keeps CDK from looking up the
   * account's zones (a context lookup that needs credentials).
   */
  override get availabilityZones(): string[] {
    return [this.zone];
  }

  /**
   * A replacement host deploys the release its state file records by sending the environment's
   * deploy document to itself (scripts/host/host-boot.sh, step 4), then the tls, firewall and backup
   * documents the data volume records as applied before (step 5): ssm:SendCommand of exactly
   * those documents of this environment, only to instances tagged for this environment (the group propagates the tag; no
   * other environment's role may set it), in a policy of its own so its acknowledgement of
   * `instance/*` covers this one statement. It gains nothing the host lacks: it is root on itself.
   */
  private grantRedeployRecordedRelease(appName: string, environmentName: string, operations: readonly string[]): void {
    const anyInstance = this.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const policy = new iam.Policy(this, 'RedeployRecordedReleasePolicy', {
      roles: [this.host.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'SendOwnDeployDocument',
          actions: ['ssm:SendCommand'],
          resources: operations.map((operation) =>
            this.formatArn({ service: 'ssm', resource: 'document', resourceName: hostDocumentName(appName, environmentName, operation) }),
          ),
        }),
        new iam.PolicyStatement({
          sid: 'ToThisEnvironmentsInstance',
          actions: ['ssm:SendCommand'],
          resources: [anyInstance],
          conditions: { StringEquals: { [`ssm:resourceTag/${ENVIRONMENT_TAG}`]: environmentName } },
        }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${anyInstance}]`,
      reason: `A replacement host sends the deploy document to itself, whichever instance the group launched (its id is unknown before it exists), so instance/* is limited by the ssm:resourceTag/${ENVIRONMENT_TAG} condition to instances tagged for this environment, a tag only this environment's roles may set (permissions boundary). The document is named by ARN.`,
    });
  }

  /**
   * The SSM agent checks that the command log group exists (DescribeLogGroups with the group's
   * name as prefix) before it uploads output, and stops uploading when it cannot. DescribeLogGroups
   * lists groups, so it is granted on the account's groups of this region only; it returns names
   * and settings, never log events.
   */
  private grantDescribeLogGroups(): void {
    const policy = new iam.Policy(this, 'CommandOutputLookupPolicy', {
      roles: [this.host.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'FindCommandLogGroup',
          actions: ['logs:DescribeLogGroups'],
          resources: [this.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
        }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*]`,
      reason:
        'logs:DescribeLogGroups is a list call the SSM agent makes before uploading command output (it stops uploading when the group cannot be found); it returns group names and settings of this account and region, never log events. Writing stays limited to the environment log groups.',
    });
  }

  /**
   * The host attaches its data volume itself at boot (scripts/host/data-volume.sh): a
   * CloudFormation VolumeAttachment would be replaced together with the instance and fail while
   * the old instance still holds the volume. ec2:AttachVolume is limited to this one volume and to
   * instances carrying the environment's tag (whichever instance the environment launches, also
   * one an Auto Scaling group replaces), in a policy of its own so that its acknowledgement of
   * `instance/*` covers this one statement and nothing added to the role later. PutMetricData is
   * limited to the backups namespace, where the host reports the newest backup's age.
   */
  private grantDataVolumeAndBackupMetric(volume: ec2.IVolume, appName: string, environmentName: string): void {
    const anyInstance = this.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const attach = new iam.Policy(this, 'DataVolumeAttachPolicy', {
      roles: [this.host.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'AttachOwnDataVolume',
          // The clean stop detaches it again (scripts/host/host-stop.sh), on the same conditions.
          actions: ['ec2:AttachVolume', 'ec2:DetachVolume'],
          resources: [this.formatArn({ service: 'ec2', resource: 'volume', resourceName: volume.volumeId }), anyInstance],
          conditions: { StringEquals: { [`aws:ResourceTag/${ENVIRONMENT_TAG}`]: environmentName } },
        }),
      ],
    });
    Validations.of(attach).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${anyInstance}]`,
      reason: `ec2:AttachVolume and ec2:DetachVolume name the data volume by ARN; the instance is whichever instance the environment's Auto Scaling group runs (unknown before it exists, and new after a replacement), so instance/* is limited by the aws:ResourceTag/${ENVIRONMENT_TAG} condition to instances tagged for this environment (propagated at launch), a tag only this environment's roles may set (permissions boundary).`,
    });
    // The clean stop waits until EC2 reports the volume available: DescribeVolumes has no resource-level permissions.
    const describe = new iam.Policy(this, 'DescribeDataVolumePolicy', {
      roles: [this.host.role],
      statements: [new iam.PolicyStatement({ sid: 'WatchDetach', actions: ['ec2:DescribeVolumes'], resources: ['*'] })],
    });
    Validations.of(describe).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "ec2:DescribeVolumes has no resource-level permissions (Service Authorization Reference); the clean stop polls its data volume until it is detached. It returns volume metadata, never a volume's data.",
    });
    // A policy of its own, so its one acknowledgement covers exactly this statement's finding.
    const backupMetric = new iam.Policy(this, 'BackupMetricPolicy', {
      roles: [this.host.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'PublishBackupAge',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': BACKUP_METRIC.namespace(appName) } },
        }),
      ],
    });
    Validations.of(backupMetric).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:PutMetricData has no resource-level permissions; the statement is limited to the backups namespace by a cloudwatch:namespace condition.',
    });
  }
}
