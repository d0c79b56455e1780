import { RemovalPolicy, Size, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DLM_INTERVAL_HOURS, DLM_MAX_RETAIN } from '../config/schema/data-volume';

/** Tag key Data Lifecycle Manager selects the volume by; its value names the environment's volume. */
export const SNAPSHOT_TAG_KEY = 'SnapshotPolicy';

/** UTC time of day the snapshot schedule starts from: the backup timer's default hour, a quiet time. */
const SNAPSHOT_START_TIME = '03:00';

export interface DataVolumeSnapshots {
  /** Hours between snapshots: one of 1, 2, 3, 4, 6, 8, 12, 24 (what DLM accepts). */
  readonly intervalHours: number;
  /** Snapshots kept; DLM deletes the oldest beyond this count. From 1 to 1000. */
  readonly retain: number;
}

export interface DataVolumeProps {
  /** The one availability zone of the volume; the host must run in it to attach the volume. */
  readonly availabilityZone: string;
  /** Size in GiB; may grow in later deploys, never shrink (EBS refuses). */
  readonly sizeGiB: number;
  /** `<app>-<env>`: the Name tag and the snapshot tag value. */
  readonly name: string;
  /** The Data Lifecycle Manager schedule of the volume's snapshots. */
  readonly snapshots: DataVolumeSnapshots;
}

/**
 * The environment's data volume: an encrypted gp3 EBS volume in one fixed zone, kept as a snapshot
 * if CloudFormation ever deletes it, snapshotted on a schedule by a Data Lifecycle Manager policy
 * that selects it by tag. The host attaches it at boot (see `scripts/host/data-volume.sh`) and
 * mounts it before the container engine starts; Postgres, Redis, the state file and the audit log
 * live on it, so the instance and its root volume can be replaced.
 * @see https://docs.aws.amazon.com/ebs/latest/userguide/snapshot-lifecycle.html
 */
export class DataVolume extends Construct {
  public readonly volume: ec2.Volume;
  public readonly snapshotPolicy: dlm.CfnLifecyclePolicy;
  public readonly snapshotRole: iam.Role;

  constructor(scope: Construct, id: string, props: DataVolumeProps) {
    super(scope, id);
    validate(props);
    const { intervalHours, retain } = props.snapshots;

    this.volume = new ec2.Volume(this, 'Volume', {
      availabilityZone: props.availabilityZone,
      size: Size.gibibytes(props.sizeGiB),
      volumeType: ec2.EbsDeviceVolumeType.GP3,
      encrypted: true,
      // The data outlives the resource: deleting it from the stack leaves a snapshot.
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    Tags.of(this.volume).add('Name', `${props.name}-data`);
    Validations.of(this.volume).acknowledge({
      id: 'CloudFormation-Validate::W3010',
      reason: `An EBS volume lives in one zone: it is fixed in the config (instance.availabilityZone ${props.availabilityZone}) so the volume and the host that attaches it never drift apart.`,
    });
    Tags.of(this.volume).add(SNAPSHOT_TAG_KEY, props.name);

    // DLM's own role: the AWS-managed policy is exactly what DLM needs (create, tag and delete
    // snapshots); DLM snapshots only volumes whose tags the policy names.
    this.snapshotRole = new iam.Role(this, 'SnapshotRole', {
      assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSDataLifecycleManagerServiceRole')],
    });
    Validations.of(this.snapshotRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole]',
      reason:
        'The AWS-maintained service-role policy of Data Lifecycle Manager, assumable only by dlm.amazonaws.com; the lifecycle policy targets only volumes tagged for this environment.',
    });

    this.snapshotPolicy = new dlm.CfnLifecyclePolicy(this, 'SnapshotPolicy', {
      description: `${props.name} data volume every ${intervalHours} h keep ${retain}`,
      state: 'ENABLED',
      executionRoleArn: this.snapshotRole.roleArn,
      policyDetails: {
        policyType: 'EBS_SNAPSHOT_MANAGEMENT',
        resourceTypes: ['VOLUME'],
        targetTags: [{ key: SNAPSHOT_TAG_KEY, value: props.name }],
        schedules: [
          {
            name: `every ${intervalHours} h`,
            createRule: { interval: intervalHours, intervalUnit: 'HOURS', times: [SNAPSHOT_START_TIME] },
            retainRule: { count: retain },
            copyTags: true,
            tagsToAdd: [{ key: 'CreatedBy', value: 'dlm' }],
          },
        ],
      },
    });
    this.snapshotPolicy.applyRemovalPolicy(RemovalPolicy.RETAIN);
  }

  /** `arn:<partition>:ec2:<region>:<account>:volume/<id>` */
  get volumeArn(): string {
    return Stack.of(this).formatArn({ service: 'ec2', resource: 'volume', resourceName: this.volume.volumeId });
  }
}

/** What EBS or DLM would reject at deploy time, all reported together with the props named; tokens are left to CloudFormation. */
function validate(props: DataVolumeProps): void {
  const concrete = (n: number): boolean => !Token.isUnresolved(n);
  const problems: string[] = [];
  const { sizeGiB } = props;
  const { intervalHours, retain } = props.snapshots;
  if (concrete(sizeGiB) && (!Number.isInteger(sizeGiB) || sizeGiB < 1 || sizeGiB > 16384))
    problems.push(`'sizeGiB' (${sizeGiB}) must be a whole number from 1 to 16384 (gp3)`);
  if (concrete(intervalHours) && !(DLM_INTERVAL_HOURS as readonly number[]).includes(intervalHours))
    problems.push(`'snapshots.intervalHours' (${intervalHours}) must be one of ${DLM_INTERVAL_HOURS.join(', ')} (what Data Lifecycle Manager accepts)`);
  if (concrete(retain) && (!Number.isInteger(retain) || retain < 1 || retain > DLM_MAX_RETAIN))
    problems.push(`'snapshots.retain' (${retain}) must be a whole number from 1 to ${DLM_MAX_RETAIN}`);
  if (problems.length > 0) throw new Error(`DataVolume: ${problems.join('; ')}`);
}
