import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ComposeHost, type ComposeHostProps } from '../../lib/constructs/compose-host';
import { bareStack } from '../helpers/bare-stack';
import { unpackedFirstBoot } from '../helpers/first-boot';

const lifecycleProps = {
  appName: 'shop',
  composeFile: 'compose.prod.yml',
  sharedServices: ['postgres', 'redis'],
  dataVolume: { volumeId: 'vol-0123456789abcdef0', mountPoint: '/var/lib/shop', label: 'app-data', region: 'us-east-1', script: '#!/bin/sh\n' },
};

/** A bare stack with a one-subnet public VPC and one ComposeHost; `props` replaces the defaults here. */
function build(props: Partial<Omit<ComposeHostProps, 'vpc'>> = {}, withTopic = false): { stack: Stack; host: ComposeHost; template: Template } {
  const stack = bareStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 1,
    natGateways: 0,
    subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
    restrictDefaultSecurityGroup: false,
  });
  const host = new ComposeHost(stack, 'Host', {
    vpc,
    instanceType: new ec2.InstanceType('t4g.small'),
    instanceName: 'shop-staging',
    groupName: 'shop-staging-host',
    terminationHookName: 'clean-stop',
    rootVolumeGiB: 8,
    tls: false,
    bootstrap: {
      appName: 'shop',
      repository: 'https://github.com/acme/shop.git',
      gitRef: 'origin/main',
      agent: { containerLogGroupName: '/shop/staging/containers', systemLogGroupName: '/shop/staging/system' },
    },
    alarmTopic: withTopic ? new sns.Topic(stack, 'Topic') : undefined,
    lifecycle: lifecycleProps,
    ...props,
  });
  // Synthesized on first read, so a test may still add to the construct (grant*) before.
  return {
    stack,
    host,
    get template() {
      return Template.fromStack(stack);
    },
  };
}

/** Every ingress rule of the template, inline on a group or an ingress resource of its own. */
const ingressPorts = (template: Template) =>
  [
    ...Object.values(template.findResources('AWS::EC2::SecurityGroup')).flatMap(
      (sg) => (sg.Properties.SecurityGroupIngress ?? []) as { FromPort: number; CidrIp: string }[],
    ),
    ...Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties as { FromPort: number; CidrIp: string }),
  ].map((rule) => `${rule.CidrIp}:${rule.FromPort}`);

/** The one launch template's data. */
const launchData = (template: Template) => Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0].Properties.LaunchTemplateData;

describe('ComposeHost', () => {
  test('GIVEN the required props only, THEN an on-demand Auto Scaling group of one from an arm64 Amazon Linux 2023 launch template: IMDSv2 at hop limit 1, an 8 GiB encrypted gp3 root deleted with the instance, standard credits', () => {
    // WHEN
    const { template } = build();
    // THEN
    template.resourceCountIs('AWS::EC2::Instance', 0);
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      AutoScalingGroupName: 'shop-staging-host',
      MinSize: '1',
      MaxSize: '1',
      DesiredCapacity: Match.absent(),
      LaunchTemplate: { LaunchTemplateId: { Ref: Match.stringLikeRegexp('^HostLaunchTemplate') }, Version: Match.anyValue() },
      MixedInstancesPolicy: Match.absent(),
      // The VPC's one subnet: the data volume's zone.
      VPCZoneIdentifier: [{ Ref: Match.stringLikeRegexp('^VpcpublicSubnet1') }],
      HealthCheckType: 'EC2',
    });
    const data = launchData(template);
    expect(data).toMatchObject({
      ImageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
      InstanceType: 't4g.small',
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
      CreditSpecification: { CpuCredits: 'standard' },
      Monitoring: { Enabled: false },
    });
    expect(data.BlockDeviceMappings).toEqual([
      { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
    ]);
    // Nothing anywhere keeps a volume on termination.
    expect(JSON.stringify(template.toJSON())).not.toContain('"DeleteOnTermination":false');
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  test('GIVEN the clean stop timeout, THEN the group holds a terminating instance in a lifecycle hook that long, and the role may complete only this group’s hook', () => {
    const { template } = build({ cleanStopTimeout: Duration.minutes(4) });
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      AutoScalingGroupName: { Ref: Match.stringLikeRegexp('^HostGroupASG') },
      LifecycleHookName: 'clean-stop',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      DefaultResult: 'CONTINUE',
      HeartbeatTimeout: 240,
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'CompleteOwnHook',
            Action: 'autoscaling:CompleteLifecycleAction',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':autoscaling:us-east-1:111122223333:autoScalingGroup:*:autoScalingGroupName/shop-staging-host'],
              ],
            },
          },
        ],
      },
    });
  });

  test('GIVEN Spot over three types, THEN a capacity-optimized mixed-instances policy, all Spot, with capacity rebalancing', () => {
    const types = ['t4g.small', 'c6g.medium', 'c7g.medium'].map((t) => new ec2.InstanceType(t));
    const { template } = build({ purchase: { kind: 'spot', instanceTypes: types } });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      LaunchTemplate: Match.absent(),
      CapacityRebalance: true,
      MixedInstancesPolicy: {
        LaunchTemplate: {
          LaunchTemplateSpecification: { LaunchTemplateId: { Ref: Match.stringLikeRegexp('^HostLaunchTemplate') }, Version: Match.anyValue() },
          Overrides: [{ InstanceType: 't4g.small' }, { InstanceType: 'c6g.medium' }, { InstanceType: 'c7g.medium' }],
        },
        InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'capacity-optimized' },
      },
    });
  });

  test('GIVEN always on, THEN an Elastic IP the host associates itself: AssociateAddress on that allocation, and onto this group’s instances only', () => {
    const { template, host } = build();
    expect(host.elasticIp).toBeDefined();
    template.hasResourceProperties('AWS::EC2::EIP', { Domain: 'vpc', InstanceId: Match.absent() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'AssociateOwnElasticIp',
            Action: 'ec2:AssociateAddress',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':ec2:us-east-1:111122223333:elastic-ip/',
                  { 'Fn::GetAtt': [Match.stringLikeRegexp('^HostElasticIp'), 'AllocationId'] },
                ],
              ],
            },
          },
          {
            Sid: 'OntoThisGroupsInstance',
            Action: 'ec2:AssociateAddress',
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:111122223333:instance/*']] },
            Condition: { StringEquals: { 'aws:ResourceTag/aws:autoscaling:groupName': 'shop-staging-host' } },
          },
        ],
      },
    });
    // The host's settings carry the allocation: it associates the address at every boot.
    expect(unpackedFirstBoot(launchData(template).UserData)).toContain('ADDRESS_MODE=elastic-ip');
  });

  test('GIVEN scheduled with dns, THEN no Elastic IP and no record resource: the host UPSERTs its one record (A, that name only) with a 60 s TTL, and the group is left to the schedule', () => {
    const { template, host } = build({
      scheduled: true,
      dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com', recordName: 'Dev.API.example.com' },
    });
    expect(host.elasticIp).toBeUndefined();
    template.resourceCountIs('AWS::EC2::EIP', 0);
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', MaxSize: '1', DesiredCapacity: Match.absent() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'UpsertOwnARecord',
            Action: 'route53:ChangeResourceRecordSets',
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0123456789ABCDEFGHIJ']] },
            Condition: {
              'ForAllValues:StringEquals': {
                'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['dev.api.example.com'],
                'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
                'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
              },
            },
          },
        ],
      },
    });
    template.resourcePropertiesCountIs(
      'AWS::IAM::Policy',
      { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'ec2:AssociateAddress' })]) } },
      0,
    );
    const userData = unpackedFirstBoot(launchData(template).UserData);
    for (const setting of ['ADDRESS_MODE=dns', 'HOSTED_ZONE_ID=Z0123456789ABCDEFGHIJ', 'RECORD_NAME=dev.api.example.com', 'RECORD_TTL=60'])
      expect(userData).toContain(setting);
  });

  test('GIVEN scheduled without dns, THEN it throws: nothing would find the host', () => {
    expect(() => build({ scheduled: true, lifecycle: lifecycleProps })).toThrow(
      'ComposeHost: a scheduled host has no Elastic IP and needs props.dns for the record it updates at boot',
    );
  });

  test.each([
    [false, ['0.0.0.0/0:80']],
    [true, ['0.0.0.0/0:80', '0.0.0.0/0:443']],
  ])('GIVEN tls %p, THEN the security group opens %j and nothing else', (tls, ports) => {
    expect(ingressPorts(build({ tls }).template)).toEqual(ports);
  });

  test('GIVEN unlimited credits, THEN the launch template carries them', () => {
    expect(launchData(build({ cpuCredits: ec2.CpuCredits.UNLIMITED }).template).CreditSpecification).toEqual({ CpuCredits: 'unlimited' });
  });

  test('GIVEN a type that is not burstable, THEN no credit specification is written (EC2 refuses one)', () => {
    expect(
      launchData(build({ instanceType: new ec2.InstanceType('m7g.large'), cpuCredits: ec2.CpuCredits.UNLIMITED }).template).CreditSpecification,
    ).toBeUndefined();
  });

  test('GIVEN an x86 type, THEN the x86_64 image parameter', () => {
    expect(launchData(build({ instanceType: new ec2.InstanceType('t3.small') }).template).ImageId).toBe(
      'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    );
  });

  test('GIVEN dns on an always-on host, THEN an A record for the Elastic IP in the zone, with a 5-minute TTL', () => {
    const { template } = build({ dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com', recordName: 'api.example.com' } });
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      Name: 'api.example.com.',
      Type: 'A',
      TTL: '300',
      ResourceRecords: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^HostElasticIp'), 'PublicIp'] }],
    });
  });

  test.each([
    [false, 0],
    [true, 1],
  ])('GIVEN an alarm topic %p, THEN the group notifies it of launches, terminations and failed launches (%d configurations)', (withTopic, count) => {
    const group = Object.values(build({}, withTopic).template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.Properties.NotificationConfigurations ?? []).toHaveLength(count);
    if (count) {
      expect(group.Properties.NotificationConfigurations[0].NotificationTypes).toEqual([
        'autoscaling:EC2_INSTANCE_LAUNCH',
        'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
        'autoscaling:EC2_INSTANCE_TERMINATE',
        'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
      ]);
    }
  });

  test('grantReadEnvironmentSecrets GIVEN a path, THEN the role reads that path and its children only', () => {
    const { stack, host } = build();
    host.grantReadEnvironmentSecrets('/shop/staging/');
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'ReadEnvironmentSecrets',
            Action: ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameters'],
            Resource: [
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1:111122223333:parameter/shop/staging']] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1:111122223333:parameter/shop/staging/*']] },
            ],
          },
        ],
      },
    });
  });

  test.each(['shop/staging/', '/shop/staging', '/', '/shop staging/'])('grantReadEnvironmentSecrets GIVEN %j, THEN it throws naming the path', (path) => {
    const { host } = build();
    expect(() => host.grantReadEnvironmentSecrets(path)).toThrow(`grantReadEnvironmentSecrets: '${path}' is not a Parameter Store path ending in /`);
  });
});
