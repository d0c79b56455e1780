import { Match, type Template } from 'aws-cdk-lib/assertions';
import { COMPOSE_VERSION } from '../../lib/host-runtime/first-boot';
import { githubOidcProviderArn, HOST_TERMINATION_HOOK, outputNames, stackNames } from '../../lib/names';
import { configWith, problemsOf, shippedConfig, shippedConfigInput } from '../helpers/config-fixtures';
import { environmentStacks } from '../helpers/environment-stacks';
import { unpackedFirstBoot } from '../helpers/first-boot';
import { shippedAssemblyManifest, shippedStackNames, shippedTemplate } from '../helpers/synth';

/** The account of an environment of the shipped config: dev and prod have their own. */
const ACCOUNT_OF = (env: string) => shippedConfig().environments[env].account;
const REGION = 'us-east-1';
const host = (env: string) => shippedTemplate(stackNames.host('auraxis', env));
const GROUP = 'HostGroupASG64D1BB59';
const LAUNCH_TEMPLATE = 'HostLaunchTemplateF3FA59B2';

/** Every IAM policy document in a template (inline policies, managed policies, role default policies). */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
function statementsOf(template: Template): any[] {
  const docs = [...Object.values(template.findResources('AWS::IAM::Policy')), ...Object.values(template.findResources('AWS::IAM::ManagedPolicy'))].map(
    (r) => r.Properties.PolicyDocument,
  );
  return docs.flatMap((d) => d.Statement);
}

/** The single resource of a type, with its logical id. */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
function only(template: Template, type: string): [string, any] {
  const found = Object.entries(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0];
}

describe('HostStack (shipped config): network', () => {
  test.each(['dev', 'prod'])('%s has one VPC with a single public subnet, an internet gateway and no NAT gateway', (env) => {
    const t = host(env);
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::InternetGateway', 1);
    t.resourceCountIs('AWS::EC2::Subnet', 1);
    t.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true, AvailabilityZone: 'us-east-1a' });
    t.hasResourceProperties('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0', GatewayId: Match.anyValue() });
  });

  test.each(['dev', 'prod'])('%s has no load balancer, no KMS key, no custom resource Lambda', (env) => {
    const t = host(env);
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    t.resourceCountIs('AWS::KMS::Key', 0);
    t.resourceCountIs('AWS::Lambda::Function', 0);
  });

  test('prod opens 80 and 443 only; dev (tls: false) opens 80 only; nothing opens 22', () => {
    // Each web rule is an ingress resource of its own (so its EC23 acknowledgement covers it alone); the group has none inline.
    const ports = (env: string) => {
      const [id, sg] = only(host(env), 'AWS::EC2::SecurityGroup');
      expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
      return Object.values(host(env).findResources('AWS::EC2::SecurityGroupIngress')).map((r) => {
        expect(r.Properties.GroupId).toEqual({ 'Fn::GetAtt': [id, 'GroupId'] });
        return [r.Properties.IpProtocol, r.Properties.FromPort, r.Properties.ToPort, r.Properties.CidrIp];
      });
    };
    expect(ports('prod')).toEqual([
      ['tcp', 80, 80, '0.0.0.0/0'],
      ['tcp', 443, 443, '0.0.0.0/0'],
    ]);
    expect(ports('dev')).toEqual([['tcp', 80, 80, '0.0.0.0/0']]);
  });
});

describe('HostStack (shipped config): the instance', () => {
  test.each(['dev', 'prod'])(
    '%s: an Auto Scaling group of one in the data volume’s zone, from the launch template: Graviton type from config, Amazon Linux 2023 arm64 resolved at launch, no key pair, basic monitoring, standard credits',
    (env) => {
      const t = host(env);
      t.resourceCountIs('AWS::EC2::Instance', 0);
      const [id, group] = only(t, 'AWS::AutoScaling::AutoScalingGroup');
      expect(id).toBe(GROUP);
      const scheduled = env === 'dev';
      expect(group.Properties).toMatchObject({
        AutoScalingGroupName: `auraxis-${env}-host`,
        MinSize: scheduled ? '0' : '1',
        MaxSize: '1',
        // The VPC's one subnet, in us-east-1a (the data volume's zone).
        VPCZoneIdentifier: [{ Ref: expect.stringMatching(/^VpcpublicSubnet1Subnet/) }],
        HealthCheckType: 'EC2',
        Tags: expect.arrayContaining([{ Key: 'Name', Value: `auraxis-${env}`, PropagateAtLaunch: true }]),
      });
      expect(group.Properties.DesiredCapacity).toBeUndefined();
      const [ltId, lt] = only(t, 'AWS::EC2::LaunchTemplate');
      expect(ltId).toBe(LAUNCH_TEMPLATE);
      const data = lt.Properties.LaunchTemplateData;
      expect(data).toMatchObject({
        ImageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
        InstanceType: shippedConfig().environments[env].instance.type,
        CreditSpecification: { CpuCredits: 'standard' },
        Monitoring: { Enabled: false },
      });
      expect(data.KeyName).toBeUndefined();
      const spec = { LaunchTemplateId: { Ref: ltId }, Version: { 'Fn::GetAtt': [ltId, 'LatestVersionNumber'] } };
      if (env === 'prod') expect(group.Properties.LaunchTemplate).toEqual(spec);
      else expect(group.Properties.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification).toEqual(spec);
    },
  );

  test('dev (purchase: spot) runs Spot through a capacity-optimized mixed-instances policy over the 1 GiB arm64 types; prod (on-demand) has none', () => {
    host('dev').hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      CapacityRebalance: true,
      MixedInstancesPolicy: {
        LaunchTemplate: { LaunchTemplateSpecification: Match.anyValue(), Overrides: [{ InstanceType: 't4g.micro' }] },
        InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'capacity-optimized' },
      },
    });
    host('prod').hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MixedInstancesPolicy: Match.absent(), CapacityRebalance: Match.absent() });
  });

  test.each(['dev', 'prod'])('%s holds a terminating instance for its clean stop: a termination lifecycle hook the host completes', (env) => {
    host(env).hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      AutoScalingGroupName: { Ref: GROUP },
      LifecycleHookName: HOST_TERMINATION_HOOK,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      DefaultResult: 'CONTINUE',
      HeartbeatTimeout: 300,
    });
    host(env).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'CompleteOwnHook',
            Action: 'autoscaling:CompleteLifecycleAction',
            Effect: 'Allow',
            Resource: `arn:aws:autoscaling:${REGION}:${ACCOUNT_OF(env)}:autoScalingGroup:*:autoScalingGroupName/auraxis-${env}-host`,
          },
        ],
      },
    });
  });

  test.each(['dev', 'prod'])('%s user data fits EC2’s 16 KB limit with every lifecycle script in it', (env) => {
    const [, lt] = only(host(env), 'AWS::EC2::LaunchTemplate');
    const joined = lt.Properties.LaunchTemplateData.UserData['Fn::Base64']['Fn::Join'][1];
    // A token (volume id, allocation id) is at most 24 characters once resolved.
    const size = joined.reduce((n: number, part: unknown) => n + (typeof part === 'string' ? Buffer.byteLength(part) : 24), 0);
    expect(size).toBeLessThanOrEqual(16 * 1024);
    expect(unpackedFirstBoot(lt.Properties.LaunchTemplateData.UserData)).toContain('host-boot.sh --volume-only');
  });

  test.each(['dev', 'prod'])('%s requires IMDSv2 with hop limit 1 through its launch template (containers cannot reach the role)', (env) => {
    const [, lt] = only(host(env), 'AWS::EC2::LaunchTemplate');
    expect(lt.Properties.LaunchTemplateData.MetadataOptions).toEqual({ HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
  });

  test.each(['dev', 'prod'])('%s root volume is encrypted gp3 of the configured size (8 GiB, the image’s), deleted with its instance', (env) => {
    expect(shippedConfig().environments[env].instance.rootVolumeGiB).toBe(8);
    host(env).hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeType: 'gp3', Encrypted: true, VolumeSize: 8, DeleteOnTermination: true } }],
      }),
    });
    expect(JSON.stringify(host(env).toJSON())).not.toContain('"DeleteOnTermination":false');
  });

  test.each(['dev', 'prod'])('%s instance role: no AWS managed policy, only the backups policy of its data stack, and its boundary', (env) => {
    const [, role] = Object.entries(host(env).findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('HostInstanceRole'))!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } },
    ]);
    expect(role.Properties.PermissionsBoundary).toBe(`arn:aws:iam::${ACCOUNT_OF(env)}:policy/auraxis-${env}-permissions-boundary`);
    expect(role.Properties.ManagedPolicyArns).toEqual([
      { 'Fn::GetStackOutput': expect.objectContaining({ StackName: stackNames.data('auraxis', env), OutputName: expect.stringMatching(/HostBackupsPolicy/) }) },
    ]);
  });

  test.each(['dev', 'prod'])('%s SSM agent policy: messaging and self-registration only, no parameter read, metrics only in the agent namespace', (env) => {
    const [, agent] = Object.entries(host(env).findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('HostSsmAgentPolicy'))!;
    const statements = agent.Properties.PolicyDocument.Statement;
    expect(statements.map((s: { Sid: string }) => s.Sid)).toEqual(['SsmAgentMessaging', 'SsmAgentRegistration', 'AgentMetrics']);
    expect(statements[1]).toMatchObject({
      Action: ['ssm:ListInstanceAssociations', 'ssm:UpdateInstanceAssociationStatus', 'ssm:UpdateInstanceInformation'],
      Resource: `arn:aws:ec2:${REGION}:${ACCOUNT_OF(env)}:instance/*`,
    });
    expect(statements[2]).toEqual({
      Sid: 'AgentMetrics',
      Action: 'cloudwatch:PutMetricData',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'CWAgent' } },
      Effect: 'Allow',
      Resource: '*',
    });
    expect(JSON.stringify(statements)).not.toMatch(/ssm:Get|ssm:\*|s3:/);
  });

  test.each(['dev', 'prod'])('%s instance role writes only its own log groups', (env) => {
    const [, policy] = Object.entries(host(env).findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('HostInstanceRoleDefaultPolicy'))!;
    const statements = policy.Properties.PolicyDocument.Statement;
    const logStatement = statements.find(
      (s: { Action: unknown }) => JSON.stringify(s.Action) === JSON.stringify(['logs:CreateLogStream', 'logs:PutLogEvents']),
    );
    expect(JSON.stringify(logStatement.Resource)).toContain('ContainerLogs');
    expect(JSON.stringify(logStatement.Resource)).toContain('SystemLogs');
    expect(JSON.stringify(logStatement.Resource)).toContain('CommandLogs');
    expect(JSON.stringify(statements)).not.toContain('s3:');
  });

  test('prod (always on) keeps an Elastic IP the host associates at boot, and an A record on it; dev (scheduled) has neither: its host UPSERTs its own record', () => {
    host('prod').hasResourceProperties('AWS::EC2::EIP', { Domain: 'vpc', InstanceId: Match.absent() });
    host('prod').hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      Name: 'api.auraxis.com.br.',
      Type: 'A',
      TTL: '300',
      ResourceRecords: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^HostElasticIp'), 'PublicIp'] }],
    });
    host('dev').resourceCountIs('AWS::EC2::EIP', 0);
    host('dev').resourceCountIs('AWS::Route53::RecordSet', 0);
    host('prod').resourceCountIs('AWS::Route53::HostedZone', 0);
    host('dev').hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Sid: 'UpsertOwnARecord',
            Resource: 'arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ',
            Condition: {
              'ForAllValues:StringEquals': Match.objectLike({ 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['dev.api.auraxis.com.br'] }),
            },
          }),
        ],
      },
    });
  });

  test.each(['dev', 'prod'])('%s has no per-instance recovery alarm: the group replaces an impaired instance', (env) => {
    expect(JSON.stringify(host(env).toJSON())).not.toContain('StatusCheckFailed_System');
    expect(JSON.stringify(host(env).toJSON())).not.toContain(':ec2:recover');
  });

  test('prod’s host stack is termination-protected; dev’s is not; every data stack is (the instance itself is the group’s to replace)', () => {
    const artifacts = shippedAssemblyManifest().artifacts;
    const protectedStack = (name: string) => artifacts[name].properties?.terminationProtection === true;
    expect(protectedStack(stackNames.host('auraxis', 'prod'))).toBe(true);
    expect(protectedStack(stackNames.host('auraxis', 'dev'))).toBe(false);
    expect(protectedStack(stackNames.data('auraxis', 'prod'))).toBe(true);
    expect(protectedStack(stackNames.data('auraxis', 'dev'))).toBe(true);
  });
});

describe('HostStack (shipped config): user data', () => {
  const userData = (env: string): string => {
    const [, lt] = only(host(env), 'AWS::EC2::LaunchTemplate');
    // The data volume's id (and prod's address allocation) are the tokens: joined in as <token>.
    expect(lt.Properties.LaunchTemplateData.UserData['Fn::Base64']['Fn::Join'][0]).toBe('');
    return unpackedFirstBoot(lt.Properties.LaunchTemplateData.UserData, () => '<token>');
  };

  test('installs Docker, the pinned Compose plugin (checksum verified), rsyslog, the CloudWatch agent, nginx and nftables', () => {
    const script = userData('prod');
    expect(script.startsWith('#!/bin/bash\nset -euo pipefail\n')).toBe(true);
    expect(script).toContain('dnf install -y docker git rsyslog amazon-cloudwatch-agent nginx nftables\n');
    expect(script).toContain('systemctl enable --now nginx\n');
    expect(script).toContain('systemctl enable --now docker\n');
    expect(script).toContain(`https://github.com/docker/compose/releases/download/${COMPOSE_VERSION}/docker-compose-linux-$(uname -m)`);
    expect(script).toContain('sha256sum -c -');
    expect(script).toContain('install -m 0755 /tmp/docker-compose /usr/local/lib/docker/cli-plugins/docker-compose\n');
    expect(script).toContain(
      'amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json\n',
    );
  });

  test.each(['dev', 'prod'])('%s agent ships container logs and the system log to its own log groups', (env) => {
    const script = userData(env);
    const json = script.slice(script.indexOf("amazon-cloudwatch-agent.json <<'JSON'\n") + 38, script.indexOf('\nJSON\n/opt/aws'));
    const config = JSON.parse(json);
    expect(config.logs.logs_collected.files.collect_list).toEqual([
      { file_path: '/var/lib/docker/containers/*/*-json.log', log_group_name: `/auraxis/${env}/containers`, log_stream_name: '{instance_id}/containers' },
      { file_path: '/var/log/messages', log_group_name: `/auraxis/${env}/system`, log_stream_name: '{instance_id}/messages' },
      { file_path: '/var/log/cloud-init-output.log', log_group_name: `/auraxis/${env}/system`, log_stream_name: '{instance_id}/cloud-init' },
    ]);
    expect(config.metrics.metrics_collected.disk).toEqual({
      measurement: ['used_percent'],
      resources: ['/'],
      drop_device: true,
      append_dimensions: { AutoScalingGroupName: `auraxis-${env}-host` },
    });
    expect(config.metrics.append_dimensions).toBeUndefined();
  });

  test.each(['dev', 'prod'])('%s checks the app out under /opt/auraxis on the configured ref', (env) => {
    const script = userData(env);
    expect(script).toContain("if [ ! -d /opt/auraxis/.git ]; then git clone 'https://github.com/auraxis/auraxis.git' /opt/auraxis; fi\n");
    expect(script).toContain(`git -C /opt/auraxis checkout --detach '${shippedConfig().environments[env].gitRef}'`);
  });
});

describe('HostStack (shipped config): alarms', () => {
  test.each(['dev', 'prod'])('%s alarms on CPU, instance status check and disk used, notifying the data stack topic on ALARM and OK', (env) => {
    const t = host(env);
    const topic = Match.objectLike({ 'Fn::GetStackOutput': Match.objectLike({ StackName: stackNames.data('auraxis', env) }) });
    const common = { AlarmActions: [topic], OKActions: [topic], TreatMissingData: 'notBreaching' };
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      AlarmName: `auraxis-${env}-cpu`,
      Namespace: 'AWS/EC2',
      MetricName: 'CPUUtilization',
      Threshold: 80,
      Period: 300,
      EvaluationPeriods: 3,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      AlarmName: `auraxis-${env}-status-check`,
      MetricName: 'StatusCheckFailed_Instance',
      Threshold: 1,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      AlarmName: `auraxis-${env}-disk`,
      Namespace: 'CWAgent',
      MetricName: 'disk_used_percent',
      Dimensions: [
        { Name: 'AutoScalingGroupName', Value: `auraxis-${env}-host` },
        { Name: 'fstype', Value: 'xfs' },
        { Name: 'path', Value: '/' },
      ],
      Threshold: 85,
    });
    t.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    expect(JSON.stringify(t.findResources('AWS::CloudWatch::Alarm'))).not.toContain('InstanceId');
  });
});

describe('HostStack (shipped config): GitHub deploy role', () => {
  const deployRole = (env: string) => {
    const [, role] = Object.entries(host(env).findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('DeployRole'))!;
    return role;
  };

  test.each(['dev', 'prod'])('%s trusts only its own GitHub environment through the account OIDC provider, no wildcards', (env) => {
    expect(deployRole(env).Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
        Principal: { Federated: githubOidcProviderArn(ACCOUNT_OF(env)) },
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            // Customized subject claim (scripts/github/oidc-subject.ts): only the reviewed deploy workflow on main.
            'token.actions.githubusercontent.com:sub': `repo:auraxis/auraxis-infra:environment:${env}:ref:refs/heads/main:job_workflow_ref:auraxis/auraxis-infra/.github/workflows/deploy-environment.yml@refs/heads/main`,
          },
        },
      },
    ]);
    expect(deployRole(env).Properties.ManagedPolicyArns).toBeUndefined();
    expect(deployRole(env).Properties.MaxSessionDuration).toBe(3600);
  });

  const assumable = (env: string): string[] => {
    const [, policy] = Object.entries(host(env).findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('DeployRoleDefaultPolicy'))!;
    const statement = policy.Properties.PolicyDocument.Statement.find((s: { Sid?: string }) => s.Sid === 'AssumeCdkBootstrapRoles');
    expect(statement.Action).toBe('sts:AssumeRole');
    return statement.Resource;
  };

  test.each([
    ['dev', 'auraxisdev'],
    ['prod', 'auraxiprod'],
  ])('%s may assume exactly the CDK bootstrap roles of its own qualifier (%s) in its region and us-east-1', (env, qualifier) => {
    expect(assumable(env)).toEqual(
      ['deploy-role', 'file-publishing-role', 'lookup-role'].map(
        (r) => `arn:aws:iam::${ACCOUNT_OF(env)}:role/cdk-${qualifier}-${r}-${ACCOUNT_OF(env)}-${REGION}`,
      ),
    );
  });

  test("dev's and prod's deploy roles may assume disjoint sets of roles (same account and region in the shipped config)", () => {
    const dev = new Set(assumable('dev'));
    expect(assumable('prod').filter((arn) => dev.has(arn))).toEqual([]);
  });

  test.each(['dev', 'prod'])('%s has no policy for command results beyond its command log group (no ssm:GetCommandInvocation)', (env) => {
    const ids = Object.keys(host(env).findResources('AWS::IAM::Policy')).filter((id) => id.startsWith('DeployRole'));
    expect(ids.map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'DeployRoleDefaultPolicy',
      'DeployRoleEnvironmentInstances',
      'DeployRoleHostState',
    ]);
    expect(JSON.stringify(host(env).toJSON())).not.toContain('ssm:GetCommandInvocation');
  });

  test.each(['dev', 'prod'])('%s reads only its own stacks and sends only its own documents, to instances tagged for it', (env) => {
    const [, policy] = Object.entries(host(env).findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('DeployRoleDefaultPolicy'))!;
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements.find((s: { Sid?: string }) => s.Sid === 'ReadEnvironmentStacks').Resource).toEqual(
      ['data', 'health', 'host'].map((kind) => `arn:aws:cloudformation:${REGION}:${ACCOUNT_OF(env)}:stack/auraxis-${env}-${kind}/*`),
    );
    const send = statementsOf(host(env)).filter((s: { Action: string | string[] }) => [s.Action].flat().includes('ssm:SendCommand'));
    expect(send).toEqual([
      // The host's own: a replacement sends the deploy document to itself (host-boot.sh, step 4),
      // then the tls, firewall and backup documents applied before (step 5): its environment's only.
      {
        Sid: 'SendOwnDeployDocument',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: ['backup', 'deploy', 'firewall', 'tls'].map((op) => `arn:aws:ssm:${REGION}:${ACCOUNT_OF(env)}:document/auraxis-${env}-${op}`),
      },
      {
        Sid: 'ToThisEnvironmentsInstance',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: `arn:aws:ec2:${REGION}:${ACCOUNT_OF(env)}:instance/*`,
        Condition: { StringEquals: { 'ssm:resourceTag/env': env } },
      },
      {
        Sid: 'SendHostDocuments',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: [
          ...['backup', 'deploy', 'firewall', 'restore', 'restore-drill', 'rollback', 'secrets', 'status', 'tls'].map(
            (op) => `arn:aws:ssm:${REGION}:${ACCOUNT_OF(env)}:document/auraxis-${env}-${op}`,
          ),
        ],
      },
      {
        Sid: 'SendToEnvironmentInstances',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: `arn:aws:ec2:${REGION}:${ACCOUNT_OF(env)}:instance/*`,
        Condition: { StringEquals: { 'ssm:resourceTag/env': env } },
      },
    ]);
    const [, instances] = Object.entries(host(env).findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('DeployRoleEnvironmentInstances'))!;
    expect(instances.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'SendToEnvironmentInstances',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: `arn:aws:ec2:${REGION}:${ACCOUNT_OF(env)}:instance/*`,
        Condition: { StringEquals: { 'ssm:resourceTag/env': env } },
      },
    ]);
    // Each ARN names a document this stack creates, so the role can run nothing else.
    const documentNames = Object.values(host(env).findResources('AWS::SSM::Document')).map((d) => d.Properties.Name);
    expect(documentNames.sort()).toEqual(
      ['backup', 'deploy', 'firewall', 'restore', 'restore-drill', 'rollback', 'secrets', 'status', 'tls'].map((op) => `auraxis-${env}-${op}`),
    );
  });

  test('no IAM statement in any shipped stack allows Action "*" or a service-wide "<service>:*"; no admin policy', () => {
    const offenders: string[] = [];
    for (const name of shippedStackNames()) {
      const t = shippedTemplate(name);
      for (const s of statementsOf(t)) {
        for (const action of [s.Action].flat()) if (s.Effect === 'Allow' && (action === '*' || action.endsWith(':*'))) offenders.push(`${name}: ${action}`);
      }
      expect(JSON.stringify(t.toJSON())).not.toContain('AdministratorAccess');
    }
    expect(offenders).toEqual([]);
  });
});

describe('HostStack (shipped config): secrets in Parameter Store', () => {
  test.each(['dev', 'prod'])("%s: the instance role reads only its own environment's path; no role can read or write any other value", (env) => {
    const other = env === 'dev' ? 'prod' : 'dev';
    const statements = statementsOf(host(env));
    const parameterStatements = statements.filter((s: { Action: string | string[] }) =>
      [s.Action].flat().some((a) => /^ssm:(Get|Put|Delete)Parameter|^ssm:\*|^kms:Decrypt/.test(a)),
    );
    expect(parameterStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
        Resource: [`arn:aws:ssm:${REGION}:${ACCOUNT_OF(env)}:parameter/auraxis/${env}`, `arn:aws:ssm:${REGION}:${ACCOUNT_OF(env)}:parameter/auraxis/${env}/*`],
        Sid: 'ReadEnvironmentSecrets',
      },
      // The plan role reads the bootstrap version a change set resolves (lib/constructs/github-plan-role.ts), not a secret.
      {
        Effect: 'Allow',
        Action: 'ssm:GetParameters',
        Resource: `arn:aws:ssm:${REGION}:${ACCOUNT_OF(env)}:parameter/cdk-bootstrap/${env === 'dev' ? 'auraxisdev' : 'auraxiprod'}/version`,
        Sid: 'BootstrapVersion',
      },
    ]);
    // The secrets statement sits on the instance role's policy, not the deploy role's.
    const [, role] =
      Object.entries(host(env).findResources('AWS::IAM::Policy')).find(([, p]) => p.Properties.PolicyDocument.Statement.includes(parameterStatements[0])) ?? [];
    expect(JSON.stringify(role?.Properties.Roles)).toContain('HostInstanceRole');
    expect(JSON.stringify(statements)).not.toContain(`parameter/auraxis/${other}`);
  });

  test('a configured path is the one granted', () => {
    const stacks = environmentStacks(
      configWith((c) => (c.environments.dev.secrets = { path: '/team-a/auraxis-dev/' })),
      'dev',
    );
    const statements = statementsOf(stacks.hostTemplate);
    expect(JSON.stringify(statements)).toContain(`arn:aws:ssm:${REGION}:${ACCOUNT_OF('dev')}:parameter/team-a/auraxis-dev/*`);
    expect(JSON.stringify(statements)).not.toContain('parameter/auraxis/dev');
  });
});

describe('HostStack (shipped config): schedule, outputs, composition', () => {
  test('dev starts and stops on the configured schedule by setting its group’s desired capacity (EventBridge Scheduler); prod has no schedule', () => {
    const dev = host('dev');
    const schedule = shippedConfig().environments.dev.instance.schedule!;
    for (const [expression, desired] of [
      [schedule.start, 1],
      [schedule.stop, 0],
    ]) {
      dev.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: 'America/Sao_Paulo',
        Target: {
          Arn: 'arn:aws:scheduler:::aws-sdk:autoscaling:updateAutoScalingGroup',
          Input: `{"AutoScalingGroupName":"auraxis-dev-host","DesiredCapacity":${desired}}`,
        },
      });
    }
    dev.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'autoscaling:UpdateAutoScalingGroup',
            Effect: 'Allow',
            Resource: `arn:aws:autoscaling:${REGION}:${ACCOUNT_OF('dev')}:autoScalingGroup:*:autoScalingGroupName/auraxis-dev-host`,
          },
        ],
      },
    });
    host('prod').resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  test.each(['dev', 'prod'])('%s outputs the group name (never an instance id), the public IP when it has one, and both role ARNs', (env) => {
    const outputs = host(env).toJSON().Outputs;
    expect(outputs[outputNames.hostGroupName].Value).toBe(`auraxis-${env}-host`);
    expect(outputs.InstanceId).toBeUndefined();
    if (env === 'prod') expect(outputs[outputNames.publicIp].Value).toEqual({ 'Fn::GetAtt': ['HostElasticIpC445F0B8', 'PublicIp'] });
    else expect(outputs[outputNames.publicIp]).toBeUndefined();
    expect(outputs[outputNames.instanceRoleArn].Value).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^HostInstanceRole/), 'Arn'] });
    expect(outputs[outputNames.deployRoleArn].Value).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DeployRole/), 'Arn'] });
  });

  test('the host stack references nothing of the account stack; the composition orders it after the account and data stacks', () => {
    for (const env of ['dev', 'prod']) {
      expect(JSON.stringify(host(env).toJSON())).not.toContain(stackNames.account('auraxis', ACCOUNT_OF(env)));
      expect(shippedAssemblyManifest().artifacts[stackNames.host('auraxis', env)].dependencies).toEqual(
        expect.arrayContaining([stackNames.account('auraxis', ACCOUNT_OF(env)), stackNames.data('auraxis', env)]),
      );
    }
  });

  test('synth needs no credentials: no missing context, no SSM-parameter lookups in template parameters', () => {
    expect((shippedAssemblyManifest() as { missing?: unknown }).missing).toBeUndefined();
    for (const env of ['dev', 'prod']) expect(Object.keys(host(env).toJSON().Parameters ?? {})).toEqual(['BootstrapVersion']);
  });

  test('pins the logical ids of the group and prod’s Elastic IP (a rename would replace the group and release the address)', () => {
    for (const env of ['dev', 'prod']) expect(Object.keys(host(env).findResources('AWS::AutoScaling::AutoScalingGroup'))).toEqual([GROUP]);
    expect(Object.keys(host('prod').findResources('AWS::EC2::EIP'))).toEqual(['HostElasticIpC445F0B8']);
  });
});

describe('HostStack variants', () => {
  test('an x86 instance type gets the x86_64 image; unlimited credits when configured', () => {
    const { hostTemplate } = environmentStacks(
      configWith((c) => {
        c.environments.prod.instance.type = 't3a.medium';
        c.environments.prod.instance.cpuCredits = 'unlimited';
      }),
      'prod',
    );
    hostTemplate.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 't3a.medium',
        CreditSpecification: { CpuCredits: 'unlimited' },
        ImageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      }),
    });
  });

  test('a non-burstable type gets no credit specification', () => {
    const { hostTemplate } = environmentStacks(
      configWith((c) => (c.environments.prod.instance.type = 'm7g.large')),
      'prod',
    );
    hostTemplate.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'm7g.large', CreditSpecification: Match.absent() }),
    });
  });

  test('termination protection follows instance.terminationProtection when set', () => {
    const { host: stack } = environmentStacks(
      configWith((c) => (c.environments.dev.instance.terminationProtection = true)),
      'dev',
    );
    expect(stack.terminationProtection).toBe(true);
    const prod = environmentStacks(
      configWith((c) => (c.environments.prod.instance.terminationProtection = false)),
      'prod',
    );
    expect(prod.host.terminationProtection).toBe(false);
  });

  test('a configured availability zone is used literally', () => {
    const { hostTemplate } = environmentStacks(
      configWith((c) => (c.environments.prod.instance.availabilityZone = 'us-east-1d')),
      'prod',
    );
    hostTemplate.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'us-east-1d' });
    // The group's only subnet is that one.
    hostTemplate.resourceCountIs('AWS::EC2::Subnet', 1);
  });

  test('prod without a hosted zone gets no DNS record', () => {
    const { hostTemplate } = environmentStacks(
      configWith((c) => delete c.environments.prod.hostedZone),
      'prod',
    );
    hostTemplate.resourceCountIs('AWS::Route53::RecordSet', 0);
  });

  test('an instance type under 2 GiB needs swap: the config refuses swapGiB 0 on it', () => {
    const { hostTemplate } = environmentStacks(
      configWith((c) => (c.environments.prod.instance.type = 't4g.micro')),
      'prod',
    );
    const userData = unpackedFirstBoot(Object.values(hostTemplate.findResources('AWS::EC2::LaunchTemplate'))[0].Properties.LaunchTemplateData.UserData);
    expect(userData).toContain('dd if=/dev/zero of=/swapfile bs=1M count=1024');
    const raw = shippedConfigInput();
    raw.environments.prod.instance = { type: 't4g.micro', swapGiB: 0, availabilityZone: 'us-east-1a' };
    expect(problemsOf(raw)).toEqual([
      'environments.prod.instance.swapGiB: 0 must be at least 1 on t4g.micro, which has less than 2 GiB for the API, PostgreSQL and Redis',
    ]);
  });

  test('with host documents, the deploy role may send exactly those documents', () => {
    const spec = (operation: 'deploy' | 'status') => ({ operation, description: `${operation} the app`, parameters: {}, runCommand: ['echo hi'] });
    const { hostTemplate } = environmentStacks(shippedConfig(), 'prod', [spec('deploy'), spec('status')]);
    hostTemplate.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'SendHostDocuments',
            Action: 'ssm:SendCommand',
            Effect: 'Allow',
            Resource: [
              `arn:aws:ssm:${REGION}:${ACCOUNT_OF('prod')}:document/auraxis-prod-deploy`,
              `arn:aws:ssm:${REGION}:${ACCOUNT_OF('prod')}:document/auraxis-prod-status`,
            ],
          },
        ]),
      },
    });
    hostTemplate.resourceCountIs('AWS::SSM::Document', 2);
  });
});
