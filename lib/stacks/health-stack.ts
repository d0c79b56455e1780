import { CfnOutput, Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { type AppConfig, healthCheckPath, healthCheckProtocol, type NamedEnvironment } from '../config';
import { HealthCheckAlarm } from '../constructs/health-check-alarm';
import { HEALTH_STACK_REGION, healthAlarmName, outputNames } from '../names';

export { HEALTH_STACK_REGION };

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
      throw new Error(`HealthStack ${id} must be deployed to ${HEALTH_STACK_REGION} (Route53 health-check metrics exist only there), got env.region "${this.region}"`);
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
    const role = new iam.Role(this, 'AlarmMuteRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: `Lets EventBridge Scheduler switch the actions of ${alarmName} off and on around the host's schedule`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:DisableAlarmActions', 'cloudwatch:EnableAlarmActions'], resources: [alarm.alarmArn] }),
    );
    const at = (id: string, expression: string, action: 'disableAlarmActions' | 'enableAlarmActions', description: string) =>
      new scheduler.CfnSchedule(this, id, {
        description,
        scheduleExpression: expression,
        scheduleExpressionTimezone: schedule.timezone,
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: `arn:${this.partition}:scheduler:::aws-sdk:cloudwatch:${action}`,
          roleArn: role.roleArn,
          input: JSON.stringify({ AlarmNames: [alarmName] }),
          retryPolicy: { maximumRetryAttempts: 3 },
        },
      });
    at('MuteAlarmOnStop', schedule.stop, 'disableAlarmActions', 'Host stops on schedule: mute the health alarm');
    at('UnmuteAlarmOnStart', schedule.start, 'enableAlarmActions', 'Host starts on schedule: unmute the health alarm');
  }
}
