import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import { stackNames } from '../../lib/names';
import type { CfnTemplate } from '../../scripts/review/synth-output';
import { shippedConfig } from '../helpers/config-fixtures';
import { shippedStackNames, shippedTemplate } from '../helpers/synth';

/*
 * Cost allocation (docs/cost.md): every taggable resource of an environment's stacks carries
 * `app` and `env`. "Taggable" is what the CloudFormation resource specification says (the
 * database cloudformation-diff uses), not a list of our own.
 */
const db = loadAwsServiceSpecSync();
const tagPropertyOf = (type: string): string | undefined => db.lookup('resource', 'cloudFormationType', 'equals', type)[0]?.tagInformation?.tagPropertyName;

function tagsOf(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) return Object.fromEntries(value.map((t: { Key: string; Value: unknown }) => [t.Key, t.Value]));
  return (value ?? {}) as Record<string, unknown>;
}

/** `<logicalId> (<type>)` of each taggable resource missing one of the expected tags. */
function untagged(template: CfnTemplate, expected: Record<string, string>): string[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => {
      const property = tagPropertyOf(r.Type);
      if (!property) return false;
      const tags = tagsOf(r.Properties?.[property]);
      return Object.entries(expected).some(([k, v]) => tags[k] !== v);
    })
    .map(([id, r]) => `${id} (${r.Type})`);
}

const config = shippedConfig();
const app = config.app.name;

describe('app and env tags on every taggable resource', () => {
  test.each(Object.keys(config.environments))('%s: data, host and health stacks', (env) => {
    const stacks = [stackNames.data(app, env), stackNames.host(app, env), stackNames.health(app, env)];
    const taggable = stacks.flatMap((s) =>
      Object.values(shippedTemplate(s).toJSON().Resources as Record<string, { Type: string }>).filter((r) => tagPropertyOf(r.Type)),
    );
    expect(taggable.length).toBeGreaterThan(10);
    expect(stacks.flatMap((s) => untagged(shippedTemplate(s).toJSON(), { app, env }))).toEqual([]);
  });

  test('the account stacks carry app (they belong to no environment)', () => {
    const accounts = shippedStackNames().filter((s) => s.startsWith(`${app}-account-`));
    expect(accounts).toHaveLength(2);
    for (const account of accounts) expect(untagged(shippedTemplate(account).toJSON(), { app })).toEqual([]);
  });

  test('the check finds a planted untagged bucket and a volume tagged for the wrong environment', () => {
    const template = {
      Resources: {
        Bucket: { Type: 'AWS::S3::Bucket', Properties: { Tags: [{ Key: 'app', Value: app }] } },
        Volume: {
          Type: 'AWS::EC2::Volume',
          Properties: {
            Tags: [
              { Key: 'app', Value: app },
              { Key: 'env', Value: 'dev' },
            ],
          },
        },
        Policy: { Type: 'AWS::IAM::Policy', Properties: {} },
      },
    };
    expect(untagged(template, { app, env: 'prod' })).toEqual(['Bucket (AWS::S3::Bucket)', 'Volume (AWS::EC2::Volume)']);
  });

  test.each(Object.keys(config.environments))(
    '%s: the host’s instances and root volumes get the tags at creation (launch template); every EBS volume resource is tagged',
    (env) => {
      const host = shippedTemplate(stackNames.host(app, env));
      const templates = Object.values(host.findResources('AWS::EC2::LaunchTemplate'));
      expect(templates).toHaveLength(1);
      const data = templates[0].Properties.LaunchTemplateData;
      expect(data.BlockDeviceMappings.map((m: { DeviceName: string }) => m.DeviceName)).toEqual(['/dev/xvda']);
      const specs = data.TagSpecifications as { ResourceType: string; Tags: { Key: string; Value: string }[] }[];
      expect(specs.map((t) => t.ResourceType).sort()).toEqual(['instance', 'volume']);
      for (const spec of specs) expect(tagsOf(spec.Tags)).toMatchObject({ app, env });
      // Data volumes (AWS::EC2::Volume) are taggable resources: the check above covers them in any stack.
      expect(tagPropertyOf('AWS::EC2::Volume')).toBe('Tags');
    },
  );
});
