import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { AppConfig, NamedEnvironment } from '../config';
import { logGroupNames, outputNames } from '../names';

export interface DataStackProps extends StackProps {
  /** The application the environment runs. */
  readonly app: AppConfig;
  /** The environment this stack belongs to. */
  readonly environment: NamedEnvironment;
}

/**
 * State of one environment that must outlive its host: log groups now, the backups bucket and
 * alarm topic as the platform grows. Kept apart so the host stack can be replaced freely.
 */
export class DataStack extends Stack {
  /** Where the CloudWatch agent ships container logs. */
  public readonly containerLogGroup: logs.LogGroup;
  /** Where the CloudWatch agent ships the host's system log. */
  public readonly systemLogGroup: logs.LogGroup;

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

    new CfnOutput(this, outputNames.containerLogGroupName, { value: this.containerLogGroup.logGroupName });
  }
}
