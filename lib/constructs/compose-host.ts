import { Duration, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AGENT_NAMESPACE, type BootstrapOptions, bootstrapCommands } from '../private/host-bootstrap';

/** The SSM parameter AWS keeps pointing at the newest Amazon Linux 2023 AMI for an architecture. */
export function amazonLinux2023Parameter(architecture: ec2.InstanceArchitecture): string {
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x86_64'}`;
}

/** DNS name of the host in a Route53 zone given by id and name (never looked up). */
export interface ComposeHostDns {
  /** Hosted zone id, e.g. `Z0123456789ABCDEFGHIJ`. */
  readonly hostedZoneId: string;
  /** The zone's name, e.g. `example.com`. */
  readonly zoneName: string;
  /** Full name of the A record, inside the zone, e.g. `api.example.com`. */
  readonly recordName: string;
  /** @default Duration.minutes(5) */
  readonly ttl?: Duration;
}

export interface ComposeHostProps {
  /** VPC with a public subnet; the host gets a public address there and needs no NAT gateway. */
  readonly vpc: ec2.IVpc;
  /** EC2 instance type; its architecture picks the AMI (Graviton `t4g` → arm64). */
  readonly instanceType: ec2.InstanceType;
  /** Name tag of the instance, shown in the console. */
  readonly instanceName: string;
  /** Size of the encrypted gp3 root volume in GiB. */
  readonly rootVolumeGiB: number;
  /** What first boot installs and checks out (see `bootstrapCommands`). */
  readonly bootstrap: BootstrapOptions;
  /** Open 443 as well as 80. */
  readonly tls: boolean;
  /**
   * EC2 termination protection (`DisableApiTermination`).
   * @default false
   */
  readonly terminationProtection?: boolean;
  /**
   * CPU credit mode, applied only to burstable types (t3, t3a, t4g).
   * @default ec2.CpuCredits.STANDARD
   */
  readonly cpuCredits?: ec2.CpuCredits;
  /**
   * A record pointing at the Elastic IP.
   * @default - no DNS record
   */
  readonly dns?: ComposeHostDns;
  /**
   * Notified when auto-recovery triggers.
   * @default - the recovery alarm only recovers
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * One EC2 instance running the app with Docker Compose, reachable only through SSM: Amazon Linux
 * 2023, IMDSv2 required, encrypted gp3 root volume, no key pair, a security group opening 80 (and
 * 443 with TLS) and nothing else, an Elastic IP, an optional Route53 A record, and EC2 auto-recovery
 * (an alarm on the system status check with the recover action).
 *
 * The AMI is resolved by EC2 at launch from AWS's public SSM parameter (`resolve:ssm:`), not by
 * CloudFormation at each deploy: a new AMI release therefore does not replace the instance (and
 * with it the PostgreSQL data on its root volume). Nothing is looked up at synth.
 */
export class ComposeHost extends Construct {
  public readonly instance: ec2.Instance;
  public readonly role: iam.IRole;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly elasticIp: ec2.CfnEIP;
  public readonly recoveryAlarm: cloudwatch.Alarm;
  /** `arn:<partition>:ec2:<region>:<account>:instance/<id>` */
  public readonly instanceArn: string;
  public readonly record?: route53.ARecord;

  constructor(scope: Construct, id: string, props: ComposeHostProps) {
    super(scope, id);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: props.tls
        ? 'Public HTTP and HTTPS to the compose host; no SSH (access is SSM only)'
        : 'Public HTTP to the compose host; no SSH (access is SSM only)',
      // Egress: package repositories, GitHub, the SSM and CloudWatch endpoints (no VPC endpoints, no NAT).
      allowAllOutbound: true,
    });
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP (redirects to HTTPS when TLS is on; ACME http-01 challenges)');
    if (props.tls) this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS');
    Validations.of(this.securityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: `The host serves the public API itself (no load balancer, for cost): ${props.tls ? 'ports 80 and 443 are' : 'port 80 is'} open to the internet and nothing else.`,
    });

    const userData = ec2.UserData.forLinux();
    userData.addCommands(...bootstrapCommands(props.bootstrap));
    const burstable = /^t\d/.test(props.instanceType.toString());

    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceType: props.instanceType,
      instanceName: props.instanceName,
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(amazonLinux2023Parameter(props.instanceType.architecture)),
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      ssmSessionPermissions: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          // Kept when the instance is terminated or replaced: PostgreSQL and Redis live on it, so a
          // replacement that skipped the backup step can still be recovered from the old volume.
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB, { volumeType: ec2.EbsDeviceVolumeType.GP3, encrypted: true, deleteOnTermination: false }),
        },
      ],
      disableApiTermination: props.terminationProtection ?? false,
      creditSpecification: burstable ? (props.cpuCredits ?? ec2.CpuCredits.STANDARD) : undefined,
      detailedMonitoring: false,
    });
    this.role = this.instance.role;
    // The CloudWatch agent's disk metric. PutMetricData has no resource-level permissions; the
    // condition limits it to the agent's namespace.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': AGENT_NAMESPACE } },
      }),
    );
    this.instanceArn = Stack.of(this).formatArn({ service: 'ec2', resource: 'instance', resourceName: this.instance.instanceId });
    Validations.of(this.instance).acknowledge({
      id: 'CloudFormation-Validate::E1152',
      reason:
        'ImageId is resolve:ssm:<AWS public AMI parameter>, which EC2 RunInstances resolves at launch; the linter only knows ami- ids. Resolving at launch keeps a new AMI release from replacing the instance at the next deploy.',
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-EC28',
      reason:
        'Cost: detailed (1-minute) monitoring is billed per metric; 5-minute basic metrics are enough for the CPU alarm, and status checks are reported every minute anyway.',
    });
    if (!props.terminationProtection) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-EC29',
        reason:
          'Termination protection is off in this environment by configuration (instance.terminationProtection): the host is replaceable, and backups live in the separate data stack.',
      });
    }
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason:
        'AWS-maintained minimum for the SSM agent (Run Command, Session Manager): SSM is the only way into the host, which has no key pair and no port 22.',
    });

    this.elasticIp = new ec2.CfnEIP(this, 'ElasticIp', { domain: 'vpc', instanceId: this.instance.instanceId });
    Tags.of(this.elasticIp).add('Name', props.instanceName);

    if (props.dns) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: props.dns.hostedZoneId, zoneName: props.dns.zoneName });
      this.record = new route53.ARecord(this, 'ARecord', {
        zone,
        recordName: props.dns.recordName,
        target: route53.RecordTarget.fromIpAddresses(this.elasticIp.attrPublicIp),
        ttl: props.dns.ttl ?? Duration.minutes(5),
      });
    }

    const systemCheck = new cloudwatch.Metric({
      namespace: 'AWS/EC2',
      metricName: 'StatusCheckFailed_System',
      dimensionsMap: { InstanceId: this.instance.instanceId },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
    });
    this.recoveryAlarm = systemCheck.createAlarm(this, 'RecoveryAlarm', {
      alarmDescription: `${props.instanceName}: the system status check failed; EC2 recovers the instance onto healthy hardware`,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 2,
      // A stopped instance reports nothing: stay OK rather than flap through INSUFFICIENT_DATA.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.recoveryAlarm.addAlarmAction(new actions.Ec2Action(actions.Ec2InstanceAction.RECOVER));
    if (props.alarmTopic) this.recoveryAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }

  /**
   * Lets the instance read the SecureStrings under one Parameter Store path (its own
   * environment's secrets, `/<app>/<env>/`) and nothing else in Parameter Store: GetParametersByPath
   * on the path itself, GetParameter(s) on its children. No KMS statement: standard SecureStrings
   * use the AWS-managed `aws/ssm` key, whose key policy lets a principal of the account decrypt
   * through SSM only (kms:ViaService ssm), so the path is the whole boundary.
   * @see https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html
   */
  public grantReadEnvironmentSecrets(path: string): iam.Grant {
    if (!/^(\/[A-Za-z0-9_.-]+)+\/$/.test(path)) throw new Error(`grantReadEnvironmentSecrets: '${path}' is not a Parameter Store path ending in /`);
    const stack = Stack.of(this);
    const name = path.slice(1, -1);
    const grant = iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameters'],
      resourceArns: [
        stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name }),
        stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${name}/*` }),
      ],
    });
    Validations.of(this.role).acknowledge({
      // cdk-nag names the resource as resolved where the stack's environment is concrete.
      id: `AwsSolutions-IAM5[Resource::arn:${nagPart(stack.partition, 'Partition')}:ssm:${nagPart(stack.region, 'Region')}:${nagPart(stack.account, 'AccountId')}:parameter/${name}/*]`,
      reason: `The instance renders its env file from every secret under its own environment's path ${path} (names come from the config); no other path is readable.`,
    });
    return grant;
  }
}

/** A stack attribute as cdk-nag prints it in a finding: the value, or `<AWS::X>` for a pseudo parameter. */
function nagPart(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
}
