import { Match, Template } from 'aws-cdk-lib/assertions';
import { ScheduledApiCalls } from '../../lib/constructs/scheduled-api-calls';
import { bareStack } from '../helpers/bare-stack';

const ALARM_ARN = 'arn:aws:cloudwatch:us-east-1:111122223333:alarm:a';

function build() {
  const stack = bareStack();
  const calls = new ScheduledApiCalls(stack, 'Calls', {
    timezone: 'America/Sao_Paulo',
    roleDescription: 'Lets EventBridge Scheduler mute alarm a',
    actions: ['cloudwatch:DisableAlarmActions', 'cloudwatch:EnableAlarmActions'],
    resources: [ALARM_ARN],
  });
  return { stack, calls };
}

describe('ScheduledApiCalls', () => {
  test('GIVEN a call, WHEN it is scheduled, THEN its input is sent as JSON to the named service and action, in the time zone, at its exact minute, with retries', () => {
    // GIVEN
    const { stack, calls } = build();
    // WHEN
    calls.at('Mute', {
      expression: 'cron(0 20 * * ? *)',
      service: 'cloudwatch',
      action: 'disableAlarmActions',
      input: { AlarmNames: ['a'] },
      description: 'mute',
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Scheduler::Schedule', {
      Description: 'mute',
      ScheduleExpression: 'cron(0 20 * * ? *)',
      ScheduleExpressionTimezone: 'America/Sao_Paulo',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:::aws-sdk:cloudwatch:disableAlarmActions']] },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CallsRole'), 'Arn'] },
        Input: '{"AlarmNames":["a"]}',
        RetryPolicy: { MaximumRetryAttempts: 3 },
      },
    });
  });

  test('GIVEN no call yet, THEN there is one role, assumable by Scheduler for this account only, allowed exactly the given actions on the given resources', () => {
    // GIVEN / WHEN
    const { stack } = build();
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: 'Lets EventBridge Scheduler mute alarm a',
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
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: ['cloudwatch:DisableAlarmActions', 'cloudwatch:EnableAlarmActions'], Resource: ALARM_ARN }] },
    });
  });

  test('GIVEN two calls, THEN both share the one role', () => {
    const { stack, calls } = build();
    calls.at('Mute', {
      expression: 'cron(0 20 * * ? *)',
      service: 'cloudwatch',
      action: 'disableAlarmActions',
      input: { AlarmNames: ['a'] },
      description: 'mute',
    });
    calls.at('Unmute', {
      expression: 'cron(0 8 * * ? *)',
      service: 'cloudwatch',
      action: 'enableAlarmActions',
      input: { AlarmNames: ['a'] },
      description: 'unmute',
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.resourceCountIs('AWS::IAM::Role', 1);
  });
});
