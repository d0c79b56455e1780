import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { HealthCheckAlarm, type HealthCheckAlarmProps } from '../../lib/constructs/health-check-alarm';
import { bareStack } from '../helpers/bare-stack';

function build(props: Partial<HealthCheckAlarmProps> = {}): Template {
  const stack = bareStack();
  const topic = new sns.Topic(stack, 'Topic');
  new HealthCheckAlarm(stack, 'Health', { fqdn: 'api.example.com', protocol: 'HTTPS', path: '/healthz', alarmName: 'shop-health-staging', topic, ...props });
  return Template.fromStack(stack);
}

describe('HealthCheckAlarm', () => {
  test('GIVEN an HTTPS endpoint, THEN Route53 checks it on 443 every 30 s and the alarm fires on failure or missing data', () => {
    const template = build();
    template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'HTTPS',
        FullyQualifiedDomainName: 'api.example.com',
        Port: 443,
        ResourcePath: '/healthz',
        RequestInterval: 30,
        FailureThreshold: 3,
        MeasureLatency: false,
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'shop-health-staging',
      Namespace: 'AWS/Route53',
      MetricName: 'HealthCheckStatus',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: 'TopicBFC7AF6E' }],
      OKActions: [{ Ref: 'TopicBFC7AF6E' }],
    });
  });

  test.each<[Partial<HealthCheckAlarmProps>, string, number]>([
    [{ protocol: 'HTTP' }, 'HTTP', 80],
    [{ protocol: 'HTTP', port: 8080 }, 'HTTP', 8080],
    [{ protocol: 'HTTPS', port: 8443 }, 'HTTPS', 8443],
  ])('GIVEN %j, THEN the check is %s on port %d', (props, type, port) => {
    build(props).hasResourceProperties('AWS::Route53::HealthCheck', { HealthCheckConfig: { Type: type, Port: port } });
  });
});
