import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface BackupsBucketProps {
  /** Days a backup object stays current before the lifecycle expires it. */
  readonly retentionDays: number;
  /**
   * Move backups to S3 Standard-IA after this many days (S3 requires at least 30).
   * @default - backups stay in S3 Standard
   */
  readonly transitionToInfrequentAccessDays?: number;
  /**
   * Days an overwritten or expired (noncurrent) version is kept before it is deleted for good.
   * Versioning keeps a deleted or overwritten backup recoverable for this long.
   * @default 7
   */
  readonly noncurrentVersionRetentionDays?: number;
  /**
   * What happens to the bucket when its stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Days every new backup version stays locked (S3 Object Lock, governance mode): nobody can
   * delete or overwrite that version before then, the host and the pipelines included. At least
   * the restore window (how far back a restore may go).
   * @default - retentionDays
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
   */
  readonly lockDays?: number;
  /**
   * ARN of the one principal that may change the bucket's versioning, lifecycle, policy and lock
   * configuration: the environment's CloudFormation execution role, so that only a reviewed
   * deploy changes them.
   * @default - nobody (only the account's root user can still change the bucket policy)
   */
  readonly configurationRoleArn?: string;
}

/**
 * The private S3 bucket holding an environment's PostgreSQL dumps: all public access blocked,
 * TLS-only bucket policy, S3-managed encryption, versioning, and a lifecycle that moves and expires
 * backups and removes noncurrent versions. Retained when its stack is deleted.
 *
 * Backups survive a compromised host or pipeline:
 * - **S3 Object Lock in governance mode** (`lockDays`): every backup version is locked for the
 *   restore window; an overwrite makes a new version and leaves the old one readable. Governance,
 *   not compliance: the bucket policy below denies the one permission that lifts a governance lock
 *   (`s3:BypassGovernanceRetention`) to everyone, so for the host and every pipeline it is as
 *   strict as compliance, while the account's root user (who alone can still change a bucket
 *   policy that denies it) can undo a mistaken retention instead of paying for it until it ends.
 *   Compliance mode cannot be shortened or lifted by anyone, root included.
 * - **a bucket policy** that denies to every principal deleting a version, lifting a lock and
 *   writing with a customer-provided key (SSE-C: a backup the host could not read back without
 *   the attacker's key), and to every principal but `configurationRoleArn` (the environment's
 *   CloudFormation execution role) suspending versioning and changing the lifecycle, the policy or
 *   the lock configuration.
 *
 * `ObjectLockEnabled` can only be set when CloudFormation creates a bucket: turning it on for an
 * existing bucket replaces the bucket (docs/aws.md, "Backups bucket"). The old bucket is retained.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html
 */
export class BackupsBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: BackupsBucketProps) {
    super(scope, id);
    validateLifecycle(props);
    const transition = props.transitionToInfrequentAccessDays;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      objectLockEnabled: true,
      lifecycleRules: [
        {
          id: 'expire-backups',
          expiration: Duration.days(props.retentionDays),
          transitions: transition === undefined ? undefined : [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(transition) }],
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionRetentionDays ?? 7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        // S3 rejects ExpiredObjectDeleteMarker in a rule that also expires by age: a rule of its own.
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
    });
    // On the L1 resource: the L2's ObjectLockRetention judges its days at synth and cannot take a token.
    (this.bucket.node.defaultChild as s3.CfnBucket).objectLockConfiguration = {
      objectLockEnabled: 'Enabled',
      rule: { defaultRetention: { mode: 'GOVERNANCE', days: props.lockDays ?? props.retentionDays } },
    };
    const objects = this.bucket.arnForObjects('*');
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoVersionDeletionNoLockBypass',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
        resources: [objects],
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoCustomerProvidedKeys',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ConfigurationOnlyByReviewedDeploys',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [
          's3:PutBucketVersioning',
          's3:PutLifecycleConfiguration',
          's3:PutBucketPolicy',
          's3:DeleteBucketPolicy',
          's3:PutBucketObjectLockConfiguration',
        ],
        resources: [this.bucket.bucketArn],
        ...(props.configurationRoleArn ? { conditions: { ArnNotEquals: { 'aws:PrincipalArn': props.configurationRoleArn } } } : {}),
      }),
    );
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Cost and scope: server access logs need a second bucket and its storage, for a bucket that only its environment instance role writes (one dump a day); bucket configuration changes are in CloudTrail management events.',
    });
  }

  /**
   * A managed policy letting whoever it is attached to list, read and write the objects under
   * `prefix` (e.g. `prod/`) and nothing else: no delete (the lifecycle expires backups), and
   * `s3:ListBucket` only for that prefix, which `bucket.grantReadWrite(role, pattern)` cannot express.
   * It lives beside the bucket, so the host stack attaches it without the bucket's ARN crossing stacks.
   */
  public prefixAccessPolicy(scope: Construct, id: string, prefix: string): iam.ManagedPolicy {
    const objects = this.bucket.arnForObjects(`${prefix}*`);
    const policy = new iam.ManagedPolicy(scope, id, {
      description: `Read and write backups under ${prefix} only (no delete, no other prefix)`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ObjectsUnderPrefix',
          actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:AbortMultipartUpload'],
          resources: [objects],
        }),
        new iam.PolicyStatement({
          sid: 'ListPrefix',
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
        }),
      ],
    });
    const bucketLogicalId = Stack.of(this.bucket).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}*]`,
      reason: `The wildcard covers the object keys under ${prefix}, this environment's backups prefix; no other prefix of the bucket is reachable.`,
    });
    return policy;
  }
}

/** S3's minimum age of an object moved to Standard-IA. */
const MIN_INFREQUENT_ACCESS_DAYS = 30;

/**
 * Lifecycle days S3 would reject at deploy time, all reported together with the props named; unresolved
 * tokens are left for CloudFormation to judge.
 */
function validateLifecycle(props: BackupsBucketProps): void {
  const concrete = (n: number | undefined): n is number => n !== undefined && !Token.isUnresolved(n);
  const problems: string[] = [];
  const { retentionDays, transitionToInfrequentAccessDays: transition, noncurrentVersionRetentionDays: noncurrent } = props;
  if (concrete(retentionDays) && (!Number.isInteger(retentionDays) || retentionDays < 1))
    problems.push(`'retentionDays' (${retentionDays}) must be a whole number of days, at least 1`);
  if (concrete(noncurrent) && (!Number.isInteger(noncurrent) || noncurrent < 1))
    problems.push(`'noncurrentVersionRetentionDays' (${noncurrent}) must be a whole number of days, at least 1`);
  const lock = props.lockDays;
  if (concrete(lock) && (!Number.isInteger(lock) || lock < 1)) problems.push(`'lockDays' (${lock}) must be a whole number of days, at least 1`);
  if (concrete(transition)) {
    if (!Number.isInteger(transition) || transition < MIN_INFREQUENT_ACCESS_DAYS) {
      problems.push(
        `'transitionToInfrequentAccessDays' (${transition}) must be a whole number of days, at least ${MIN_INFREQUENT_ACCESS_DAYS} (S3's minimum for Standard-IA)`,
      );
    }
    if (concrete(retentionDays) && transition >= retentionDays) {
      problems.push(
        `'transitionToInfrequentAccessDays' (${transition}) must be less than 'retentionDays' (${retentionDays}): backups would expire before they move`,
      );
    }
  }
  if (problems.length > 0) throw new Error(`BackupsBucket: ${problems.join('; ')}`);
}
