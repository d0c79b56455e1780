import { sharedAccountNotes } from '../../lib/config/schema/accounts';
import { ENVIRONMENT_TAG, stackNames } from '../../lib/names';
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
    for (const type of ['AWS::EC2::Instance', 'AWS::EC2::SecurityGroup', 'AWS::EC2::EIP', 'AWS::EC2::VPC', 'AWS::EC2::Subnet']) {
      for (const r of fixture.stacks.resourcesOfType(host, type)) expect({ type, tag: tagOf(r.properties.Tags) }).toEqual({ type, tag: env });
    }
    for (const r of fixture.stacks.resourcesOfType(data, 'AWS::EC2::Volume')) expect(tagOf(r.properties.Tags)).toBe(env);
    const [template] = fixture.stacks.resourcesOfType(host, 'AWS::EC2::LaunchTemplate');
    expect(template.properties.TagSpecifications.map((s: { Tags: never }) => tagOf(s.Tags))).toEqual([env]);
    expect(template.properties.LaunchTemplateData.TagSpecifications.map((s: { ResourceType: string; Tags: never }) => [s.ResourceType, tagOf(s.Tags)])).toEqual(
      [
        ['instance', env],
        ['volume', env],
      ],
    );
    const [instance] = fixture.stacks.resourcesOfType(host, 'AWS::EC2::Instance');
    expect(instance.properties.PropagateTagsToVolumeOnCreation).toBe(true);
    // Snapshots get the volume's tags: the boundary fences them by the same tag.
    const [policy] = fixture.stacks.resourcesOfType(data, 'AWS::DLM::LifecyclePolicy');
    expect(tagOf(policy.properties.Tags)).toBe(env);
    expect(policy.properties.PolicyDetails.Schedules.map((s: { CopyTags: boolean }) => s.CopyTags)).toEqual([true]);
  },
);

test('the matrix covers both ordered pairs, every principal, the sensitive operations and positive controls', () => {
  const cells = matrixCells(fixture);
  const kinds = ['oidc-deploy', 'bootstrap-deploy', 'file-publishing', 'lookup', 'execution', 'created-role', 'instance'];
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
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePolicy',
    'sts:AssumeRole',
  ])
    expect(actions).toContain(action);
});

test.each(['dev', 'prod'])("%s's principals: the other environment denied, their own backups' history kept, their own work allowed", async (env) => {
  expect(await matrixFailures(fixture, { from: [env] })).toEqual([]);
});
