import { Template } from 'aws-cdk-lib/assertions';
import { InstanceSchedule } from '../../lib/constructs/instance-schedule';
import { bareStack } from '../helpers/bare-stack';

const GROUP_ARN = 'arn:aws:autoscaling:us-east-1:111122223333:autoScalingGroup:*:autoScalingGroupName/shop-dev-host';

describe('InstanceSchedule', () => {
  test('GIVEN start and stop expressions, THEN two schedules set the group’s desired capacity to 1 and 0 in the time zone, with a role limited to that group', () => {
    // GIVEN
    const stack = bareStack();
    // WHEN
    new InstanceSchedule(stack, 'Schedule', {
      groupName: 'shop-dev-host',
      groupArn: GROUP_ARN,
      timezone: 'America/Sao_Paulo',
      start: 'cron(0 8 ? * MON-FRI *)',
      stop: 'cron(0 20 ? * MON-FRI *)',
    });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    for (const [expression, desired] of [
      ['cron(0 8 ? * MON-FRI *)', 1],
      ['cron(0 20 ? * MON-FRI *)', 0],
    ]) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: 'America/Sao_Paulo',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:::aws-sdk:autoscaling:updateAutoScalingGroup']] },
          Input: `{"AutoScalingGroupName":"shop-dev-host","DesiredCapacity":${desired}}`,
          RetryPolicy: { MaximumRetryAttempts: 3 },
        },
      });
    }
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'autoscaling:UpdateAutoScalingGroup',
            Effect: 'Allow',
            Resource: GROUP_ARN,
          },
        ],
      },
    });
  });

  test('the role and schedules keep the logical ids they had before ScheduledApiCalls (as in the shipped host stacks)', () => {
    const stack = bareStack();
    new InstanceSchedule(stack, 'Schedule', {
      groupName: 'shop-dev-host',
      groupArn: GROUP_ARN,
      timezone: 'UTC',
      start: 'cron(0 8 * * ? *)',
      stop: 'cron(0 20 * * ? *)',
    });
    const ids = Object.keys(Template.fromStack(stack).toJSON().Resources).sort();
    expect(ids).toEqual(['ScheduleRole2985F131', 'ScheduleRoleDefaultPolicyC651555A', 'ScheduleStartDC4CB14A', 'ScheduleStopF1DDE195'].sort());
  });
});
