import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { HostAlarms, type HostAlarmsProps } from '../../lib/constructs/host-alarms';
import { bareStack } from '../helpers/bare-stack';

function build(props: Partial<HostAlarmsProps> = {}): Template {
  const stack = bareStack();
  const topic = new sns.Topic(stack, 'Topic');
  new HostAlarms(stack, 'Alarms', { groupName: 'shop-staging-host', topic, alarmNamePrefix: 'shop-staging', ...props });
  return Template.fromStack(stack);
}

describe('HostAlarms', () => {
  test('GIVEN defaults, THEN CPU above 80 %, a failing instance status check and the root disk above 85 % alarm and recover on the topic', () => {
    const template = build();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    for (const [name, metric, threshold] of [
      ['shop-staging-cpu', 'CPUUtilization', 80],
      ['shop-staging-status-check', 'StatusCheckFailed_Instance', 1],
      ['shop-staging-disk', 'disk_used_percent', 85],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: name,
        MetricName: metric,
        Threshold: threshold,
        AlarmActions: [{ Ref: 'TopicBFC7AF6E' }],
        OKActions: [{ Ref: 'TopicBFC7AF6E' }],
        TreatMissingData: 'notBreaching',
      });
    }
    // Each alarm follows the group's current instance, never a fixed instance id.
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => a.Properties.Dimensions.find((d: { Name: string }) => d.Name !== 'path' && d.Name !== 'fstype'))).toEqual(
      alarms.map(() => ({ Name: 'AutoScalingGroupName', Value: 'shop-staging-host' })),
    );
    expect(JSON.stringify(alarms)).not.toContain('InstanceId');
  });

  test('GIVEN thresholds, THEN the CPU and disk alarms use them', () => {
    const template = build({ cpuThresholdPercent: 60, diskUsedThresholdPercent: 70 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'shop-staging-cpu', Threshold: 60 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'shop-staging-disk', Threshold: 70 });
  });
});
