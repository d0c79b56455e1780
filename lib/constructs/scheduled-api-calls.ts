import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface ScheduledApiCallsProps {
  /** IANA time zone of every schedule expression, e.g. `America/Sao_Paulo`. */
  readonly timezone: string;
  /** Why EventBridge Scheduler may act here, shown on the role. */
  readonly roleDescription: string;
  /** IAM actions the scheduled calls make, e.g. `ec2:StartInstances`. */
  readonly actions: readonly string[];
  /** ARNs of the resources those actions are allowed on, and only those. */
  readonly resources: readonly string[];
}

/** One AWS API call made on a schedule. */
export interface ScheduledApiCall {
  /** When, e.g. `cron(0 20 ? * MON-FRI *)`, in the construct's time zone. */
  readonly expression: string;
  /** The API's service and action as Scheduler's universal target names them, e.g. `ec2` and `stopInstances`. */
  readonly service: string;
  readonly action: string;
  /** The request, e.g. `{ InstanceIds: [id] }`; tokens are resolved. */
  readonly input: Record<string, unknown>;
  /** What the call is for. */
  readonly description: string;
}

/**
 * AWS API calls made on a schedule by EventBridge Scheduler's universal target (free at this volume,
 * no Lambda), with one role that Scheduler assumes only for this account and that may make only the
 * given actions on the given resources. Each call retries 3 times and fires at its exact minute.
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html
 */
export class ScheduledApiCalls extends Construct {
  public readonly role: iam.Role;
  private readonly timezone: string;

  constructor(scope: Construct, id: string, props: ScheduledApiCallsProps) {
    super(scope, id);
    this.timezone = props.timezone;
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: props.roleDescription,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...props.actions], resources: [...props.resources] }));
  }

  /** Schedules one call. */
  public at(id: string, call: ScheduledApiCall): scheduler.CfnSchedule {
    const stack = Stack.of(this);
    return new scheduler.CfnSchedule(this, id, {
      description: call.description,
      scheduleExpression: call.expression,
      scheduleExpressionTimezone: this.timezone,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: `arn:${stack.partition}:scheduler:::aws-sdk:${call.service}:${call.action}`,
        roleArn: this.role.roleArn,
        input: stack.toJsonString(call.input),
        retryPolicy: { maximumRetryAttempts: 3 },
      },
    });
  }
}
