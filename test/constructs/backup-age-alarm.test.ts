import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BackupAgeAlarm, type BackupAgeAlarmProps } from '../../lib/constructs/backup-age-alarm';
import { bareStack } from '../helpers/bare-stack';

/** A bare stack with one topic and one BackupAgeAlarm. */
function build(props: Partial<BackupAgeAlarmProps> = {}) {
  const stack = bareStack();
  const topic = new sns.Topic(stack, 'Topic');
  new BackupAgeAlarm(stack, 'BackupAge', { appName: 'shop', environmentName: 'staging', scheduleGap: Duration.hours(24), topic, ...props });
  return Template.fromStack(stack);
}

describe('BackupAgeAlarm', () => {
  test('GIVEN a daily schedule, THEN one alarm fires when the newest backup is older than 2 days, over hourly periods, and notifies on alarm and on recovery', () => {
    // WHEN
    const template = build();
    // THEN
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'shop-staging-backup-age',
      Namespace: 'shop/Backups',
      Dimensions: [{ Name: 'Environment', Value: 'staging' }],
      Statistic: 'Minimum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 2 * 86400,
      Period: 3600,
      EvaluationPeriods: 48,
      DatapointsToAlarm: 48,
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
    });
  });

  test('GIVEN a gap that fits in a day twice, THEN one period covers the whole limit, rounded up to a minute', () => {
    const template = build({ scheduleGap: Duration.seconds(15 * 60 + 10) });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Period: 1860, EvaluationPeriods: 1, DatapointsToAlarm: 1, Threshold: 1820 });
  });

  test.each([
    [undefined, 'breaching'],
    [false, 'breaching'],
    [true, 'missing'],
  ])('GIVEN hostStopsOnSchedule %p, THEN missing data is %s', (hostStopsOnSchedule, treatment) => {
    build({ hostStopsOnSchedule }).hasResourceProperties('AWS::CloudWatch::Alarm', { TreatMissingData: treatment });
  });

  test('GIVEN a gap whose double exceeds the 7 days CloudWatch evaluates, THEN it throws naming scheduleGap', () => {
    expect(() => build({ scheduleGap: Duration.hours(85) })).toThrow(
      "BackupAgeAlarm: twice 'scheduleGap' (3 days 13 hours) is 7 days 2 hours, more than the 7 days CloudWatch can evaluate",
    );
    expect(() => build({ scheduleGap: Duration.hours(84) })).not.toThrow();
  });
});
