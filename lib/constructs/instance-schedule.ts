import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

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
 * Starts and stops one instance on a schedule with EventBridge Scheduler (free at this volume),
 * calling EC2 directly through the scheduler's universal target: no Lambda.
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html
 */
export class InstanceSchedule extends Construct {
  public readonly role: iam.Role;
  public readonly start: scheduler.CfnSchedule;
  public readonly stop: scheduler.CfnSchedule;

  constructor(scope: Construct, id: string, props: InstanceScheduleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const instanceArn = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: props.instanceId });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'Lets EventBridge Scheduler start and stop the compose host outside working hours',
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ec2:StartInstances', 'ec2:StopInstances'], resources: [instanceArn] }));

    const at = (scheduleId: string, expression: string, action: 'startInstances' | 'stopInstances', description: string) =>
      new scheduler.CfnSchedule(this, scheduleId, {
        description,
        scheduleExpression: expression,
        scheduleExpressionTimezone: props.timezone,
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: `arn:${stack.partition}:scheduler:::aws-sdk:ec2:${action}`,
          roleArn: this.role.roleArn,
          input: stack.toJsonString({ InstanceIds: [props.instanceId] }),
          retryPolicy: { maximumRetryAttempts: 3 },
        },
      });
    this.start = at('Start', props.start, 'startInstances', 'Start the compose host for working hours');
    this.stop = at('Stop', props.stop, 'stopInstances', 'Stop the compose host outside working hours');
  }
}
