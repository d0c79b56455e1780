import { ArnFormat, Duration, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AGENT_NAMESPACE, type BootstrapOptions, bootstrapCommands, firstBootPlaceholder, packedFirstBoot } from '../host-runtime/first-boot';
import type { HostAddress, HostLifecycleOptions } from '../host-runtime/lifecycle';

/** A string token as CDK writes it into a string (`${Token[…]}`): resolved by CloudFormation at deploy. */
const TOKEN_STRING = /\$\{Token\[[^\]]+\]\}/g;

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

/** How the host is bought: on-demand, or Spot over several types of the same memory. */
export type HostPurchase =
  | { readonly kind: 'on-demand' }
  | {
      readonly kind: 'spot';
      /** The types EC2 may pick from (the configured type first), all of the same architecture and memory. */
      readonly instanceTypes: readonly ec2.InstanceType[];
    };

export interface ComposeHostProps {
  /** VPC with one public subnet (in the data volume's zone) that auto-assigns public IPv4 addresses: no NAT gateway. */
  readonly vpc: ec2.IVpc;
  /** EC2 instance type; its architecture picks the AMI (Graviton `t4g` → arm64). */
  readonly instanceType: ec2.InstanceType;
  /** Name tag of the instances, shown in the console. */
  readonly instanceName: string;
  /** Name of the Auto Scaling group of one (`hostGroupName` in lib/names.ts). */
  readonly groupName: string;
  /** Name of the group's termination lifecycle hook, completed by the host's clean stop. */
  readonly terminationHookName: string;
  /** Size of the encrypted gp3 root volume in GiB, deleted with its instance. */
  readonly rootVolumeGiB: number;
  /** What first boot installs and checks out (see `bootstrapCommands`); the lifecycle part is added here. */
  readonly bootstrap: BootstrapOptions;
  /**
   * The boot sequence and clean stop (lib/host-runtime/lifecycle.ts) without the address, group
   * and hook, which this construct knows.
   * @default - none: the host attaches its volume but moves no address and completes no hook
   */
  readonly lifecycle?: Omit<HostLifecycleOptions, 'address' | 'groupName' | 'hookName'>;
  /** Open 443 as well as 80. */
  readonly tls: boolean;
  /**
   * CPU credit mode, applied only to burstable types (t3, t3a, t4g).
   * @default ec2.CpuCredits.STANDARD
   */
  readonly cpuCredits?: ec2.CpuCredits;
  /**
   * On-demand, or Spot with a mixed-instances policy.
   * @default - on-demand
   */
  readonly purchase?: HostPurchase;
  /**
   * Scheduled (stopped outside working hours by setting the group's desired capacity to 0): no
   * Elastic IP (an idle one is billed), the host writes its own auto-assigned public IPv4 into the
   * DNS record at boot instead, and the group's capacity is left to the schedule (min 0, max 1).
   * @default false - always on: min = max = desired = 1, with an Elastic IP
   */
  readonly scheduled?: boolean;
  /**
   * The DNS name of the host: an A record on the Elastic IP (always on), or the record the host
   * UPSERTs itself (scheduled; required then).
   * @default - no DNS record
   */
  readonly dns?: ComposeHostDns;
  /**
   * TTL of the record a scheduled host writes at boot: short, so a new address is found quickly.
   * @default Duration.minutes(1)
   */
  readonly selfUpdatedRecordTtl?: Duration;
  /**
   * How long the group waits for the clean stop before it terminates the instance anyway.
   * @default Duration.minutes(5)
   */
  readonly cleanStopTimeout?: Duration;
  /**
   * Notified of every launch, termination and failed launch of the group.
   * @default - no notifications
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The environment's host as an Auto Scaling group of one, from a launch template, reachable only
 * through SSM: Amazon Linux 2023, IMDSv2 required with a hop limit of 1 (containers cannot reach
 * the role), an encrypted gp3 root volume deleted with its instance (the state lives on the data
 * volume the host attaches at boot), no key pair, a security group opening 80 (and 443 with TLS)
 * and nothing else. A lost or unhealthy instance (EC2 status checks) is replaced by the group
 * without a person and without CloudFormation; a termination lifecycle hook holds the instance
 * until its clean stop (scripts/host/host-stop.sh) has detached the data volume.
 *
 * Always-on hosts keep an Elastic IP (and an optional A record on it) that the host associates at
 * boot; scheduled hosts use the subnet's auto-assigned public IPv4 and UPSERT their own record.
 *
 * The AMI is the launch template's `resolve:ssm:<AWS public parameter>`, resolved by EC2 at each
 * launch: a replaced host boots the newest AMI, and a new AMI release changes nothing in the
 * template. Nothing is looked up at synth.
 */
export class ComposeHost extends Construct {
  public readonly group: autoscaling.AutoScalingGroup;
  public readonly role: iam.Role;
  /** AMI (resolved by EC2 at launch), user data, root volume and metadata options: IMDSv2 only, hop limit 1. */
  public readonly launchTemplate: ec2.LaunchTemplate;
  public readonly securityGroup: ec2.SecurityGroup;
  /** The Elastic IP of an always-on host; undefined for a scheduled one. */
  public readonly elasticIp?: ec2.CfnEIP;
  public readonly terminationHook: autoscaling.LifecycleHook;
  /** `arn:<partition>:autoscaling:<region>:<account>:autoScalingGroup:*:autoScalingGroupName/<name>` */
  public readonly groupArn: string;
  public readonly record?: route53.ARecord;
  /** The group's name as configured (a plain string, unlike the group's token). */
  public readonly groupName: string;

  constructor(scope: Construct, id: string, props: ComposeHostProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.groupName = props.groupName;
    if (props.scheduled && props.lifecycle && !props.dns) {
      throw new Error('ComposeHost: a scheduled host has no Elastic IP and needs props.dns for the record it updates at boot');
    }

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

    const burstable = /^t\d/.test(props.instanceType.toString());

    // The role the SSM agent, the CloudWatch agent and the backup job run as. No managed policy:
    // AmazonSSMManagedInstanceCore also grants ssm:GetParameter* on every parameter of the account.
    this.role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `${props.instanceName}: SSM agent messaging, CloudWatch agent, its environment's backups and log groups`,
    });

    // An always-on host keeps its environment's address; the host associates it at boot.
    if (!props.scheduled) {
      this.elasticIp = new ec2.CfnEIP(this, 'ElasticIp', { domain: 'vpc' });
      Tags.of(this.elasticIp).add('Name', props.instanceName);
    }
    const address: HostAddress | undefined = this.elasticIp
      ? { kind: 'elastic-ip', allocationId: this.elasticIp.attrAllocationId }
      : props.dns && {
          kind: 'dns',
          hostedZoneId: props.dns.hostedZoneId,
          recordName: props.dns.recordName,
          ttlSeconds: (props.selfUpdatedRecordTtl ?? Duration.minutes(1)).toSeconds(),
        };

    // The first boot, packed (gzip, base64) to fit EC2's 16 KB: the values only CloudFormation
    // knows (the volume and allocation ids) stay outside the compressed text, as placeholders' values.
    const values: string[] = [];
    const script = bootstrapCommands({
      ...props.bootstrap,
      lifecycle: props.lifecycle && address ? { ...props.lifecycle, address, groupName: props.groupName, hookName: props.terminationHookName } : undefined,
    })
      .join('\n')
      .replace(TOKEN_STRING, (token) => {
        values.push(token);
        return firstBootPlaceholder(values.length - 1);
      });
    if (Token.isUnresolved(script)) throw new Error('ComposeHost: the first boot holds a token that is not a string token; it cannot be packed');
    const userData = ec2.UserData.forLinux();
    userData.addCommands(...packedFirstBoot(`#!/bin/bash\n${script}\n`, values));

    // AMI, user data, root volume and instance metadata live in the launch template the group
    // launches from. EC2 resolves the AMI parameter at each launch.
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(amazonLinux2023Parameter(props.instanceType.architecture)),
      instanceType: props.instanceType,
      role: this.role,
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      // 1: the instance itself reaches IMDS; a container behind a bridge network (one hop more) cannot
      // fetch the role's credentials. AWS's default for IMDSv2-only AMIs is 2.
      httpPutResponseHopLimit: 1,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpEndpoint: true,
      // The instance-metadata tags stay off: the lifecycle reads only the lifecycle state and Spot notice.
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          // Deleted with its instance: PostgreSQL, Redis and the state file live on the data volume,
          // so a replaced host leaves no volume behind to bill.
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB, { volumeType: ec2.EbsDeviceVolumeType.GP3, encrypted: true, deleteOnTermination: true }),
        },
      ],
      cpuCredits: burstable ? (props.cpuCredits ?? ec2.CpuCredits.STANDARD) : undefined,
      detailedMonitoring: false,
    });
    // The template tags what it launches; name them as the host, not by construct path.
    Tags.of(this.launchTemplate).add('Name', props.instanceName, { priority: 200 });

    const purchase = props.purchase ?? { kind: 'on-demand' };
    // Always on: min = max = 1 forces the desired capacity to 1 (no DesiredCapacity property, which
    // CloudFormation would reset at every deploy). Scheduled: the schedule sets desired 1 or 0.
    const capacity = props.scheduled ? { minCapacity: 0, maxCapacity: 1 } : { minCapacity: 1, maxCapacity: 1 };
    this.group = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      // The VPC's only subnet: the data volume's zone.
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      autoScalingGroupName: props.groupName,
      ...capacity,
      ...(purchase.kind === 'spot'
        ? {
            mixedInstancesPolicy: {
              launchTemplate: this.launchTemplate,
              launchTemplateOverrides: purchase.instanceTypes.map((instanceType) => ({ instanceType })),
              instancesDistribution: {
                // All Spot: no on-demand base. When no listed Spot pool has capacity the group keeps
                // retrying its launch (failures reach the topic); docs/cost.md says what that means.
                onDemandBaseCapacity: 0,
                onDemandPercentageAboveBaseCapacity: 0,
                spotAllocationStrategy: autoscaling.SpotAllocationStrategy.CAPACITY_OPTIMIZED,
              },
            },
            // Replace a Spot instance EC2 marks at elevated risk before it is interrupted.
            capacityRebalance: true,
          }
        : { launchTemplate: this.launchTemplate }),
      // EC2 status checks: an impaired instance is replaced.
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(10) }),
      notifications: props.alarmTopic ? [{ topic: props.alarmTopic }] : undefined,
    });
    Tags.of(this.group).add('Name', props.instanceName, { priority: 200 });
    if (purchase.kind === 'spot') {
      // The rule cannot read a launch template through a mixed-instances policy (it throws on the
      // template's version token); the root volume is encrypted in the launch template itself.
      Validations.of(this.group.node.defaultChild as autoscaling.CfnAutoScalingGroup).acknowledge({
        id: 'AwsSolutions-EC26',
        reason:
          "cdk-nag 3.0.2's EC26 reads the group's LaunchTemplate property, which a mixed-instances policy leaves unset (the template is referenced inside the policy), and throws instead of judging; the only EBS volume, the root in that launch template, is encrypted (test/constructs/compose-host.test.ts asserts it).",
      });
    }
    this.groupArn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${props.groupName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.terminationHook = this.group.addLifecycleHook('CleanStop', {
      lifecycleHookName: props.terminationHookName,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      // Either way the instance goes; ABANDON is what the host reports when its stop failed.
      defaultResult: autoscaling.DefaultResult.CONTINUE,
      heartbeatTimeout: props.cleanStopTimeout ?? Duration.minutes(5),
    });

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

    if (props.dns && this.elasticIp) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: props.dns.hostedZoneId, zoneName: props.dns.zoneName });
      this.record = new route53.ARecord(this, 'ARecord', {
        zone,
        recordName: props.dns.recordName,
        target: route53.RecordTarget.fromIpAddresses(this.elasticIp.attrPublicIp),
        ttl: Duration.minutes(5),
      });
    }
    if (this.elasticIp) this.grantAssociateAddress(this.elasticIp);
    if (props.dns && !this.elasticIp) this.grantUpdateOwnRecord(props.dns);
    this.grantCompleteLifecycleAction();
  }

  /**
   * ec2:AssociateAddress on the environment's one allocation, and only onto an instance of this
   * group (the `aws:autoscaling:groupName` tag EC2 Auto Scaling puts on every instance it launches).
   */
  private grantAssociateAddress(eip: ec2.CfnEIP): void {
    const stack = Stack.of(this);
    const anyInstance = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const policy = new iam.Policy(this, 'AssociateAddressPolicy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'AssociateOwnElasticIp',
          actions: ['ec2:AssociateAddress'],
          resources: [stack.formatArn({ service: 'ec2', resource: 'elastic-ip', resourceName: eip.attrAllocationId })],
        }),
        new iam.PolicyStatement({
          sid: 'OntoThisGroupsInstance',
          actions: ['ec2:AssociateAddress'],
          resources: [anyInstance],
          conditions: { StringEquals: { 'aws:ResourceTag/aws:autoscaling:groupName': this.groupName } },
        }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'ec2', 'instance/*')}]`,
      reason:
        'The host associates its Elastic IP with itself at boot; the instance id is unknown until the group launches it, so instance/* is limited by the aws:autoscaling:groupName tag condition to instances of this group. The address is named by its allocation.',
    });
  }

  /**
   * route53:ChangeResourceRecordSets in the one zone, limited by condition keys to UPSERTs of A
   * records of the one normalized record name: a scheduled host writes its own address at boot.
   * @see https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html
   */
  private grantUpdateOwnRecord(dns: ComposeHostDns): void {
    new iam.Policy(this, 'UpdateOwnRecordPolicy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'UpsertOwnARecord',
          actions: ['route53:ChangeResourceRecordSets'],
          resources: [`arn:${Stack.of(this).partition}:route53:::hostedzone/${dns.hostedZoneId}`],
          conditions: {
            'ForAllValues:StringEquals': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': [dns.recordName.replace(/\.$/, '').toLowerCase()],
              'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
              'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
            },
          },
        }),
      ],
    });
  }

  /** autoscaling:CompleteLifecycleAction on this one group: the clean stop lets the instance go. */
  private grantCompleteLifecycleAction(): void {
    const stack = Stack.of(this);
    const policy = new iam.Policy(this, 'CompleteLifecycleActionPolicy', {
      roles: [this.role],
      statements: [new iam.PolicyStatement({ sid: 'CompleteOwnHook', actions: ['autoscaling:CompleteLifecycleAction'], resources: [this.groupArn] })],
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'autoscaling', `autoScalingGroup:*:autoScalingGroupName/${this.groupName}`)}]`,
      reason:
        "An Auto Scaling group's ARN carries a UUID that exists only once the group does; the group is named exactly, and the wildcard stands for that UUID alone.",
    });
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

/** An ARN of this stack's partition, region and account as cdk-nag prints it in a finding. */
function nagArn(stack: Stack, service: string, resource: string): string {
  return `arn:${nagPart(stack.partition, 'Partition')}:${service}:${nagPart(stack.region, 'Region')}:${nagPart(stack.account, 'AccountId')}:${resource}`;
}

/** A stack attribute as cdk-nag prints it in a finding: the value, or `<AWS::X>` for a pseudo parameter. */
function nagPart(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
}
