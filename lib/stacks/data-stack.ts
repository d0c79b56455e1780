import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { AppConfig, NamedEnvironment } from '../config';
import { backupGapSeconds } from '../config/schema/data-volume';
import { BackupAgeAlarm } from '../constructs/backup-age-alarm';
import { BackupsBucket } from '../constructs/backups-bucket';
import { DataVolume } from '../constructs/data-volume';
import { backupPrefix, bootstrapNames, cdkBootstrapRoleName, logGroupNames, outputNames } from '../names';

export interface DataStackProps extends StackProps {
  /** The application the environment runs. */
  readonly app: AppConfig;
  /** The environment this stack belongs to. */
  readonly environment: NamedEnvironment;
}

/**
 * State of one environment that must outlive its host: the backups bucket, the log groups and the
 * alarm topic (with its e-mail subscription, confirmed once by a person). Kept apart so the host
 * stack can be replaced freely. Every resource is retained if the stack is deleted.
 *
 * The logical ids of the stateful resources (`ContainerLogs`, `SystemLogs`, `CommandLogs`, `Backups/Bucket`,
 * `AlarmTopic`) are pinned by tests: renaming a construct would make CloudFormation replace it.
 */
export class DataStack extends Stack {
  /** Where the CloudWatch agent ships container logs. */
  public readonly containerLogGroup: logs.LogGroup;
  /** Where the CloudWatch agent ships the host's system log. */
  public readonly systemLogGroup: logs.LogGroup;
  /**
   * Where SSM writes the output of the host documents (`CloudWatchOutputConfig` of every ops
   * command): the deploy role reads only this group, the instance role writes only here.
   */
  public readonly commandLogGroup: logs.LogGroup;
  /** The environment's PostgreSQL dumps, under `backupPrefix(env)`. */
  public readonly backups: BackupsBucket;
  /** The bucket of `backups`. */
  public readonly backupsBucket: s3.Bucket;
  /** Attached to the instance role: read and write `backupPrefix(env)` of the bucket, nothing else. */
  public readonly hostBackupsPolicy: iam.ManagedPolicy;
  /** Every host alarm of the environment notifies this topic. */
  public readonly alarmTopic: sns.Topic;
  /** Postgres, Redis, the state file and the audit log: the EBS volume the host attaches at boot. */
  public readonly dataVolume: DataVolume;
  /** Fires when no backup was reported within twice the backup schedule. */
  public readonly backupAgeAlarm: BackupAgeAlarm;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { app, environment } = props;
    const retention = props.environment.logs.retentionDays as logs.RetentionDays;

    this.containerLogGroup = new logs.LogGroup(this, 'ContainerLogs', {
      logGroupName: logGroupNames.containers(app.name, environment.name),
      retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.systemLogGroup = new logs.LogGroup(this, 'SystemLogs', {
      logGroupName: logGroupNames.system(app.name, environment.name),
      retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.commandLogGroup = new logs.LogGroup(this, 'CommandLogs', {
      logGroupName: logGroupNames.commands(app.name, environment.name),
      retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const qualifier = bootstrapNames.qualifier(app.name, environment.name);
    this.backups = new BackupsBucket(this, 'Backups', {
      retentionDays: environment.backups.retentionDays,
      transitionToInfrequentAccessDays: environment.backups.transitionToInfrequentAccessDays,
      // Every backup is locked for as long as it is kept: the restore window.
      lockDays: environment.backups.retentionDays,
      // Only a deploy through the environment's own bootstrap changes the bucket's configuration.
      configurationRoleArn: this.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: cdkBootstrapRoleName(qualifier, 'cfn-exec-role', this.account, this.region),
      }),
    });
    this.backupsBucket = this.backups.bucket;
    this.hostBackupsPolicy = this.backups.prefixAccessPolicy(this, 'HostBackupsPolicy', backupPrefix(environment.name));

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${app.name} ${environment.name} host alarms`,
      enforceSSL: true,
    });
    this.alarmTopic.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(this.alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Cost: a customer managed KMS key costs USD 1/month per topic, and the messages are alarm state changes (alarm name, instance id, metric values) with no customer data; TLS is enforced by the topic policy.',
    });
    this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(environment.alarmEmail));

    // The zone is required by the config (dataChecks): the host starts in the same one.
    this.dataVolume = new DataVolume(this, 'DataVolume', {
      availabilityZone: environment.instance.availabilityZone as string,
      sizeGiB: environment.dataVolume.sizeGiB,
      name: `${app.name}-${environment.name}`,
      snapshots: environment.dataVolume.snapshots,
    });
    this.backupAgeAlarm = new BackupAgeAlarm(this, 'BackupAgeAlarm', {
      appName: app.name,
      environmentName: environment.name,
      scheduleGap: Duration.seconds(backupGapSeconds(environment.backups.schedule)),
      topic: this.alarmTopic,
      hostStopsOnSchedule: environment.instance.schedule !== undefined,
    });

    new CfnOutput(this, outputNames.containerLogGroupName, { value: this.containerLogGroup.logGroupName });
    new CfnOutput(this, outputNames.backupBucketName, { value: this.backupsBucket.bucketName });
    new CfnOutput(this, outputNames.dataVolumeId, { value: this.dataVolume.volume.volumeId });
    new CfnOutput(this, outputNames.alarmTopicArn, { value: this.alarmTopic.topicArn });
  }
}
