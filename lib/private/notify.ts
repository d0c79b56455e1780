import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';

/**
 * Notifies `topic` when each alarm fires and again when it clears: the on-call person hears that
 * an incident is over as well as that it began (every alarm of the project's topics works so).
 */
export function notifyOnAlarmAndOk(topic: sns.ITopic, ...alarms: readonly cloudwatch.Alarm[]): void {
  for (const alarm of alarms) {
    alarm.addAlarmAction(new actions.SnsAction(topic));
    alarm.addOkAction(new actions.SnsAction(topic));
  }
}
