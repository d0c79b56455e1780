import { CfnOutput, Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { type AppConfig, healthCheckPath, healthCheckProtocol, type NamedEnvironment } from '../config';
import { HealthCheckAlarm } from '../constructs/health-check-alarm';
import { ScheduledApiCalls } from '../constructs/scheduled-api-calls';
import { HEALTH_STACK_REGION, healthAlarmName, outputNames } from '../names';

export interface HealthStackProps extends StackProps {
  /** The application the environment runs (name and health path). */
  readonly app: AppConfig;
  /** The environment whose public endpoint is checked. */
  readonly environment: NamedEnvironment;
}

/**
 * One environment's external health check: a Route53 health check on its public health path, a
 * CloudWatch alarm on it and the SNS topic the alarm notifies. Always deployed to us-east-1,
 * whatever the environment's region, because Route53 health-check metrics exist only there and
 * an alarm's actions must be in the alarm's region (hence a topic of its own).
 *
 * When the environment's host is stopped on a schedule (dev), the alarm's actions are switched
 * off for the same hours by EventBridge Scheduler, so a planned stop does not page anyone.
 */
export class HealthStack extends Stack {
  public readonly topic: sns.Topic;
  public readonly check: HealthCheckAlarm;
  private readonly appName: string;
  private readonly environmentName: string;

  constructor(scope: Construct, id: string, props: HealthStackProps) {
    super(scope, id, props);
    if (!Token.isUnresolved(this.region) && this.region !== HEALTH_STACK_REGION) {
      throw new Error(
        `HealthStack ${id} must be deployed to ${HEALTH_STACK_REGION} (Route53 health-check metrics exist only there), got env.region "${this.region}"`,
      );
    }
    const { app, environment } = props;
    this.appName = app.name;
    this.environmentName = environment.name;

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${app.name} ${environment.name} health`,
      // TLS-only publishing (cdk-nag AwsSolutions-SNS3). No customer managed KMS key: it would cost
      // USD 1/month per topic to protect alarm state changes that carry no customer data.
      enforceSSL: true,
    });
    this.topic.addSubscription(new subscriptions.EmailSubscription(environment.alarmEmail));

    this.check = new HealthCheckAlarm(this, 'Endpoint', {
      fqdn: environment.domain,
      protocol: healthCheckProtocol(environment),
      path: healthCheckPath(app, environment),
      alarmName: healthAlarmName(app.name, environment.name),
      topic: this.topic,
    });

    const schedule = environment.instance.schedule;
    if (schedule) this.muteWhileStopped(schedule);

    new CfnOutput(this, outputNames.healthCheckId, { value: this.check.healthCheck.healthCheckId });
    new CfnOutput(this, outputNames.alarmTopicArn, { value: this.topic.topicArn });
  }

  /** Disables the alarm's actions when the host stops and enables them when it starts. */
  private muteWhileStopped(schedule: NonNullable<NamedEnvironment['instance']['schedule']>): void {
    const alarm = this.check.alarm;
    const alarmName = healthAlarmName(this.appName, this.environmentName);
    const calls = new ScheduledApiCalls(this, 'AlarmMute', {
      timezone: schedule.timezone,
      roleDescription: `Lets EventBridge Scheduler switch the actions of ${alarmName} off and on around the host's schedule`,
      actions: ['cloudwatch:DisableAlarmActions', 'cloudwatch:EnableAlarmActions'],
      resources: [alarm.alarmArn],
    });
    const input = { AlarmNames: [alarmName] };
    calls.at('MuteAlarmOnStop', {
      expression: schedule.stop,
      service: 'cloudwatch',
      action: 'disableAlarmActions',
      input,
      description: 'Host stops on schedule: mute the health alarm',
    });
    calls.at('UnmuteAlarmOnStart', {
      expression: schedule.start,
      service: 'cloudwatch',
      action: 'enableAlarmActions',
      input,
      description: 'Host starts on schedule: unmute the health alarm',
    });
  }
}
