import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { notifyOnAlarmAndOk } from '../private/notify';

/** How Route53 reaches the endpoint. */
export type HealthCheckProtocol = 'HTTP' | 'HTTPS';

/** Route53's standard request interval; the 10-second "fast" interval is a paid option. */
export const HEALTH_CHECK_INTERVAL = Duration.seconds(30);
/** Consecutive failed requests before Route53 marks the endpoint unhealthy. */
export const HEALTH_CHECK_FAILURE_THRESHOLD = 3;

export interface HealthCheckAlarmProps {
  /** Public name Route53 resolves and sends as the Host header (and SNI for HTTPS). */
  readonly fqdn: string;
  /** HTTPS costs an optional-feature fee on top of the basic check. */
  readonly protocol: HealthCheckProtocol;
  /** Path requested, e.g. `/healthz`. */
  readonly path: string;
  /** Name of the CloudWatch alarm, e.g. `auraxis-health-prod`. */
  readonly alarmName: string;
  /** Notified when the endpoint goes unhealthy and when it recovers. */
  readonly topic: sns.ITopic;
  /**
   * Port requested.
   * @default - 80 for HTTP, 443 for HTTPS
   */
  readonly port?: number;
}

/**
 * A Route53 health check on a public URL and a CloudWatch alarm on its `HealthCheckStatus`.
 * Route53 publishes that metric only in us-east-1, so the construct must live in a us-east-1 stack.
 * @see https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-checks.html
 */
export class HealthCheckAlarm extends Construct {
  public readonly healthCheck: route53.HealthCheck;
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: HealthCheckAlarmProps) {
    super(scope, id);
    this.healthCheck = new route53.HealthCheck(this, 'HealthCheck', {
      type: props.protocol === 'HTTPS' ? route53.HealthCheckType.HTTPS : route53.HealthCheckType.HTTP,
      fqdn: props.fqdn,
      port: props.port ?? (props.protocol === 'HTTPS' ? 443 : 80),
      resourcePath: props.path,
      requestInterval: HEALTH_CHECK_INTERVAL,
      failureThreshold: HEALTH_CHECK_FAILURE_THRESHOLD,
      // Latency graphs are a paid optional feature; the alarm only needs the status.
      measureLatency: false,
    });

    const status = new cloudwatch.Metric({
      namespace: 'AWS/Route53',
      metricName: 'HealthCheckStatus',
      dimensionsMap: { HealthCheckId: this.healthCheck.healthCheckId },
      statistic: cloudwatch.Stats.MINIMUM,
      period: Duration.minutes(1),
    });
    this.alarm = status.createAlarm(this, 'Alarm', {
      alarmName: props.alarmName,
      alarmDescription: `${props.protocol} ${props.fqdn}${props.path} is failing Route53 health checks`,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      // No data means Route53 stopped reporting: treat it as down rather than hide an outage.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    notifyOnAlarmAndOk(props.topic, this.alarm);
  }
}
