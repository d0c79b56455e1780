import { type CfnElement, Lazy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DataVolume, type DataVolumeProps } from '../../lib/constructs/data-volume';
import { bareStack } from '../helpers/bare-stack';

/** A bare stack with one DataVolume; `props` replaces the defaults given here. */
function build(props: Partial<DataVolumeProps> = {}) {
  const stack = bareStack();
  const volume = new DataVolume(stack, 'Data', {
    availabilityZone: 'us-east-1b',
    sizeGiB: 30,
    name: 'shop-staging',
    snapshots: { intervalHours: 12, retain: 14 },
    ...props,
  });
  return { stack, volume, template: Template.fromStack(stack) };
}

describe('DataVolume', () => {
  test('GIVEN a zone, size and name, THEN one encrypted gp3 volume there, kept as a snapshot when deleted or replaced, tagged for its snapshot policy', () => {
    // WHEN
    const { template } = build();
    // THEN
    template.resourceCountIs('AWS::EC2::Volume', 1);
    template.hasResource('AWS::EC2::Volume', {
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
      Properties: {
        AvailabilityZone: 'us-east-1b',
        Size: 30,
        VolumeType: 'gp3',
        Encrypted: true,
        Tags: Match.arrayWith([
          { Key: 'Name', Value: 'shop-staging-data' },
          { Key: 'SnapshotPolicy', Value: 'shop-staging' },
        ]),
      },
    });
  });

  test('GIVEN a snapshot schedule, THEN a retained DLM policy snapshots volumes with that tag at that interval from 03:00 UTC and keeps that many', () => {
    const { template } = build();
    template.hasResource('AWS::DLM::LifecyclePolicy', {
      DeletionPolicy: 'Retain',
      Properties: {
        State: 'ENABLED',
        Description: 'shop-staging data volume every 12 h keep 14',
        ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataSnapshotRole'), 'Arn'] },
        PolicyDetails: {
          PolicyType: 'EBS_SNAPSHOT_MANAGEMENT',
          ResourceTypes: ['VOLUME'],
          TargetTags: [{ Key: 'SnapshotPolicy', Value: 'shop-staging' }],
          Schedules: [{ CreateRule: { Interval: 12, IntervalUnit: 'HOURS', Times: ['03:00'] }, RetainRule: { Count: 14 }, CopyTags: true }],
        },
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'dlm.amazonaws.com' } })] },
    });
  });

  test('volumeArn names the volume in the stack’s account and region', () => {
    const { stack, volume } = build();
    expect(stack.resolve(volume.volumeArn)).toEqual({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:111122223333:volume/', { Ref: stack.getLogicalId(volume.volume.node.defaultChild as CfnElement) }],
      ],
    });
  });

  test.each<[string, Partial<DataVolumeProps>, string]>([
    [
      'an interval DLM refuses',
      { snapshots: { intervalHours: 5, retain: 7 } },
      "DataVolume: 'snapshots.intervalHours' (5) must be one of 1, 2, 3, 4, 6, 8, 12, 24 (what Data Lifecycle Manager accepts)",
    ],
    ['no snapshot kept', { snapshots: { intervalHours: 24, retain: 0 } }, "DataVolume: 'snapshots.retain' (0) must be a whole number from 1 to 1000"],
    [
      'more snapshots than DLM keeps',
      { snapshots: { intervalHours: 24, retain: 1001 } },
      "DataVolume: 'snapshots.retain' (1001) must be a whole number from 1 to 1000",
    ],
    ['a size gp3 refuses', { sizeGiB: 0 }, "DataVolume: 'sizeGiB' (0) must be a whole number from 1 to 16384 (gp3)"],
    [
      'several problems at once',
      { sizeGiB: 20000, snapshots: { intervalHours: 48, retain: 0 } },
      "DataVolume: 'sizeGiB' (20000) must be a whole number from 1 to 16384 (gp3); 'snapshots.intervalHours' (48) must be one of 1, 2, 3, 4, 6, 8, 12, 24 (what Data Lifecycle Manager accepts); 'snapshots.retain' (0) must be a whole number from 1 to 1000",
    ],
  ])('GIVEN %s, THEN it throws naming the prop and the value', (_what, props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  test('GIVEN tokens for the schedule, THEN nothing is judged at synth (CloudFormation does)', () => {
    const token = Lazy.number({ produce: () => 0 });
    expect(() => build({ snapshots: { intervalHours: token, retain: token } })).not.toThrow();
  });
});
