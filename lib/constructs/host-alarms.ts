import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AGENT_METRICS_INTERVAL_SECONDS, AGENT_NAMESPACE, ROOT_FSTYPE } from '../host-runtime/first-boot';
import { notifyOnAlarmAndOk } from '../private/notify';

export interface HostAlarmsProps {
  /**
   * The Auto Scaling group of one whose instance is watched: EC2 publishes its metrics with an
   * `AutoScalingGroupName` dimension too, and the CloudWatch agent tags its disk metric with it, so
   * the alarms follow whichever instance the group runs now.
   */
  readonly groupName: string;
  /** Notified on ALARM and back to OK. */
  readonly topic: sns.ITopic;
  /** Prefix of the alarm names, e.g. `auraxis-prod`: alarms are `<prefix>-cpu`, `-status-check`, `-disk`. */
  readonly alarmNamePrefix: string;
  /**
   * Average CPU (percent) over 15 minutes that raises the CPU alarm.
   * @default 80
   */
  readonly cpuThresholdPercent?: number;
  /**
   * Used space of `/` (percent, from the CloudWatch agent) that raises the disk alarm.
   * @default 85
   */
  readonly diskUsedThresholdPercent?: number;
}

/**
 * The host's alarms, all notifying one SNS topic: sustained CPU, the instance status check (the
 * OS is unreachable; the group also replaces an impaired instance) and root disk usage as
 * reported by the CloudWatch agent. Missing data counts as OK, so an instance stopped on schedule
 * neither alarms nor sends an OK message every morning.
 */
export class HostAlarms extends Construct {
  public readonly cpu: cloudwatch.Alarm;
  public readonly statusCheck: cloudwatch.Alarm;
  public readonly disk: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: HostAlarmsProps) {
    super(scope, id);
    const instance = { AutoScalingGroupName: props.groupName };

    this.cpu = new cloudwatch.Metric({
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      dimensionsMap: instance,
      statistic: cloudwatch.Stats.AVERAGE,
      period: Duration.minutes(5),
    }).createAlarm(this, 'Cpu', {
      alarmName: `${props.alarmNamePrefix}-cpu`,
      alarmDescription: 'Average CPU of the compose host has been high for 15 minutes (burstable types throttle when credits run out)',
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: props.cpuThresholdPercent ?? 80,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.statusCheck = new cloudwatch.Metric({
      namespace: 'AWS/EC2',
      metricName: 'StatusCheckFailed_Instance',
      dimensionsMap: instance,
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
    }).createAlarm(this, 'StatusCheck', {
      alarmName: `${props.alarmNamePrefix}-status-check`,
      alarmDescription: 'The instance status check of the compose host is failing (OS unreachable: memory exhaustion, kernel, network config)',
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.disk = new cloudwatch.Metric({
      namespace: AGENT_NAMESPACE,
      metricName: 'disk_used_percent',
      dimensionsMap: { ...instance, path: '/', fstype: ROOT_FSTYPE },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.seconds(AGENT_METRICS_INTERVAL_SECONDS),
    }).createAlarm(this, 'Disk', {
      alarmName: `${props.alarmNamePrefix}-disk`,
      alarmDescription: 'The root volume of the compose host is filling up (images, container logs, local dumps)',
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: props.diskUsedThresholdPercent ?? 85,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    notifyOnAlarmAndOk(props.topic, this.cpu, this.statusCheck, this.disk);
  }
}
