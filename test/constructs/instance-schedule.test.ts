import { Template } from 'aws-cdk-lib/assertions';
import { InstanceSchedule } from '../../lib/constructs/instance-schedule';
import { bareStack } from '../helpers/bare-stack';

describe('InstanceSchedule', () => {
  test('GIVEN start and stop expressions, THEN two schedules call EC2 directly in the time zone, with a role limited to that instance', () => {
    // GIVEN
    const stack = bareStack();
    // WHEN
    new InstanceSchedule(stack, 'Schedule', {
      instanceId: 'i-0123456789abcdef0',
      timezone: 'America/Sao_Paulo',
      start: 'cron(0 8 ? * MON-FRI *)',
      stop: 'cron(0 20 ? * MON-FRI *)',
    });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    for (const [expression, action] of [
      ['cron(0 8 ? * MON-FRI *)', 'startInstances'],
      ['cron(0 20 ? * MON-FRI *)', 'stopInstances'],
    ]) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: 'America/Sao_Paulo',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:scheduler:::aws-sdk:ec2:${action}`]] },
          Input: '{"InstanceIds":["i-0123456789abcdef0"]}',
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
            Action: ['ec2:StartInstances', 'ec2:StopInstances'],
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:111122223333:instance/i-0123456789abcdef0']] },
          },
        ],
      },
    });
  });

  test('the role and schedules keep the logical ids they had before ScheduledApiCalls (as in the shipped host stacks)', () => {
    const stack = bareStack();
    new InstanceSchedule(stack, 'Schedule', { instanceId: 'i-1', timezone: 'UTC', start: 'cron(0 8 * * ? *)', stop: 'cron(0 20 * * ? *)' });
    const ids = Object.keys(Template.fromStack(stack).toJSON().Resources).sort();
    expect(ids).toEqual(['ScheduleRole2985F131', 'ScheduleRoleDefaultPolicyC651555A', 'ScheduleStartDC4CB14A', 'ScheduleStopF1DDE195'].sort());
  });
});
