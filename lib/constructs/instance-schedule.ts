import { Stack, Token, Validations } from 'aws-cdk-lib';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { ScheduledApiCalls } from './scheduled-api-calls';

export interface InstanceScheduleProps {
  /** Name of the host's Auto Scaling group of one. */
  readonly groupName: string;
  /** Its ARN (`…:autoScalingGroup:*:autoScalingGroupName/<name>`): the only resource the schedule may change. */
  readonly groupArn: string;
  /** IANA time zone of both expressions, e.g. `America/Sao_Paulo`. */
  readonly timezone: string;
  /** When the host starts, e.g. `cron(0 8 ? * MON-FRI *)`. */
  readonly start: string;
  /** When the host stops, e.g. `cron(0 20 ? * MON-FRI *)`. */
  readonly stop: string;
}

/**
 * Starts and stops the host on a schedule with EventBridge Scheduler by setting its Auto Scaling
 * group's desired capacity to 1 and 0 (UpdateAutoScalingGroup, called directly). Stopping is a
 * termination: the group's lifecycle hook runs the host's clean stop, and the next start launches a
 * new instance that attaches the same data volume. Between the two the group keeps one instance
 * running (a lost one is replaced); at night it keeps none.
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html
 */
export class InstanceSchedule extends ScheduledApiCalls {
  public readonly start: scheduler.CfnSchedule;
  public readonly stop: scheduler.CfnSchedule;

  constructor(scope: Construct, id: string, props: InstanceScheduleProps) {
    super(scope, id, {
      timezone: props.timezone,
      roleDescription: "Lets EventBridge Scheduler set the host group's desired capacity for working hours",
      actions: ['autoscaling:UpdateAutoScalingGroup'],
      resources: [props.groupArn],
    });
    const stack = Stack.of(scope);
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${nag(stack.partition, 'Partition')}:autoscaling:${nag(stack.region, 'Region')}:${nag(stack.account, 'AccountId')}:autoScalingGroup:*:autoScalingGroupName/${props.groupName}]`,
      reason:
        "An Auto Scaling group's ARN carries a UUID that exists only once the group does; the group is named exactly, and the wildcard stands for that UUID alone.",
    });
    this.start = this.at('Start', {
      expression: props.start,
      service: 'autoscaling',
      action: 'updateAutoScalingGroup',
      input: { AutoScalingGroupName: props.groupName, DesiredCapacity: 1 },
      description: 'Start the compose host for working hours (desired capacity 1)',
    });
    this.stop = this.at('Stop', {
      expression: props.stop,
      service: 'autoscaling',
      action: 'updateAutoScalingGroup',
      input: { AutoScalingGroupName: props.groupName, DesiredCapacity: 0 },
      description: 'Stop the compose host outside working hours (desired capacity 0: the clean stop runs)',
    });
  }
}

/** A stack attribute as cdk-nag prints it in a finding. */
const nag = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
