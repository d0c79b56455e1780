import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildAwsApp } from '../../bin/build-apps';
import { cdkJsonContext } from '../../lib/config/config-file';
import { stackNames } from '../../lib/names';
import { acknowledgementsUnder } from '../helpers/acknowledgements';
import { configWith, problemsOf, shippedConfig, shippedConfigInput } from '../helpers/config-fixtures';
import { shippedStackNames, shippedValidationReport, shippedValidationRuns } from '../helpers/synth';

describe('cdk-nag and CloudFormation validation', () => {
  test('the shipped synth ran both cdk-nag packs and CloudFormation validation over every stack, and none reported a violation', () => {
    // The report file lists only plugins with findings: a clean file alone would pass with no check
    // registered at all. The global setup recorded which plugins were registered and what each run saw.
    const { registered, runs } = shippedValidationRuns();
    expect([...registered].sort()).toEqual(['AwsSolutions', 'CloudFormation Validate', 'Gitops']);
    expect(runs.map((r) => r.plugin).sort()).toEqual(['AwsSolutions', 'CloudFormation Validate', 'Gitops']);
    const report = shippedValidationReport();
    for (const run of runs) {
      // cdk-nag drops acknowledged findings itself; CloudFormation's are acknowledged through CDK, which lists them as suppressed.
      const acknowledged = report.pluginReports.find((p) => p.pluginName === run.plugin)?.suppressedViolations?.map((v) => v.ruleName) ?? [];
      expect({ ...run, violations: run.violations.filter((v) => !acknowledged.includes(v)) }).toEqual({
        plugin: run.plugin,
        stacks: shippedStackNames(),
        success: true,
        violations: [],
      });
    }
    for (const plugin of report.pluginReports) {
      expect({ plugin: plugin.pluginName, violations: plugin.violations }).toEqual({ plugin: plugin.pluginName, violations: [] });
      expect(plugin.conclusion).toBe('success');
    }
  });

  test('the AWS Solutions checks are live: an unacknowledged finding fails synth', () => {
    const app = new App({ context: cdkJsonContext(), outdir: mkdtempSync(join(tmpdir(), 'nag-')) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new s3.Bucket(new Stack(app, 'Probe'), 'Bucket', { enforceSSL: true });
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
    rmSync(app.outdir, { recursive: true, force: true });
  });

  test('data and host stacks acknowledge exactly these rules, each on its own construct, never on a stack', () => {
    const app = buildAwsApp(shippedConfig(), { context: cdkJsonContext() });
    for (const env of ['dev', 'prod']) {
      const account = shippedConfig().environments[env].account;
      const acks = [stackNames.data('auraxis', env), stackNames.host('auraxis', env)].flatMap((name) => acknowledgementsUnder(app.node.findChild(name)));
      const byPath = acks.map((a) => `${a.path.replace(/^auraxis-\w+-/, '')} ${a.id}`).sort();
      expect(byPath).toEqual(
        [
          'data/AlarmTopic AwsSolutions-SNS2',
          'data/Backups/Bucket AwsSolutions-S1',
          'data/DataVolume/SnapshotRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole]',
          'data/DataVolume/Volume CloudFormation-Validate::W3010',
          `host/DataVolumeAttachPolicy AwsSolutions-IAM5[Resource::arn:aws:ec2:us-east-1:${account}:instance/*]`,
          `host/DeployRole/EnvironmentInstances AwsSolutions-IAM5[Resource::arn:aws:ec2:us-east-1:${account}:instance/*]`,
          `host/RedeployRecordedReleasePolicy AwsSolutions-IAM5[Resource::arn:aws:ec2:us-east-1:${account}:instance/*]`,
          'host/Vpc CloudFormation-Validate::W3010',
          `data/HostBackupsPolicy AwsSolutions-IAM5[Resource::<BackupsBucket2936A3AA.Arn>/${env}/*]`,
          'host/BackupMetricPolicy AwsSolutions-IAM5[Resource::*]',
          `host/CommandOutputLookupPolicy AwsSolutions-IAM5[Resource::arn:aws:logs:us-east-1:${account}:log-group:*]`,
          'host/DeployRole/HostState AwsSolutions-IAM5[Resource::*]',
          ...['data', 'health', 'host'].map(
            (k) => `host/DeployRole/Role/DefaultPolicy AwsSolutions-IAM5[Resource::arn:aws:cloudformation:us-east-1:${account}:stack/auraxis-${env}-${k}/*]`,
          ),
          'host/DescribeDataVolumePolicy AwsSolutions-IAM5[Resource::*]',
          `host/Host/CompleteLifecycleActionPolicy AwsSolutions-IAM5[Resource::arn:aws:autoscaling:us-east-1:${account}:autoScalingGroup:*:autoScalingGroupName/auraxis-${env}-host]`,
          // Spot (dev): the rule throws on a mixed-instances policy; the launch template's root is encrypted.
          ...(env === 'prod'
            ? [`host/Host/AssociateAddressPolicy AwsSolutions-IAM5[Resource::arn:aws:ec2:us-east-1:${account}:instance/*]`]
            : [
                'host/Host/Group/ASG AwsSolutions-EC26',
                `host/Schedule/Role AwsSolutions-IAM5[Resource::arn:aws:autoscaling:us-east-1:${account}:autoScalingGroup:*:autoScalingGroupName/auraxis-dev-host]`,
              ]),
          'host/Host/SsmAgentPolicy AwsSolutions-IAM5[Resource::*]',
          `host/Host/SsmAgentPolicy AwsSolutions-IAM5[Resource::arn:aws:ec2:us-east-1:${account}:instance/*]`,
          `host/Host/EnvironmentSecretsPolicy AwsSolutions-IAM5[Resource::arn:aws:ssm:us-east-1:${account}:parameter/auraxis/${env}/*]`,
          // One acknowledgement per web rule open to the internet, never on the security group.
          'host/Host/SecurityGroup/FromInternetTcp80 AwsSolutions-EC23',
          ...(env === 'prod' ? ['host/Host/SecurityGroup/FromInternetTcp443 AwsSolutions-EC23'] : []),
          'host/Vpc AwsSolutions-VPC7',
          // The plan role (lib/constructs/github-plan-role.ts): its change sets, its stacks, its bucket prefix.
          `host/PlanRole/Plan AwsSolutions-IAM5[Resource::arn:aws:cloudformation:us-east-1:${account}:changeSet/ops-plan-*/*]`,
          ...['data', 'health', 'host'].map(
            (k) => `host/PlanRole/Plan AwsSolutions-IAM5[Resource::arn:aws:cloudformation:us-east-1:${account}:stack/auraxis-${env}-${k}/*]`,
          ),
          `host/PlanRole/Plan AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-${env === 'dev' ? 'auraxisdev' : 'auraxiprod'}-assets-${account}-us-east-1/ops-plan/*]`,
        ].sort(),
      );
      for (const ack of acks) {
        expect(ack.path).toContain('/');
        expect(ack.reason.length).toBeGreaterThan(80);
        expect(ack.reason).not.toMatch(/\b(TODO|TBD|n\/a|not needed|suppress(ed)?)\b/i);
      }
    }
  });

  test('a configured availability zone synthesizes cleanly with cdk-nag (its hardcoded-zone warning is acknowledged on the VPC)', () => {
    const config = configWith((c) => {
      c.environments = { dev: c.environments.dev };
      c.environments.dev.instance.availabilityZone = 'us-east-1c';
    });
    const outdir = mkdtempSync(join(tmpdir(), 'az-'));
    try {
      buildAwsApp(config, { context: cdkJsonContext(), outdir }).synth();
      const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations: unknown[] }[] };
      expect(report.pluginReports.flatMap((p) => p.violations)).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('bad input AWS would reject fails at synth with the key path', () => {
  const problems = (edit: (raw: ReturnType<typeof shippedConfigInput>) => void) => {
    const raw = shippedConfigInput();
    edit(raw);
    return problemsOf(raw);
  };

  test.each<[string, (raw: ReturnType<typeof shippedConfigInput>) => void, string]>([
    ['a hosted zone id without a name', (c) => delete c.environments.prod.hostedZone.name, 'environments.prod.hostedZone.name: is required'],
    [
      'an availability zone outside the region',
      (c) => (c.environments.prod.instance.availabilityZone = 'sa-east-1a'),
      'environments.prod.instance.availabilityZone: "sa-east-1a" is not in this environment\'s region "us-east-1"',
    ],
    [
      'a malformed availability zone',
      (c) => (c.environments.prod.instance.availabilityZone = 'us-east-1'),
      'environments.prod.instance.availabilityZone: "us-east-1" is not an availability zone name (e.g. us-east-1b)',
    ],
    [
      'a schedule without a hosted zone (a scheduled host has no Elastic IP: it writes its own record)',
      (c) => delete c.environments.dev.hostedZone,
      'environments.dev.hostedZone: is required when instance.schedule is set: a scheduled host has no Elastic IP and writes its own address into this zone at boot',
    ],
    [
      'a purchase option AWS does not have',
      (c) => (c.environments.prod.instance.purchase = 'reserved'),
      'environments.prod.instance.purchase: "reserved" must be on-demand or spot',
    ],
    [
      'a root volume smaller than the image',
      (c) => (c.environments.dev.instance.rootVolumeGiB = 4),
      'environments.dev.instance.rootVolumeGiB: 4 must be at least 8 (the size of the Amazon Linux 2023 image snapshot)',
    ],
    [
      'a root volume beyond gp3',
      (c) => (c.environments.dev.instance.rootVolumeGiB = 20000),
      'environments.dev.instance.rootVolumeGiB: 20000 must be at most 16384 (the gp3 maximum)',
    ],
    [
      'an unknown CPU credit mode',
      (c) => (c.environments.dev.instance.cpuCredits = 'burst'),
      'environments.dev.instance.cpuCredits: "burst" must be standard or unlimited',
    ],
    [
      'termination protection that is not a boolean',
      (c) => (c.environments.prod.instance.terminationProtection = 'yes'),
      'environments.prod.instance.terminationProtection: "yes" must be true or false',
    ],
  ])('%s', (_name, edit, message) => {
    expect(problems(edit)).toEqual([message]);
  });
});
