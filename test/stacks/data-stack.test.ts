import { Match } from 'aws-cdk-lib/assertions';
import { bootstrapNames, outputNames, stackNames } from '../../lib/names';
import { configWith, shippedConfig } from '../helpers/config-fixtures';
import { environmentStacks } from '../helpers/environment-stacks';
import { shippedTemplate } from '../helpers/synth';

const data = (env: string) => shippedTemplate(stackNames.data('auraxis', env));
const BUCKET = 'BackupsBucket2936A3AA';

describe('DataStack (shipped config)', () => {
  test.each(['dev', 'prod'])('%s keeps container and system logs with the configured retention', (env) => {
    const config = shippedConfig();
    const template = data(env);
    for (const kind of ['containers', 'system']) {
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: `/auraxis/${env}/${kind}`, RetentionInDays: config.environments[env].logs.retentionDays },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  test.each(['dev', 'prod'])('%s backups bucket: private, S3-managed encryption, versioned, retained', (env) => {
    data(env).hasResource('AWS::S3::Bucket', {
      Properties: {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        BucketName: Match.absent(),
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test.each(['dev', 'prod'])('%s bucket policy denies every request without TLS', (env) => {
    data(env).hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: BUCKET },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, '/*']] }],
          },
        ]),
      },
    });
  });

  test.each([
    ['dev', 7],
    ['prod', 90],
  ])('%s backups: Object Lock in governance mode for the restore window (%i days, backups.retentionDays)', (env, days) => {
    data(env as string).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: days } } },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  test.each(['dev', 'prod'])(
    '%s bucket policy denies version deletion and lock bypass to all, and configuration changes to all but its execution role',
    (env) => {
      const execRole = `arn:aws:iam::${shippedConfig().environments[env].account}:role/cdk-${bootstrapNames.qualifier('auraxis', env)}-cfn-exec-role-${shippedConfig().environments[env].account}-us-east-1`;
      const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, '/*']] };
      data(env).hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'NoVersionDeletionNoLockBypass',
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: ['s3:BypassGovernanceRetention', 's3:DeleteObjectVersion'],
              Resource: objects,
            },
            {
              Sid: 'NoCustomerProvidedKeys',
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:PutObject',
              Resource: objects,
              Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
            },
            {
              Sid: 'ConfigurationOnlyByReviewedDeploys',
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: [
                's3:DeleteBucketPolicy',
                's3:PutBucketObjectLockConfiguration',
                's3:PutBucketPolicy',
                's3:PutBucketVersioning',
                's3:PutLifecycleConfiguration',
              ],
              Resource: { 'Fn::GetAtt': [BUCKET, 'Arn'] },
              Condition: { ArnNotEquals: { 'aws:PrincipalArn': execRole } },
            },
          ]),
        },
      });
    },
  );

  test('lifecycle: prod moves to Standard-IA after 30 days and expires after 90; dev expires after 7 without moving; noncurrent versions expire', () => {
    data('prod').hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'expire-backups',
            Status: 'Enabled',
            ExpirationInDays: 90,
            Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
          { Id: 'remove-expired-delete-markers', Status: 'Enabled', ExpiredObjectDeleteMarker: true },
        ],
      },
    });
    data('dev').hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'expire-backups',
            Status: 'Enabled',
            ExpirationInDays: 7,
            Transitions: Match.absent(),
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
          { Id: 'remove-expired-delete-markers', Status: 'Enabled', ExpiredObjectDeleteMarker: true },
        ],
      },
    });
  });

  test.each(['dev', 'prod'])('%s host backups policy: read and write under its own prefix only, list only that prefix, no delete', (env) => {
    data(env).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'ObjectsUnderPrefix',
            Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, `/${env}/*`]] },
          },
          {
            Sid: 'ListPrefix',
            Action: 's3:ListBucket',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [BUCKET, 'Arn'] },
            Condition: { StringLike: { 's3:prefix': [`${env}/*`] } },
          },
        ],
      },
    });
  });

  test.each(['dev', 'prod'])('%s alarm topic: TLS only, e-mail subscription to the configured address, retained', (env) => {
    const t = data(env);
    t.hasResource('AWS::SNS::Topic', { DeletionPolicy: 'Retain' });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: shippedConfig().environments[env].alarmEmail,
      TopicArn: { Ref: 'AlarmTopicD01E77F9' },
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    t.resourceCountIs('AWS::KMS::Key', 0);
  });

  test.each(['dev', 'prod'])('%s outputs bucket name, topic ARN and container log group under the shared names', (env) => {
    const outputs = data(env).toJSON().Outputs;
    expect(outputs[outputNames.backupBucketName].Value).toEqual({ Ref: BUCKET });
    expect(outputs[outputNames.alarmTopicArn].Value).toEqual({ Ref: 'AlarmTopicD01E77F9' });
    expect(outputs[outputNames.containerLogGroupName].Value).toEqual({ Ref: 'ContainerLogsB6BC7C88' });
  });

  test.each(['dev', 'prod'])('%s keeps the SSM command output in its own retained group, with the configured retention', (env) => {
    data(env).hasResource('AWS::Logs::LogGroup', {
      DeletionPolicy: 'Retain',
      Properties: { LogGroupName: `/auraxis/${env}/commands`, RetentionInDays: shippedConfig().environments[env].logs.retentionDays },
    });
  });

  test.each(['dev', 'prod'])('%s pins the logical ids of its stateful resources (a rename would replace them)', (env) => {
    const t = data(env);
    expect(Object.keys(t.findResources('AWS::Logs::LogGroup')).sort()).toEqual(['CommandLogs6DDE42E7', 'ContainerLogsB6BC7C88', 'SystemLogsF62C23A5']);
    expect(Object.keys(t.findResources('AWS::S3::Bucket'))).toEqual([BUCKET]);
    expect(Object.keys(t.findResources('AWS::SNS::Topic'))).toEqual(['AlarmTopicD01E77F9']);
  });
});

describe('DataStack variants', () => {
  test('log retention and backup retention follow the config', () => {
    const { dataTemplate } = environmentStacks(
      configWith((c) => {
        c.environments.dev.logs.retentionDays = 14;
        c.environments.dev.backups.retentionDays = 45;
        c.environments.dev.backups.transitionToInfrequentAccessDays = 30;
      }),
      'dev',
    );
    dataTemplate.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/auraxis/dev/containers', RetentionInDays: 14 });
    dataTemplate.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 45, Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] })]),
      },
    });
  });
});
