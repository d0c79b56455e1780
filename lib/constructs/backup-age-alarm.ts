import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { MAX_EVALUATION_HOURS } from '../config/schema/data-volume';
import { BACKUP_METRIC } from '../host-runtime/backup-metric';
import { notifyOnAlarmAndOk } from '../private/notify';

export interface BackupAgeAlarmProps {
  /** App name: the metric's namespace is `<app>/Backups`. */
  readonly appName: string;
  /** Environment name: the metric's `Environment` dimension. */
  readonly environmentName: string;
  /** The longest gap between two scheduled backups (from `backups.schedule`). */
  readonly scheduleGap: Duration;
  /** Notified when the alarm fires and when it clears. */
  readonly topic: sns.ITopic;
  /**
   * The host is stopped part of the day (an instance schedule): no backups then, so missing data
   * keeps the alarm's last state instead of breaching every night.
   * @default false - missing data is breaching: a backup that silently stopped is an incident
   */
  readonly hostStopsOnSchedule?: boolean;
}

/**
 * Fires when no backup newer than twice the schedule's longest gap was reported: the host
 * publishes the newest backup's age after each successful backup, so a failing or stopped backup
 * job shows up as missing data, which counts as breaching. The alarm period is twice the gap
 * (CloudWatch allows at most one day per evaluation), and the threshold is the same age in seconds.
 */
export class BackupAgeAlarm extends Construct {
  public readonly alarm: cloudwatch.Alarm;
  public readonly metric: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: BackupAgeAlarmProps) {
    super(scope, id);
    const limit = Duration.seconds(props.scheduleGap.toSeconds() * 2);
    // One period covering the whole limit when it fits in a day (periods are multiples of 60 s, at
    // most a day); otherwise hourly periods, all of which must breach (CloudWatch evaluates at most 7 days).
    const long = limit.toSeconds() > 86400;
    const periodSeconds = long ? 3600 : Math.ceil(limit.toSeconds() / 60) * 60;
    const periods = long ? Math.ceil(limit.toSeconds() / 3600) : 1;
    if (periods > MAX_EVALUATION_HOURS) {
      throw new Error(
        `BackupAgeAlarm: twice 'scheduleGap' (${props.scheduleGap.toHumanString()}) is ${limit.toHumanString()}, more than the 7 days CloudWatch can evaluate`,
      );
    }
    this.metric = new cloudwatch.Metric({
      namespace: BACKUP_METRIC.namespace(props.appName),
      metricName: BACKUP_METRIC.metricName,
      dimensionsMap: { [BACKUP_METRIC.dimension]: props.environmentName },
      statistic: cloudwatch.Stats.MINIMUM,
      period: Duration.seconds(periodSeconds),
      unit: cloudwatch.Unit.SECONDS,
    });
    this.alarm = this.metric.createAlarm(this, 'Alarm', {
      alarmName: `${props.appName}-${props.environmentName}-backup-age`,
      alarmDescription: `${props.appName} ${props.environmentName}: no backup newer than ${limit.toHumanString()} (twice the backup schedule's longest gap); check the backup timer and the last 'op=backup' lines of the audit log (ops status)`,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: limit.toSeconds(),
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: props.hostStopsOnSchedule ? cloudwatch.TreatMissingData.MISSING : cloudwatch.TreatMissingData.BREACHING,
    });
    notifyOnAlarmAndOk(props.topic, this.alarm);
  }
}
