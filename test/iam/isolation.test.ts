import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { sharedAccountNotes } from '../../lib/config/schema/accounts';
import { environmentResourcesByName } from '../../lib/iam/environment-resources';
import { ENVIRONMENT_TAG, stackNames } from '../../lib/names';
import type { IamPolicyDocument } from '../../lib/rules/iam-policy';
import { type AuditedPrincipal, auditIsolation, type IsolationFacts } from '../../scripts/ops/commands/iam-audit';
import { parseArgs } from '../../scripts/ops/commands/parse-args';
import { runOps } from '../../scripts/ops/ops';
import { matrixCells, matrixFailures } from './matrix';
import { sharedAccountFixture } from './shared-account';

/*
 * Issue 21's proof, by an IAM policy evaluator over the synthesized templates, the bootstrap
 * policies and the project's bootstrap template, for two environments in one account: no
 * principal of one environment can read, change or deploy the other (every ordered pair), none can
 * destroy its own backups' history or leave its boundary, and each can still do its own work.
 * test/iam/mutations.test.ts removes each scoping condition and deny in turn and expects this
 * matrix to fail.
 */

const fixture = sharedAccountFixture();

test('the fixture is two environments in one account, and synth says what they share', () => {
  const [dev, prod] = fixture.environments;
  expect(dev.account).toBe(prod.account);
  expect(sharedAccountNotes(fixture.config.environments)).toEqual([expect.stringMatching(/^environments dev, prod share AWS account \d{12} /)]);
});

test.each(['dev', 'prod'])(
  'the resources the boundary fences by tag carry %s: instance, volumes, firewall, launch template, address, snapshot policy',
  (env) => {
    const host = stackNames.host('auraxis', env);
    const data = stackNames.data('auraxis', env);
    const tagOf = (tags: { Key: string; Value: string }[] | undefined) => tags?.find((t) => t.Key === ENVIRONMENT_TAG)?.Value;
    for (const type of ['AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::SecurityGroup', 'AWS::EC2::EIP', 'AWS::EC2::VPC', 'AWS::EC2::Subnet']) {
      for (const r of fixture.stacks.resourcesOfType(host, type)) expect({ type, tag: tagOf(r.properties.Tags) }).toEqual({ type, tag: env });
    }
    // The group puts the tag on every instance it launches (and its name tag, aws:autoscaling:groupName).
    const [group] = fixture.stacks.resourcesOfType(host, 'AWS::AutoScaling::AutoScalingGroup');
    expect(group.properties.Tags.find((t: { Key: string }) => t.Key === ENVIRONMENT_TAG)).toEqual({
      Key: ENVIRONMENT_TAG,
      Value: env,
      PropagateAtLaunch: true,
    });
    for (const r of fixture.stacks.resourcesOfType(data, 'AWS::EC2::Volume')) expect(tagOf(r.properties.Tags)).toBe(env);
    const [template] = fixture.stacks.resourcesOfType(host, 'AWS::EC2::LaunchTemplate');
    expect(template.properties.TagSpecifications.map((s: { Tags: never }) => tagOf(s.Tags))).toEqual([env]);
    expect(template.properties.LaunchTemplateData.TagSpecifications.map((s: { ResourceType: string; Tags: never }) => [s.ResourceType, tagOf(s.Tags)])).toEqual(
      [
        ['instance', env],
        ['volume', env],
      ],
    );
    // Snapshots get the volume's tags: the boundary fences them by the same tag.
    const [policy] = fixture.stacks.resourcesOfType(data, 'AWS::DLM::LifecyclePolicy');
    expect(tagOf(policy.properties.Tags)).toBe(env);
    expect(policy.properties.PolicyDetails.Schedules.map((s: { CopyTags: boolean }) => s.CopyTags)).toEqual([true]);
  },
);

test('the matrix covers both ordered pairs, every principal, the sensitive operations and positive controls', () => {
  const cells = matrixCells(fixture);
  const kinds = ['oidc-deploy', 'oidc-plan', 'bootstrap-deploy', 'file-publishing', 'lookup', 'execution', 'created-role', 'instance'];
  for (const env of ['dev', 'prod']) {
    for (const kind of kinds) {
      const mine = cells.filter((c) => c.env === env && c.kind === kind);
      expect({ env, kind, denied: mine.filter((c) => !c.allowed).length > 40, allowed: mine.some((c) => c.allowed) }).toEqual({
        env,
        kind,
        denied: true,
        allowed: true,
      });
    }
  }
  const actions = new Set(cells.filter((c) => !c.allowed).map((c) => c.op.action));
  for (const action of [
    'ssm:SendCommand',
    'ssm:StartSession',
    's3:GetObject',
    's3:DeleteObjectVersion',
    's3:PutObject',
    's3:PutBucketPolicy',
    's3:PutLifecycleConfiguration',
    's3:PutBucketVersioning',
    'ssm:GetParameter',
    'route53:ChangeResourceRecordSets',
    'cloudformation:UpdateStack',
    'cloudformation:DeleteStack',
    'logs:PutSubscriptionFilter',
    'logs:FilterLogEvents',
    'ec2:CreateVolume',
    'ec2:AttachVolume',
    'ec2:DetachVolume',
    'ec2:AssociateAddress',
    'autoscaling:SetDesiredCapacity',
    'autoscaling:TerminateInstanceInAutoScalingGroup',
    'autoscaling:CompleteLifecycleAction',
    'autoscaling:UpdateAutoScalingGroup',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePolicy',
    'sts:AssumeRole',
  ])
    expect(actions).toContain(action);
});

test.each(['dev', 'prod'])("%s's principals: the other environment denied, their own backups' history kept, their own work allowed", async (env) => {
  expect(await matrixFailures(fixture, { from: [env] })).toEqual([]);
});

describe('ops iam-audit judges what IAM holds with the same evaluator', () => {
  const dev = fixture.resources.get('dev')!;
  const prod = fixture.resources.get('prod')!;
  const probe = environmentResourcesByName({
    app: 'auraxis',
    env: 'isolationprobe',
    account: dev.account,
    region: 'us-east-1',
    secretsPath: '/auraxis/isolationprobe/',
  });
  /** The facts `readRole` would return for dev's principals: the fixture's policies, as IAM holds them. */
  const factsOf = (edit: (principals: AuditedPrincipal[], documents: Map<string, IamPolicyDocument>) => void = () => {}): IsolationFacts => {
    const principals: AuditedPrincipal[] = [...fixture.principals.get('dev')!]
      .filter(([kind]) => kind !== 'created-role')
      .map(([kind, p]) => ({
        kind,
        role: {
          roleName: p.arn.slice(p.arn.lastIndexOf('/') + 1),
          trustPolicy: fixture.resourcePolicy({ kind: 'trust', roleArn: p.arn })!,
          inlinePolicies: p.identityPolicies.map((ip) => ({ name: ip.name, document: ip.document })),
          attachedPolicies: [],
          permissionsBoundaryArn: dev.boundaryArn,
        },
      }));
    const documents = new Map([[dev.boundaryArn, fixture.principals.get('dev')!.get('created-role')!.boundary!]]);
    edit(principals, documents);
    return {
      own: dev,
      neighbours: [prod, probe],
      principals,
      policyDocuments: documents,
      bucketPolicies: new Map([dev.backupsBucket, dev.stagingBucket].map((b) => [b, fixture.resourcePolicy({ kind: 'bucket', bucket: b })!])),
    };
  };

  test("COMPLIANT: dev's roles, boundary and bucket policies pass, against prod and against a probe environment that does not exist", async () => {
    expect(await auditIsolation(factsOf())).toEqual([]);
  });

  test('NON_COMPLIANT: the boundary of before (ssm:* and ec2:* on every resource) lets dev run commands on prod: findings name it', async () => {
    const findings = await auditIsolation(
      factsOf((_, documents) =>
        documents.set(dev.boundaryArn, {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['ssm:*', 'ec2:*', 's3:*', 'sts:AssumeRole', 'iam:PassRole'], Resource: '*' }],
        }),
      ),
    );
    expect(findings.map((f) => `${f.role}: ${f.problem}`)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^a role a template could create: may send a command to the instance of prod: ssm:SendCommand on arn:aws:ec2:/),
        expect.stringMatching(/^a role a template could create: may create a volume from a snapshot of prod: /),
      ]),
    );
  });

  test('action names are matched case-insensitively: SSM:SendCommand on * in a role without a boundary is found', async () => {
    const findings = await auditIsolation(
      factsOf((principals) => {
        const deploy = principals.find((p) => p.kind === 'oidc-deploy')!;
        principals[principals.indexOf(deploy)] = {
          ...deploy,
          role: {
            ...deploy.role,
            permissionsBoundaryArn: undefined,
            inlinePolicies: [
              ...deploy.role.inlinePolicies,
              { name: 'planted', document: { Statement: [{ Effect: 'Allow', Action: 'SSM:SendCommand', Resource: '*' }] } },
            ],
          },
        };
      }),
    );
    expect(findings.map((f) => f.problem)).toContain(`may send a command to the instance of prod: ssm:SendCommand on ${prod.instanceArn} is allowed`);
  });

  test('a boundary IAM does not return is a finding, not a pass', async () => {
    const findings = await auditIsolation(factsOf((_, documents) => documents.clear()));
    expect(findings[0]).toEqual({
      role: dev.boundaryArn,
      problem: 'the permissions boundary could not be read: run npm run bootstrap (docs/first-deploy.md, step 2)',
    });
  });
});

describe('ops iam-audit, through its AWS edge (SDK mocked at the network edge)', () => {
  const cfn = mockClient(CloudFormationClient);
  const iamClient = mockClient(IAMClient);
  const s3 = mockClient(S3Client);
  afterAll(() => {
    cfn.restore();
    iamClient.restore();
    s3.restore();
  });
  const dev = fixture.resources.get('dev')!;
  const encode = (doc: unknown) => encodeURIComponent(JSON.stringify(doc));

  /** IAM, CloudFormation and S3 answer with the fixture's dev: its roles, boundary, outputs and bucket policies. */
  function answerWithFixture(boundary: IamPolicyDocument) {
    cfn.reset();
    iamClient.reset();
    s3.reset();
    const host = stackNames.host('auraxis', 'dev');
    const data = stackNames.data('auraxis', 'dev');
    const outputs = (values: Record<string, string>) => ({
      Stacks: [
        {
          StackName: 'x',
          CreationTime: new Date(0),
          StackStatus: 'UPDATE_COMPLETE' as const,
          Outputs: Object.entries(values).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    });
    cfn.on(DescribeStacksCommand, { StackName: host }).resolves(
      outputs({
        DeployRoleArn: dev.roles.deploy,
        InstanceRoleArn: dev.roles.instance,
        PlanRoleArn: dev.roles.plan,
        InstanceId: dev.instanceArn.split('/')[1],
      }),
    );
    cfn
      .on(DescribeStacksCommand, { StackName: data })
      .resolves(outputs({ BackupBucketName: dev.backupsBucket, DataVolumeId: dev.dataVolumeArn.split('/')[1] }));
    iamClient.on(GetRoleCommand).rejects(Object.assign(new Error('no such role'), { name: 'NoSuchEntityException' }));
    for (const [kind, p] of fixture.principals.get('dev')!) {
      if (kind === 'created-role') continue;
      const name = p.arn.slice(p.arn.lastIndexOf('/') + 1);
      iamClient.on(GetRoleCommand, { RoleName: name }).resolves({
        Role: {
          RoleName: name,
          Path: '/',
          Arn: p.arn,
          RoleId: 'AROA',
          CreateDate: new Date(0),
          AssumeRolePolicyDocument: encode(fixture.resourcePolicy({ kind: 'trust', roleArn: p.arn })),
          PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: dev.boundaryArn },
        },
      });
      iamClient.on(ListRolePoliciesCommand, { RoleName: name }).resolves({ PolicyNames: p.identityPolicies.map((_, i) => `p${i}`) });
      p.identityPolicies.forEach((ip, i) => {
        iamClient
          .on(GetRolePolicyCommand, { RoleName: name, PolicyName: `p${i}` })
          .resolves({ RoleName: name, PolicyName: `p${i}`, PolicyDocument: encode(ip.document) });
      });
      iamClient.on(ListAttachedRolePoliciesCommand, { RoleName: name }).resolves({ AttachedPolicies: [] });
    }
    iamClient.on(GetPolicyCommand, { PolicyArn: dev.boundaryArn }).resolves({ Policy: { DefaultVersionId: 'v1' } });
    iamClient.on(GetPolicyVersionCommand, { PolicyArn: dev.boundaryArn, VersionId: 'v1' }).resolves({ PolicyVersion: { Document: encode(boundary) } });
    for (const bucket of [dev.backupsBucket, dev.stagingBucket]) {
      s3.on(GetBucketPolicyCommand, { Bucket: bucket }).resolves({ Policy: JSON.stringify(fixture.resourcePolicy({ kind: 'bucket', bucket })) });
    }
  }
  const audit = () => runOps({ config: fixture.config, actor: 'test' }, { ...parseArgs(['iam-audit', '--env', 'dev'], ['dev', 'prod']) });

  test('the deployed dev passes: its roles, boundary, execution policy, bootstrap roles and bucket policies', async () => {
    answerWithFixture(fixture.principals.get('dev')!.get('created-role')!.boundary!);
    const outcome = await audit();
    expect(outcome.text).toBe('IAM audit passed for dev.');
    expect(outcome.ok).toBe(true);
  });

  test('a boundary widened in IAM (ssm:* on *) fails the audit, naming what dev could do to prod', async () => {
    answerWithFixture({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['ssm:*', 'ec2:*', 'logs:*', 's3:*', 'cloudformation:*', 'iam:PassRole', 'sts:AssumeRole'], Resource: '*' }],
    });
    const outcome = await audit();
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain('FAIL  a role a template could create: may send a command to the instance of prod: ssm:SendCommand on ');
    expect(outcome.text).toContain('FAIL  a role a template could create: may send a command to the instance of isolationprobe: ');
  });
});
