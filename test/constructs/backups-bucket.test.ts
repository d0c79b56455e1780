import { Lazy, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BackupsBucket, type BackupsBucketProps } from '../../lib/constructs/backups-bucket';
import { bareStack } from '../helpers/bare-stack';

/** A bare stack with one BackupsBucket. */
function build(props: Partial<BackupsBucketProps> = {}): { stack: Stack; backups: BackupsBucket } {
  const stack = bareStack();
  const backups = new BackupsBucket(stack, 'Backups', { retentionDays: 90, ...props });
  return { stack, backups };
}

const rules = (stack: Stack) => Template.fromStack(stack).findResources('AWS::S3::Bucket');

describe('BackupsBucket', () => {
  test('GIVEN retention only, THEN backups expire, noncurrent versions go after 7 days, no transition, and the bucket is retained', () => {
    // WHEN
    const { stack } = build();
    // THEN
    Template.fromStack(stack).hasResource('AWS::S3::Bucket', {
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'expire-backups',
              Status: 'Enabled',
              ExpirationInDays: 90,
              NoncurrentVersionExpiration: { NoncurrentDays: 7 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
              Transitions: Match.absent(),
            },
            { Id: 'remove-expired-delete-markers', Status: 'Enabled', ExpiredObjectDeleteMarker: true },
          ],
        },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('GIVEN a transition, a noncurrent retention and a removal policy, THEN each reaches the template', () => {
    // WHEN
    const { stack } = build({ transitionToInfrequentAccessDays: 30, noncurrentVersionRetentionDays: 14, removalPolicy: RemovalPolicy.DESTROY });
    // THEN
    Template.fromStack(stack).hasResource('AWS::S3::Bucket', {
      Properties: {
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }], NoncurrentVersionExpiration: { NoncurrentDays: 14 } }),
          ]),
        },
      },
      DeletionPolicy: 'Delete',
    });
    expect(Object.keys(rules(stack))).toHaveLength(1);
  });

  test.each<[string, Partial<BackupsBucketProps>, string]>([
    [
      'a transition at expiry',
      { retentionDays: 30, transitionToInfrequentAccessDays: 30 },
      "BackupsBucket: 'transitionToInfrequentAccessDays' (30) must be less than 'retentionDays' (30): backups would expire before they move",
    ],
    [
      'a transition after expiry',
      { retentionDays: 7, transitionToInfrequentAccessDays: 45 },
      "BackupsBucket: 'transitionToInfrequentAccessDays' (45) must be less than 'retentionDays' (7): backups would expire before they move",
    ],
    [
      'a transition sooner than S3 allows',
      { retentionDays: 90, transitionToInfrequentAccessDays: 10 },
      "BackupsBucket: 'transitionToInfrequentAccessDays' (10) must be a whole number of days, at least 30 (S3's minimum for Standard-IA)",
    ],
    [
      'no retention and no noncurrent retention',
      { retentionDays: 0, noncurrentVersionRetentionDays: 0 },
      "BackupsBucket: 'retentionDays' (0) must be a whole number of days, at least 1; 'noncurrentVersionRetentionDays' (0) must be a whole number of days, at least 1",
    ],
  ])('GIVEN %s, THEN the construct throws naming the props', (_name, props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  test('THEN requests without TLS are denied on the bucket and its objects (enforceSSL)', () => {
    const { stack } = build();
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::S3::BucketPolicy'))[0].Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual({
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Resource: [
        { 'Fn::GetAtt': [expect.stringMatching(/^BackupsBucket/), 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^BackupsBucket/), 'Arn'] }, '/*']] },
      ],
    });
  });

  test('GIVEN lockDays, THEN every version is locked in governance mode that long; without it, for retentionDays', () => {
    const lock = (stack: Stack) => Object.values(rules(stack))[0].Properties.ObjectLockConfiguration;
    expect(Object.values(rules(build().stack))[0].Properties.ObjectLockEnabled).toBe(true);
    expect(lock(build().stack)).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 90 } } });
    expect(lock(build({ lockDays: 30 }).stack).Rule.DefaultRetention.Days).toBe(30);
    expect(() => build({ lockDays: 0 })).toThrow("BackupsBucket: 'lockDays' (0) must be a whole number of days, at least 1");
  });

  test('GIVEN a configuration role, THEN only it may change versioning, lifecycle, policy and lock; without one, nobody', () => {
    const statement = (stack: Stack) =>
      Object.values(Template.fromStack(stack).findResources('AWS::S3::BucketPolicy'))[0].Properties.PolicyDocument.Statement.find(
        (s: { Sid?: string }) => s.Sid === 'ConfigurationOnlyByReviewedDeploys',
      );
    const role = 'arn:aws:iam::111122223333:role/cdk-q-cfn-exec-role-111122223333-us-east-1';
    expect(statement(build({ configurationRoleArn: role }).stack)).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': role } },
    });
    expect(statement(build().stack).Condition).toBeUndefined();
    expect(statement(build().stack).Action).toEqual([
      's3:PutBucketVersioning',
      's3:PutLifecycleConfiguration',
      's3:PutBucketPolicy',
      's3:DeleteBucketPolicy',
      's3:PutBucketObjectLockConfiguration',
    ]);
  });

  test('GIVEN unresolved days (tokens), THEN nothing is judged at synth', () => {
    const days = Lazy.number({ produce: () => 10 });
    expect(() => build({ retentionDays: days, transitionToInfrequentAccessDays: 30 })).not.toThrow();
  });

  test('GIVEN a prefix, THEN its access policy reads and writes only that prefix and cannot delete', () => {
    // GIVEN
    const { stack, backups } = build();
    // WHEN
    backups.prefixAccessPolicy(stack, 'Access', 'prod/');
    // THEN
    const policy = Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy');
    const statements = (Object.values(policy)[0] as { Properties: { PolicyDocument: { Statement: { Sid: string; Action: string[] | string }[] } } }).Properties
      .PolicyDocument.Statement;
    expect(statements.map((s) => s.Sid)).toEqual(['ObjectsUnderPrefix', 'ListPrefix']);
    expect(JSON.stringify(statements)).not.toContain('Delete');
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'ListPrefix', Condition: { StringLike: { 's3:prefix': ['prod/*'] } } })]) },
    });
  });
});
