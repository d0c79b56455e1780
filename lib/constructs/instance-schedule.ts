import { Stack } from 'aws-cdk-lib';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { ScheduledApiCalls } from './scheduled-api-calls';

export interface InstanceScheduleProps {
  /** The instance started and stopped. */
  readonly instanceId: string;
  /** IANA time zone of both expressions, e.g. `America/Sao_Paulo`. */
  readonly timezone: string;
  /** When the instance starts, e.g. `cron(0 8 ? * MON-FRI *)`. */
  readonly start: string;
  /** When the instance stops, e.g. `cron(0 20 ? * MON-FRI *)`. */
  readonly stop: string;
}

/**
 * Starts and stops one instance on a schedule with EventBridge Scheduler, calling EC2 directly.
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html
 */
export class InstanceSchedule extends ScheduledApiCalls {
  public readonly start: scheduler.CfnSchedule;
  public readonly stop: scheduler.CfnSchedule;

  constructor(scope: Construct, id: string, props: InstanceScheduleProps) {
    const instanceArn = Stack.of(scope).formatArn({ service: 'ec2', resource: 'instance', resourceName: props.instanceId });
    super(scope, id, {
      timezone: props.timezone,
      roleDescription: 'Lets EventBridge Scheduler start and stop the compose host outside working hours',
      actions: ['ec2:StartInstances', 'ec2:StopInstances'],
      resources: [instanceArn],
    });
    const input = { InstanceIds: [props.instanceId] };
    this.start = this.at('Start', {
      expression: props.start,
      service: 'ec2',
      action: 'startInstances',
      input,
      description: 'Start the compose host for working hours',
    });
    this.stop = this.at('Stop', {
      expression: props.stop,
      service: 'ec2',
      action: 'stopInstances',
      input,
      description: 'Stop the compose host outside working hours',
    });
  }
}
