import { Match } from 'aws-cdk-lib/assertions';
import { onCalendarGapSeconds } from '../../lib/config/on-calendar';
import { DATA_VOLUME_SCRIPT_PATH } from '../../lib/host-runtime/first-boot';
import { stackNames } from '../../lib/names';
import { configWith, problemsOf, shippedConfigInput } from '../helpers/config-fixtures';
import { environmentStacks } from '../helpers/environment-stacks';
import { unpackedFirstBoot } from '../helpers/first-boot';
import { shippedTemplate } from '../helpers/synth';

const data = (env: string) => shippedTemplate(stackNames.data('auraxis', env));
const host = (env: string) => shippedTemplate(stackNames.host('auraxis', env));

describe('data volume (shipped config)', () => {
  test.each([
    ['dev', 10],
    ['prod', 20],
  ])('%s: one encrypted gp3 volume of the configured size in the fixed zone, kept as a snapshot, with a pinned logical id', (env, size) => {
    data(env).resourceCountIs('AWS::EC2::Volume', 1);
    // Renaming the construct would replace the volume: the logical id is pinned.
    expect(data(env).findResources('AWS::EC2::Volume')).toEqual({
      DataVolume772801A0: expect.objectContaining({
        DeletionPolicy: 'Snapshot',
        UpdateReplacePolicy: 'Snapshot',
        Properties: expect.objectContaining({ AvailabilityZone: 'us-east-1a', Encrypted: true, VolumeType: 'gp3', Size: size, MultiAttachEnabled: false }),
      }),
    });
    data(env).hasResourceProperties('AWS::EC2::Volume', { Tags: Match.arrayWith([{ Key: 'SnapshotPolicy', Value: `auraxis-${env}` }]) });
  });

  test('the host subnet is in the volume zone', () => {
    for (const env of ['dev', 'prod']) host(env).hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'us-east-1a' });
  });

  test.each([
    ['dev', 3],
    ['prod', 7],
  ])('%s: a DLM policy snapshots the volume by its tag every 24 h and keeps the configured count', (env, retain) => {
    data(env).resourceCountIs('AWS::DLM::LifecyclePolicy', 1);
    data(env).hasResource('AWS::DLM::LifecyclePolicy', {
      DeletionPolicy: 'Retain',
      Properties: {
        State: 'ENABLED',
        ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataVolumeSnapshotRole'), 'Arn'] },
        PolicyDetails: {
          PolicyType: 'EBS_SNAPSHOT_MANAGEMENT',
          ResourceTypes: ['VOLUME'],
          TargetTags: [{ Key: 'SnapshotPolicy', Value: `auraxis-${env}` }],
          Schedules: [
            Match.objectLike({ CreateRule: { Interval: 24, IntervalUnit: 'HOURS', Times: ['03:00'] }, RetainRule: { Count: retain }, CopyTags: true }),
          ],
        },
      },
    });
    data(env).hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'dlm.amazonaws.com' } })] },
    });
  });

  test('prod: the backup-age alarm fires past twice the 15-minute schedule, missing data breaching, to the alarm topic', () => {
    data('prod').hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'auraxis-prod-backup-age',
      Namespace: 'auraxis/Backups',
      MetricName: 'NewestBackupAgeSeconds',
      Dimensions: [{ Name: 'Environment', Value: 'prod' }],
      Period: 1800,
      EvaluationPeriods: 1,
      Threshold: 1800,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
    });
  });

  test('dev (stopped at night): the alarm keeps its state while no data arrives, instead of breaching every night', () => {
    data('dev').hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'auraxis-dev-backup-age',
      Threshold: 7200,
      Period: 7200,
      TreatMissingData: 'missing',
    });
  });

  test('a daily schedule: hourly periods, all 48 must breach', () => {
    const { dataTemplate } = environmentStacks(
      configWith((c) => (c.environments.prod.backups.schedule = '*-*-* 03:00:00')),
      'prod',
    );
    dataTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'auraxis-prod-backup-age',
      Period: 3600,
      EvaluationPeriods: 48,
      DatapointsToAlarm: 48,
      Threshold: 172800,
    });
  });

  test('the data stacks are termination-protected (the volume cannot go with a stack deletion)', () => {
    const { data: stack } = environmentStacks(
      configWith(() => undefined),
      'prod',
    );
    expect(stack.terminationProtection).toBe(true);
  });
});

describe('the host attaches and mounts the data volume', () => {
  test('user data mounts the data volume by its id (host-boot.sh --volume-only, which runs data-volume.sh) before Docker starts', () => {
    const [lt] = Object.values(host('prod').findResources('AWS::EC2::LaunchTemplate'));
    const text = unpackedFirstBoot(lt.Properties.LaunchTemplateData.UserData);
    expect(text).toContain(`DATA_VOLUME_ID={"Fn::GetStackOutput"`);
    expect(text).toContain('DATA_MOUNT_POINT=/var/lib/auraxis\nDATA_VOLUME_LABEL=app-data\n');
    const run = text.indexOf('LIFECYCLE_ENV_FILE=/etc/default/auraxis-lifecycle bash /usr/local/lib/auraxis-lifecycle/host-boot.sh --volume-only');
    expect(run).toBeGreaterThan(0);
    expect(run).toBeLessThan(text.indexOf('systemctl enable --now docker'));
    // The full boot (address, app) comes last.
    expect(text.trimEnd().endsWith('LIFECYCLE_ENV_FILE=/etc/default/auraxis-lifecycle bash /usr/local/lib/auraxis-lifecycle/host-boot.sh')).toBe(true);
    expect(text).not.toContain(DATA_VOLUME_SCRIPT_PATH);
  });

  test('the instance role may attach and detach only this volume, only on instances tagged for its environment (a policy of its own), and put only the backup metric', () => {
    const t = host('prod');
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^DataVolumeAttachPolicy'),
      PolicyDocument: {
        Statement: [
          {
            Sid: 'AttachOwnDataVolume',
            Action: ['ec2:AttachVolume', 'ec2:DetachVolume'],
            Effect: 'Allow',
            Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } },
            Resource: [
              'arn:aws:ec2:us-east-1:765480282720:instance/*',
              {
                'Fn::Join': [
                  '',
                  ['arn:aws:ec2:us-east-1:765480282720:volume/', { 'Fn::GetStackOutput': Match.objectLike({ StackName: 'auraxis-prod-data' }) }],
                ],
              },
            ],
          },
        ],
      },
    });
    // The metric statement is a policy of its own, so its acknowledgement covers nothing else.
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'PublishBackupAge',
            Action: 'cloudwatch:PutMetricData',
            Effect: 'Allow',
            Resource: '*',
            Condition: { StringEquals: { 'cloudwatch:namespace': 'auraxis/Backups' } },
          },
        ],
      },
    });
    // The volume and every instance the group launches carry the environment tag the condition names.
    const tag = (tags: { Key: string; Value: string }[]) => tags.find((x) => x.Key === 'env');
    const [group] = Object.values(t.findResources('AWS::AutoScaling::AutoScalingGroup'));
    const [volume] = Object.values(data('prod').findResources('AWS::EC2::Volume'));
    expect(tag(group.Properties.Tags)).toEqual({ Key: 'env', Value: 'prod', PropagateAtLaunch: true });
    expect(tag(volume.Properties.Tags)?.Value).toBe('prod');
  });
});

describe('config: data volume, snapshots and the backup schedule', () => {
  test.each<[string, number | undefined]>([
    ['*:0/15', 900],
    ['*:0/5', 300],
    ['*-*-* *:00/15:00', 900],
    ['hourly', 3600],
    ['daily', 86400],
    ['*-*-* 03:00:00', 86400],
    ['*-*-* 03,15:00', 43200],
    ['Mon..Fri *-*-* 03:30:00', 3 * 86400],
    ['Sat,Sun 12:00', 6 * 86400],
    ['*:7,37', 1800],
    ['every day at three', undefined],
    ['2026-01-01 03:00', undefined],
    ['*:61', undefined],
    ['Funday 03:00', undefined],
    ['*-*-* 03:00:00:00', undefined],
  ])('OnCalendar %j: longest gap %s s', (expression, gap) => {
    expect(onCalendarGapSeconds(expression)).toBe(gap);
  });

  test('the shipped prod backs up at least every 15 minutes (the runbook RPO)', () => {
    const prod = shippedConfigInput().environments.prod;
    expect(onCalendarGapSeconds(prod.backups.schedule)).toBeLessThanOrEqual(900);
  });

  test.each<[string, (c: ReturnType<typeof shippedConfigInput>) => void, string]>([
    [
      'a schedule the parser cannot read',
      (c) => (c.environments.prod.backups.schedule = 'every day at three'),
      'environments.prod.backups.schedule: "every day at three" is not a systemd OnCalendar expression',
    ],
    [
      'a schedule too sparse for the alarm',
      (c) => (c.environments.prod.backups.schedule = 'Mon 03:00'),
      'environments.prod.backups.schedule: "Mon 03:00" leaves 168 h between two backups; at most 84 h',
    ],
    [
      'no fixed zone',
      (c) => delete c.environments.prod.instance.availabilityZone,
      'environments.prod.instance.availabilityZone: is required: the data volume and the host must stay in one fixed zone',
    ],
    [
      'retain 0',
      (c) => (c.environments.prod.dataVolume.snapshots.retain = 0),
      'environments.prod.dataVolume.snapshots.retain: 0 must be a positive whole number',
    ],
    [
      'an interval DLM refuses',
      (c) => (c.environments.prod.dataVolume.snapshots.intervalHours = 5),
      'environments.prod.dataVolume.snapshots.intervalHours: 5 is not an interval Data Lifecycle Manager accepts (one of 1, 2, 3, 4, 6, 8, 12, 24 hours)',
    ],
    [
      'a size beyond gp3',
      (c) => (c.environments.prod.dataVolume.sizeGiB = 20000),
      'environments.prod.dataVolume.sizeGiB: 20000 must be at most 16384 (the gp3 maximum)',
    ],
    ['an unknown key', (c) => (c.environments.prod.dataVolume.iops = 3000), 'environments.prod.dataVolume.iops'],
  ])('%s is rejected with its key path', (_name, edit, message) => {
    const raw = shippedConfigInput();
    edit(raw);
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });
});
