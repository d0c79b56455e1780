import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ComposeHost, type ComposeHostProps } from '../../lib/constructs/compose-host';
import { bareStack } from '../helpers/bare-stack';

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
    rootVolumeGiB: 20,
    tls: false,
    bootstrap: {
      appName: 'shop',
      repository: 'https://github.com/acme/shop.git',
      gitRef: 'origin/main',
      agent: { containerLogGroupName: '/shop/staging/containers', systemLogGroupName: '/shop/staging/system' },
    },
    alarmTopic: withTopic ? new sns.Topic(stack, 'Topic') : undefined,
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

describe('ComposeHost', () => {
  test('GIVEN the required props only, THEN an arm64 Amazon Linux 2023 instance with IMDSv2 at hop limit 1, a kept encrypted gp3 root volume, standard credits, no termination protection', () => {
    // WHEN
    const { template } = build();
    // THEN
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        ImageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
      }),
    });
    template.hasResourceProperties('AWS::EC2::Instance', {
      InstanceType: 't4g.small',
      ImageId: Match.absent(),
      DisableApiTermination: false,
      CreditSpecification: { CPUCredits: 'standard' },
      Monitoring: false,
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: false } }],
    });
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
  });

  test.each([
    [false, ['0.0.0.0/0:80']],
    [true, ['0.0.0.0/0:80', '0.0.0.0/0:443']],
  ])('GIVEN tls %p, THEN the security group opens %j and nothing else', (tls, ports) => {
    expect(ingressPorts(build({ tls }).template)).toEqual(ports);
  });

  test('GIVEN termination protection and unlimited credits, THEN the instance carries both', () => {
    build({ terminationProtection: true, cpuCredits: ec2.CpuCredits.UNLIMITED }).template.hasResourceProperties('AWS::EC2::Instance', {
      DisableApiTermination: true,
      CreditSpecification: { CPUCredits: 'unlimited' },
    });
  });

  test('GIVEN a type that is not burstable, THEN no credit specification is written (EC2 refuses one)', () => {
    build({ instanceType: new ec2.InstanceType('m7g.large'), cpuCredits: ec2.CpuCredits.UNLIMITED }).template.hasResourceProperties('AWS::EC2::Instance', {
      CreditSpecification: Match.absent(),
    });
  });

  test('GIVEN an x86 type, THEN the x86_64 image parameter', () => {
    build({ instanceType: new ec2.InstanceType('t3.small') }).template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ ImageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' }),
    });
  });

  test('GIVEN dns, THEN an A record for the Elastic IP in the zone, with a 5-minute TTL', () => {
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
    [false, 1],
    [true, 2],
  ])('GIVEN an alarm topic %p, THEN the recovery alarm recovers the instance (and notifies the topic): %d actions', (withTopic, count) => {
    const alarm = Object.values(build({}, withTopic).template.findResources('AWS::CloudWatch::Alarm'))[0];
    expect(alarm.Properties.MetricName).toBe('StatusCheckFailed_System');
    expect(alarm.Properties.AlarmActions).toHaveLength(count);
    expect(JSON.stringify(alarm.Properties.AlarmActions[0])).toContain(':automate:');
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
