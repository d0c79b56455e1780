import { Duration, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AGENT_NAMESPACE, type BootstrapOptions, bootstrapCommands } from '../host-runtime/first-boot';

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
 * 2023, IMDSv2 required with a hop limit of 1 (containers cannot reach the role), encrypted gp3 root volume, no key pair, a security group opening 80 (and
 * 443 with TLS) and nothing else, an Elastic IP, an optional Route53 A record, and EC2 auto-recovery
 * (an alarm on the system status check with the recover action).
 *
 * The AMI is the launch template's `resolve:ssm:<AWS public parameter>`, resolved by EC2 at launch,
 * not by CloudFormation at each deploy: a new AMI release therefore does not replace the instance
 * (and with it the PostgreSQL data on its root volume). Changing the launch template itself (hop
 * limit, AMI parameter) does replace it, and the pull-request diff shows that replacement.
 * Nothing is looked up at synth.
 */
export class ComposeHost extends Construct {
  public readonly instance: ec2.Instance;
  public readonly role: iam.Role;
  /** AMI (resolved by EC2 at launch) and instance metadata options: IMDSv2 only, hop limit 1. */
  public readonly launchTemplate: ec2.LaunchTemplate;
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
    // The web ports open to the internet, each as an ingress resource of its own carrying the one
    // EC23 acknowledgement it explains. EC23 reports no finding id, so an acknowledgement on the
    // security group itself would also cover the next rule to the world added there (22, ::/0 on 80,
    // a database): that one now fails synth with EC23, and Gitops-WorldIngressOnlyWeb (never
    // acknowledged) fails any rule from a range wider than a /8 on a port other than 80/443.
    // (Moving these out of the group's inline rules closes the ports for the seconds between the
    // group's update and the new resources' creation, once, on the deploy that makes the move.)
    const web = [
      { port: 80, description: 'HTTP (redirects to HTTPS when TLS is on; ACME http-01 challenges)' },
      ...(props.tls ? [{ port: 443, description: 'HTTPS' }] : []),
    ];
    for (const { port, description } of web) {
      const rule = new ec2.CfnSecurityGroupIngress(this.securityGroup, `FromInternetTcp${port}`, {
        groupId: this.securityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        cidrIp: '0.0.0.0/0',
        description,
      });
      Validations.of(rule).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: `The host serves the public API itself (no load balancer, for cost): TCP ${port} from 0.0.0.0/0 is this rule, and no other rule of the group is acknowledged.`,
      });
    }

    const userData = ec2.UserData.forLinux();
    userData.addCommands(...bootstrapCommands(props.bootstrap));
    const burstable = /^t\d/.test(props.instanceType.toString());

    // The role the SSM agent, the CloudWatch agent and the backup job run as. No managed policy:
    // AmazonSSMManagedInstanceCore also grants ssm:GetParameter* on every parameter of the account.
    this.role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `${props.instanceName}: SSM agent messaging, CloudWatch agent, its environment's backups and log groups`,
    });

    // AMI and instance metadata live in a launch template: CfnInstance has no MetadataOptions, and
    // CloudFormation documents `resolve:ssm:` for a launch template's ImageId. EC2 resolves the
    // parameter when it launches an instance, so a new AMI release changes nothing in the template
    // and never replaces the running host; a host replaced for another reason boots the newest AMI.
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(amazonLinux2023Parameter(props.instanceType.architecture)),
      requireImdsv2: true,
      // 1: the instance itself reaches IMDS; a container behind a bridge network (one hop more) cannot
      // fetch the role's credentials. AWS's default for IMDSv2-only AMIs is 2.
      httpPutResponseHopLimit: 1,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpEndpoint: true,
    });
    // The template tags what it launches; name them as the instance, not by construct path.
    Tags.of(this.launchTemplate).add('Name', props.instanceName, { priority: 200 });

    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceType: props.instanceType,
      instanceName: props.instanceName,
      // Only to satisfy the L2; the ImageId it writes is removed below in favour of the launch template's.
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(amazonLinux2023Parameter(props.instanceType.architecture)),
      role: this.role,
      securityGroup: this.securityGroup,
      userData,
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
      // The root volume (PostgreSQL's data) gets the instance's tags (`app`, `env`, `Name`) when
      // it is created, so cost allocation and backups by tag see it.
      propagateTagsToVolumeOnCreation: true,
    });
    const cfnInstance = this.instance.node.defaultChild as ec2.CfnInstance;
    cfnInstance.launchTemplate = { launchTemplateId: this.launchTemplate.launchTemplateId, version: this.launchTemplate.versionNumber };
    cfnInstance.addPropertyDeletionOverride('ImageId');

    // What the SSM agent needs for Run Command and Session Manager, and nothing that reads data:
    // messaging channels (no resource-level permissions exist for them) and registering itself.
    // Seam: reading this environment's own parameters (`/<app>/<env>/*`) is granted beside this
    // policy by the stack that knows the path, never `ssm:GetParameter*` on `*`.
    const anyInstanceArn = Stack.of(this).formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const agent = new iam.Policy(this, 'SsmAgentPolicy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'SsmAgentMessaging',
          actions: [
            'ssmmessages:CreateControlChannel',
            'ssmmessages:CreateDataChannel',
            'ssmmessages:OpenControlChannel',
            'ssmmessages:OpenDataChannel',
            'ec2messages:AcknowledgeMessage',
            'ec2messages:DeleteMessage',
            'ec2messages:FailMessage',
            'ec2messages:GetEndpoint',
            'ec2messages:GetMessages',
            'ec2messages:SendReply',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'SsmAgentRegistration',
          actions: ['ssm:UpdateInstanceInformation', 'ssm:ListInstanceAssociations', 'ssm:UpdateInstanceAssociationStatus'],
          resources: [anyInstanceArn],
        }),
        // The CloudWatch agent's disk metric. PutMetricData has no resource-level permissions; the
        // condition limits it to the agent's namespace.
        new iam.PolicyStatement({
          sid: 'AgentMetrics',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': AGENT_NAMESPACE } },
        }),
      ],
    });
    Validations.of(agent).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ssmmessages:* and ec2messages:* channel actions and cloudwatch:PutMetricData have no resource-level permissions (Service Authorization Reference); the service binds the channels to the calling instance, and PutMetricData is limited to the agent namespace by condition. No data-plane action here.',
    });
    Validations.of(agent).acknowledge({
      // As cdk-nag renders the ARN: literal in an environment's stack, pseudo parameters otherwise.
      id: `AwsSolutions-IAM5[Resource::${Token.isUnresolved(anyInstanceArn) ? 'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*' : anyInstanceArn}]`,
      reason:
        'The agent registers the instance it runs on; the instance id is unknown until the instance exists, and naming it would make the role depend on the instance that depends on the role.',
    });

    this.instanceArn = Stack.of(this).formatArn({ service: 'ec2', resource: 'instance', resourceName: this.instance.instanceId });
    Validations.of(cfnInstance).acknowledge({
      id: 'AwsSolutions-EC28',
      reason:
        'Cost: detailed (1-minute) monitoring is billed per metric; 5-minute basic metrics are enough for the CPU alarm, and status checks are reported every minute anyway.',
    });
    if (!props.terminationProtection) {
      Validations.of(cfnInstance).acknowledge({
        id: 'AwsSolutions-EC29',
        reason:
          'Termination protection is off in this environment by configuration (instance.terminationProtection): the host is replaceable, and backups live in the separate data stack.',
      });
    }

    this.elasticIp = new ec2.CfnEIP(this, 'ElasticIp', { domain: 'vpc', instanceId: this.instance.instanceId });
    Tags.of(this.elasticIp).add('Name', props.instanceName);

    if (props.dns) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: props.dns.hostedZoneId, zoneName: props.dns.zoneName });
      this.record = new route53.ARecord(this, 'ARecord', {
        zone,
        recordName: props.dns.recordName,
        target: route53.RecordTarget.fromIpAddresses(this.elasticIp.attrPublicIp),
        // Short enough that a replaced host (new Elastic IP) is found again within minutes.
        ttl: Duration.minutes(5),
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
  public grantReadEnvironmentSecrets(path: string): iam.Policy {
    if (!/^(\/[A-Za-z0-9_.-]+)+\/$/.test(path)) throw new Error(`grantReadEnvironmentSecrets: '${path}' is not a Parameter Store path ending in /`);
    const stack = Stack.of(this);
    const name = path.slice(1, -1);
    // A policy of its own, so the acknowledgement below sits on exactly this statement's finding.
    const policy = new iam.Policy(this, 'EnvironmentSecretsPolicy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadEnvironmentSecrets',
          actions: ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameters'],
          resources: [
            stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name }),
            stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${name}/*` }),
          ],
        }),
      ],
    });
    Validations.of(policy).acknowledge({
      // cdk-nag names the resource as resolved where the stack's environment is concrete.
      id: `AwsSolutions-IAM5[Resource::arn:${nagPart(stack.partition, 'Partition')}:ssm:${nagPart(stack.region, 'Region')}:${nagPart(stack.account, 'AccountId')}:parameter/${name}/*]`,
      reason: `The instance renders its env file from every secret under its own environment's path ${path} (names come from the config); no other path is readable.`,
    });
    return policy;
  }
}

/** A stack attribute as cdk-nag prints it in a finding: the value, or `<AWS::X>` for a pseudo parameter. */
function nagPart(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
}
