import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cents } from '../../lib/cost/estimate';
import { PRICES, SPOT_PRICES } from '../../lib/cost/prices';
import { ACKNOWLEDGE_LABEL, REVIEW_MARKER } from '../../scripts/review/comment';
import { sharedSynthDir } from '../helpers/synth';
import { PROD_DATA, PROD_HOST, reviewOf, rows, run, section } from './helpers';
import { scenario } from './scenario';

/*
 * Scenario fixtures: the shipped synth output changed the way pull requests change it, reviewed
 * by the command the workflow runs. Each test asserts the section a change lands in, its judgment
 * and the exit code (3: the check fails until acknowledged).
 */

/** The data-at-risk rows whose resource cell matches. */
const dataRows = (out: string, resource: RegExp) => rows(section(out, 1)).filter((r) => resource.test(r[3] ?? ''));

describe('npm run review on identical output (no-op)', () => {
  test('nothing at risk, no security changes, no cost change, every section present, exit 0', () => {
    const { code, out } = run([sharedSynthDir, sharedSynthDir]);
    expect(code).toBe(0);
    expect(out.startsWith(REVIEW_MARKER)).toBe(true);
    expect(out).toContain('**Data at risk: 0 changes** · **Security: 0 changes** · **Cost: ±0.00 USD a month**');
    expect(section(out, 1)).toContain('Nothing that holds data, the host or its address is replaced, deleted, moved or left unmanaged.');
    expect(section(out, 2)).toContain('No IAM, network, Kubernetes security, acknowledgement or host-script changes.');
    expect(section(out, 3)).toMatch(/\| \*\*total\*\* \| \*\*(\d+\.\d\d)\*\* \| \*\*\1\*\* \| \*\*±0\.00\*\* \|/);
    expect(out).toContain('8 stacks unchanged. Filtered out: 0 changes that deploy nothing');
  });

  test('says it compared two commits, not the account, and names the head assembly by its hash', () => {
    const { out } = run([sharedSynthDir, sharedSynthDir, '--base-ref', 'abc1234', '--head-ref', 'def5678']);
    expect(out).toContain(
      'Compared the synth output of two commits, base `abc1234` and head `def5678`, not what is deployed: `npm run ops -- plan --env <env>`',
    );
    expect(out).toMatch(/Head cloud assembly: `sha256:[0-9a-f]{64}`/);
  });
});

describe('data at risk, from what CloudFormation does', () => {
  test('a data volume renamed (DeletionPolicy Snapshot): the old one deleted after a snapshot, the new one empty, gated', () => {
    const s = scenario();
    const volume = s.logicalId(PROD_DATA, 'AWS::EC2::Volume');
    s.renameResource(PROD_DATA, volume, 'DataVolumeRenamed1234');
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    const [row] = dataRows(out, /AWS::EC2::Volume/);
    expect(row).toEqual([
      '⛔',
      'prod',
      PROD_DATA,
      `AWS::EC2::Volume ${volume} → DataVolumeRenamed1234`,
      'renamed: the old one deleted after a snapshot; the new one starts empty',
      expect.stringContaining(
        `DataVolumeRenamed1234 starts empty and is the one used from now on; the old ${volume}: DeletionPolicy Snapshot: CloudFormation takes a final snapshot, then deletes it; the data on the volume survives only in that snapshot`,
      ),
    ]);
    expect(out).not.toContain('kept in the account — the data on the volume stays');
  });

  test('a data volume removed with DeletionPolicy Snapshot is deleted after a snapshot (cloudformation-diff: destroy), gated', () => {
    const s = scenario();
    const volume = s.logicalId(PROD_DATA, 'AWS::EC2::Volume');
    s.template(PROD_DATA, (t) => {
      delete t.Resources[volume];
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    expect(dataRows(out, /AWS::EC2::Volume/)).toEqual([
      [
        '⛔',
        'prod',
        PROD_DATA,
        `AWS::EC2::Volume ${volume}`,
        'deleted after a snapshot',
        expect.stringMatching(/^DeletionPolicy Snapshot: CloudFormation takes a final snapshot, then deletes it/),
      ],
    ]);
  });

  test('a data volume shrunk (20 → 10 GiB) fails the deploy: gated, not a saving', () => {
    const s = scenario();
    const volume = s.logicalId(PROD_DATA, 'AWS::EC2::Volume');
    s.template(PROD_DATA, (t) => {
      t.Resources[volume].Properties.Size = 10;
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    expect(dataRows(out, /AWS::EC2::Volume/)).toEqual([
      [
        '⛔',
        'prod',
        PROD_DATA,
        `AWS::EC2::Volume ${volume}`,
        'update fails: a volume cannot shrink',
        'Size 20 → 10 GiB: EBS cannot shrink a volume, so the deploy fails and rolls back (keep the size at 20 GiB or more; to move to a smaller volume, restore a backup onto a new one)',
      ],
    ]);
  });

  test('t4g.small → t3.small changes the image of the launch template: the group launches its next instance from the new version (LatestVersionNumber), ⚠, not gated', () => {
    const s = scenario();
    const group = s.logicalId(PROD_HOST, 'AWS::AutoScaling::AutoScalingGroup');
    const template = s.logicalId(PROD_HOST, 'AWS::EC2::LaunchTemplate');
    s.template(PROD_HOST, (t) => {
      const data = t.Resources[template].Properties.LaunchTemplateData;
      data.InstanceType = 't3.small';
      data.ImageId = data.ImageId.replace('arm64', 'x86_64');
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(0);
    const [row] = dataRows(out, /AWS::AutoScaling::AutoScalingGroup/);
    expect(row.slice(0, 5)).toEqual(['⚠', 'prod', PROD_HOST, `AWS::AutoScaling::AutoScalingGroup ${group}`, 'next instance differs']);
    expect(row[5]).toContain(
      `the group's launch template changes (a new version of launch template ${template} (LaunchTemplateData.ImageId, LaunchTemplateData.InstanceType changed)); no UpdatePolicy: the running instances keep the old version, and the next instance the group launches (scale-out, a failed health check, an instance refresh) uses the new one`,
    );
    expect(row[5]).toMatch(
      /Data volume DataVolume[0-9A-F]+ \(auraxis-prod-data\) is in the same zone \(us-east-1a\): the new instance attaches it at boot, its data kept/,
    );
    expect(row[5]).not.toContain('root volume (PostgreSQL');
  });

  test('the same launch template change with a rolling UpdatePolicy replaces the running instance on deploy: ⛔, gated', () => {
    const s = scenario();
    const group = s.logicalId(PROD_HOST, 'AWS::AutoScaling::AutoScalingGroup');
    const template = s.logicalId(PROD_HOST, 'AWS::EC2::LaunchTemplate');
    s.template(PROD_HOST, (t) => {
      t.Resources[group].UpdatePolicy = { ...t.Resources[group].UpdatePolicy, AutoScalingRollingUpdate: { MinInstancesInService: 0 } };
      t.Resources[template].Properties.LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit = 2;
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    const [row] = dataRows(out, /AWS::AutoScaling::AutoScalingGroup/);
    expect(row.slice(0, 5)).toEqual(['⛔', 'prod', PROD_HOST, `AWS::AutoScaling::AutoScalingGroup ${group}`, 'instances replaced']);
    expect(row[5]).toContain('(LaunchTemplateData.MetadataOptions changed)');
    expect(row[5]).toContain('UpdatePolicy AutoScalingRollingUpdate: CloudFormation terminates the running instances batch by batch');
  });

  test('a launch template change alone reaches the group through its version: listed, not "unchanged"', () => {
    const s = scenario();
    const template = s.logicalId(PROD_HOST, 'AWS::EC2::LaunchTemplate');
    s.template(PROD_HOST, (t) => {
      t.Resources[template].Properties.LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit = 2;
    });
    const { out } = reviewOf(s);
    const [row] = dataRows(out, /AWS::AutoScaling::AutoScalingGroup/);
    expect(row[4]).toBe('next instance differs');
    expect(row[5]).toContain('(LaunchTemplateData.MetadataOptions changed)');
  });

  test('an instance-type change alone is a new launch template version: ⚠ next instance, not gated; the cost delta from the price table', () => {
    const s = scenario();
    const template = s.logicalId(PROD_HOST, 'AWS::EC2::LaunchTemplate');
    s.template(PROD_HOST, (t) => {
      t.Resources[template].Properties.LaunchTemplateData.InstanceType = 't4g.medium';
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(0);
    const [row] = dataRows(out, /AWS::AutoScaling::AutoScalingGroup/);
    expect(row.slice(0, 2)).toEqual(['⚠', 'prod']);
    expect(row[4]).toBe('next instance differs');
    expect(row[5]).toMatch(/\(LaunchTemplateData\.InstanceType changed\)/);
    const delta = cents(730 * PRICES.ec2Hourly['t4g.medium']) - cents(730 * PRICES.ec2Hourly['t4g.small']);
    expect(section(out, 3)).toContain(
      `| prod | EC2 t4g.small on-demand (730.0 h × $${PRICES.ec2Hourly['t4g.small']}) | EC2 t4g.medium on-demand (730.0 h × $${PRICES.ec2Hourly['t4g.medium']}) | +${delta.toFixed(2)} |`,
    );
  });

  test('cost: a purchase-option change (prod to Spot) shows as its own line, on-demand → Spot, with the Spot price and its date', () => {
    const s = scenario();
    const asg = s.logicalId(PROD_HOST, 'AWS::AutoScaling::AutoScalingGroup');
    s.template(PROD_HOST, (t) => {
      const props = t.Resources[asg].Properties;
      props.MixedInstancesPolicy = {
        LaunchTemplate: { LaunchTemplateSpecification: props.LaunchTemplate, Overrides: [{ InstanceType: 't4g.small' }, { InstanceType: 'c6g.medium' }] },
        InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'capacity-optimized' },
      };
      delete props.LaunchTemplate;
    });
    const cost = section(reviewOf(s).out, 3);
    const onDemand = cents(730 * PRICES.ec2Hourly['t4g.small']);
    const spotUsd = cents(730 * SPOT_PRICES.hourly['us-east-1']['t4g.small']);
    expect(cost).toContain(
      `| prod | EC2 t4g.small on-demand (730.0 h × $${PRICES.ec2Hourly['t4g.small']}) | EC2 t4g.small Spot (730.0 h × $${SPOT_PRICES.hourly['us-east-1']['t4g.small']} (Spot us-east-1, ${SPOT_PRICES.recorded}; up to $${SPOT_PRICES.hourly['us-east-1']['c6g.medium']} if EC2 picks c6g.medium of t4g.small, c6g.medium)) | −${(onDemand - spotUsd).toFixed(2)} |`,
    );
  });

  test("an availability-zone change: the volume update fails, the group's subnet moves so its instance is replaced and cannot attach its data volume; acknowledged, it passes", () => {
    const s = scenario();
    const group = s.logicalId(PROD_HOST, 'AWS::AutoScaling::AutoScalingGroup');
    const subnet = s.logicalId(PROD_HOST, 'AWS::EC2::Subnet');
    const volume = s.logicalId(PROD_DATA, 'AWS::EC2::Volume');
    s.template(PROD_HOST, (t) => {
      t.Resources[subnet].Properties.AvailabilityZone = 'us-east-1b';
    });
    s.template(PROD_DATA, (t) => {
      t.Resources[volume].Properties.AvailabilityZone = 'us-east-1b';
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    expect(dataRows(out, /AWS::EC2::Volume/)).toEqual([
      [
        '⛔',
        'prod',
        PROD_DATA,
        `AWS::EC2::Volume ${volume}`,
        'update fails: a volume cannot change zone',
        expect.stringMatching(/^AvailabilityZone us-east-1a → us-east-1b: EBS cannot move a volume/),
      ],
    ]);
    const groupRows = dataRows(out, /AWS::AutoScaling::AutoScalingGroup/);
    expect(groupRows.map((r) => [r[0], r[3], r[4]])).toEqual([
      ['⛔', `AWS::AutoScaling::AutoScalingGroup ${group}`, 'instances replaced'],
      ['⛔', `AWS::AutoScaling::AutoScalingGroup ${group}`, 'cannot attach its data volume'],
    ]);
    expect(groupRows[0][5]).toMatch(/^the group's subnet moves from us-east-1a to us-east-1b \(a subnet's AvailabilityZone requires replacement\)/);
    expect(groupRows[1][5]).toBe(
      `the group's instance moves to us-east-1b; data volume ${volume} (${PROD_DATA}) stays in us-east-1a, since a volume cannot change zone: the new host starts without its data`,
    );
    expect(section(out, 1)).toContain(`the pull request carries the \`${ACKNOWLEDGE_LABEL}\` label, added for this head commit`);
    const acknowledged = reviewOf(s, '--acknowledged');
    expect(acknowledged.code).toBe(0);
    expect(section(acknowledged.out, 1)).toContain(`**Acknowledged** with the \`${ACKNOWLEDGE_LABEL}\` label for this head commit`);
  });

  test('the group moved to another zone alone (the volume left behind): the instance cannot attach its data volume, gated', () => {
    const s = scenario();
    const subnet = s.logicalId(PROD_HOST, 'AWS::EC2::Subnet');
    s.template(PROD_HOST, (t) => {
      t.Resources[subnet].Properties.AvailabilityZone = 'us-east-1c';
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    expect(dataRows(out, /AWS::AutoScaling::AutoScalingGroup/).map((r) => r[4])).toEqual(['instances replaced', 'cannot attach its data volume']);
  });

  test('a backups bucket renamed (BucketName): replaced by a new, empty bucket, the old one kept with the backups, gated', () => {
    const s = scenario();
    const bucket = s.logicalId(PROD_DATA, 'AWS::S3::Bucket');
    s.template(PROD_DATA, (t) => {
      t.Resources[bucket].Properties.BucketName = 'auraxis-prod-backups-renamed';
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    expect(dataRows(out, /AWS::S3::Bucket/)).toEqual([
      [
        '⛔',
        'prod',
        PROD_DATA,
        `AWS::S3::Bucket ${bucket}`,
        'replaced by a new, empty one',
        'BucketName requires replacement: the new one starts empty and is the one used from now on; the old one: UpdateReplacePolicy Retain: CloudFormation leaves it in the account, unmanaged, with the objects in the bucket',
      ],
    ]);
  });

  test('a backups bucket construct renamed (new logical id): the old one kept, the new one empty, gated; the host scripts name the new bucket as text', () => {
    const s = scenario();
    const bucket = s.logicalId(PROD_DATA, 'AWS::S3::Bucket');
    s.renameResource(PROD_DATA, bucket, 'BackupsBucketRenamed99');
    s.template(PROD_HOST, (t) => {
      const text = JSON.stringify(t).split(`PublishOutputRef${bucket}`).join('PublishOutputRefBackupsBucketRenamed99');
      Object.assign(t, JSON.parse(text));
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    expect(dataRows(out, /AWS::S3::Bucket/)).toEqual([
      [
        '⛔',
        'prod',
        PROD_DATA,
        `AWS::S3::Bucket ${bucket} → BackupsBucketRenamed99`,
        'renamed: the old one kept, unmanaged; the new one starts empty',
        expect.any(String),
      ],
    ]);
    const scripts = section(out, 2).slice(section(out, 2).indexOf('#### Host scripts'));
    expect(scripts).toContain('PublishOutputRefBackupsBucketRenamed99');
    expect(out).not.toContain('[object Object]');
    expect(scripts).not.toMatch(/```diff\n```/);
  });

  test('a log group renamed (LogGroupName): the host logs to a new, empty group, the old one kept; a log group removed without Retain is deleted', () => {
    const s = scenario();
    const [logId] = Object.entries(JSON.parse(readFileSync(join(s.dir, 'cdk.out', `${PROD_DATA}.template.json`), 'utf8')).Resources).find(
      ([, r]) => (r as { Type: string }).Type === 'AWS::Logs::LogGroup',
    ) as [string, unknown];
    s.template(PROD_DATA, (t) => {
      t.Resources[logId].Properties.LogGroupName = '/auraxis/prod/containers-v2';
    });
    const renamed = reviewOf(s);
    expect(renamed.code).toBe(3);
    expect(dataRows(renamed.out, /AWS::Logs::LogGroup/).map((r) => r.slice(0, 5))).toEqual([
      ['⛔', 'prod', PROD_DATA, `AWS::Logs::LogGroup ${logId}`, 'replaced by a new, empty one'],
    ]);

    const deleting = scenario();
    deleting.template(PROD_DATA, (t) => {
      t.Resources[logId].DeletionPolicy = 'Delete';
    });
    const deleted = scenario(deleting.dir);
    deleted.template(PROD_DATA, (t) => {
      delete t.Resources[logId];
    });
    const { code, out } = run([deleting.dir, deleted.dir]);
    expect(code).toBe(3);
    expect(dataRows(out, /AWS::Logs::LogGroup/)).toEqual([
      ['⛔', 'prod', PROD_DATA, `AWS::Logs::LogGroup ${logId}`, 'deleted', 'DeletionPolicy Delete: CloudFormation deletes it; the log events kept is lost'],
    ]);
  });

  test('removing a retained log group leaves it in the account: listed, not gated', () => {
    const s = scenario();
    s.template(PROD_DATA, (t) => {
      const [logId] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::Logs::LogGroup') as [string, unknown];
      delete t.Resources[logId];
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(0);
    expect(dataRows(out, /AWS::Logs::LogGroup/).map((r) => r.slice(0, 5))).toEqual([
      ['ℹ', 'prod', PROD_DATA, expect.stringMatching(/^AWS::Logs::LogGroup ContainerLogs[0-9A-F]+$/), 'removed from the stack, kept in the account'],
    ]);
  });

  test('a PersistentVolumeClaim pruned from the manifests is data at risk', () => {
    const base = scenario();
    base.manifests('prod', (objects) => {
      objects.push({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'uploads', namespace: 'auraxis-prod' },
        spec: { resources: { requests: { storage: '1Gi' } } },
      });
    });
    const { code, out } = run([base.dir, sharedSynthDir]);
    expect(code).toBe(3);
    expect(section(out, 1)).toContain('| ⛔ | prod | dist/prod | PersistentVolumeClaim auraxis-prod/uploads | deleted | pruned by the GitOps controller');
  });

  test("renaming the app: the old stacks are 'no longer managed', not deleted, and the gate stays open", () => {
    const s = scenario();
    for (const stack of [
      'auraxis-dev-data',
      'auraxis-dev-host',
      'auraxis-dev-health',
      PROD_DATA,
      PROD_HOST,
      'auraxis-prod-health',
      'auraxis-account-765480282720',
      'auraxis-account-444455556666',
    ]) {
      s.renameStack(stack, stack.replace('auraxis', 'orbis'));
    }
    const { code, out } = reviewOf(s);
    expect(code).toBe(0);
    const data = section(out, 1);
    // The same change in dev and prod is one row naming both environments.
    expect(data).toContain(
      "| ℹ | dev, prod | auraxis-<env>-data | stack auraxis-<env>-data | no longer managed | not in the head's app: it stays deployed, with its 5 resources that hold data, until `cdk destroy auraxis-<env>-data` |",
    );
    expect(data.match(/\| no longer managed \|/g)).toHaveLength(5);
    expect(data).not.toContain('| deleted |');
    expect(out).toContain('0 stacks changed, 8 new, 8 no longer managed');
  });
});

describe('environments added and removed', () => {
  // The head's config drops dev and adds staging (dev's stacks and manifests under a new name).
  const s = scenario();
  for (const kind of ['data', 'host', 'health']) s.copyStack(`auraxis-dev-${kind}`, `auraxis-staging-${kind}`, 'staging');
  s.copyManifests('dev', 'staging');
  for (const kind of ['data', 'host', 'health']) s.removeStack(`auraxis-dev-${kind}`);
  s.damage('dist/dev');
  s.environments(['prod', 'staging']);
  const { out } = reviewOf(s);

  test('the removed environment is reported once, its stacks left deployed, and its cost is not a saving', () => {
    expect(dataRows(out, /stacks?:/)).toEqual([
      [
        '⚠',
        'dev',
        'environment dev',
        '3 stacks: auraxis-dev-data, auraxis-dev-health, auraxis-dev-host',
        'no longer deployed by this pipeline',
        "the head's config has no environment dev: its stacks stay deployed, with their data and their cost, until someone runs `npx cdk destroy auraxis-dev-data auraxis-dev-health auraxis-dev-host`",
      ],
    ]);
    expect(section(out, 1)).not.toContain('| stack auraxis-dev-data |');
    const cost = rows(section(out, 3));
    const dev = cost.find((r) => r[0] === 'dev');
    expect(dev?.slice(2)).toEqual(['—', 'no longer deployed by this pipeline, stacks stay until destroyed (not a saving)']);
    const staging = cost.find((r) => r[0] === 'staging');
    expect(staging?.[1]).toBe('0.00');
    expect(staging?.[3]).toBe(`+${staging?.[2]}`);
    expect(out).toContain('Environments no longer in the config: dev (no longer deployed by this pipeline; their stacks stay until destroyed).');
    expect(out).toContain('New environments: staging (the deploy workflow deploys them after dev).');
    // The summary's cost change is staging's cost, not staging minus dev.
    expect(out).toContain(`**Cost: +${staging?.[2]} USD a month**`);
  });
});

describe('noise', () => {
  test('construct paths and asset hashes that change alone are counted in one line, not shown', () => {
    const s = scenario();
    const bucket = s.logicalId(PROD_DATA, 'AWS::S3::Bucket');
    s.template(PROD_DATA, (t) => {
      t.Resources[bucket].Metadata = { 'aws:cdk:path': 'auraxis-prod-data/Backups/Bucket/Resource' };
    });
    s.template(PROD_HOST, (t) => {
      t.Resources.CDKMetadata = { Type: 'AWS::CDK::Metadata', Properties: { Analytics: 'v2:deflate64:abc' } };
      t.Resources[s.logicalId(PROD_HOST, 'AWS::EC2::LaunchTemplate')].Metadata = { 'aws:asset:path': `asset.${'a'.repeat(64)}` };
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(0);
    expect(out).toContain('8 stacks unchanged. Filtered out: 3 changes that deploy nothing (CDK metadata, asset hashes).');
    expect(section(out, 4)).not.toContain('<details>');
  });
});

describe('command line', () => {
  test('--help prints the usage on stdout and exits 0', () => {
    const { code, out, err } = run(['--help']);
    expect([code, err]).toEqual([0, '']);
    expect(out).toMatch(/^usage: npm run review -- <base-synth-dir> <head-synth-dir>/);
  });

  test('an unknown flag is one line on stderr, exit 2', () => {
    const { code, out, err } = run([sharedSynthDir, sharedSynthDir, '--bogus']);
    expect([code, out]).toEqual([2, '']);
    expect(err).toBe(
      "Unknown option '--bogus'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--bogus\" (see npm run review -- --help)\n",
    );
  });

  test('a missing base directory is one clear line and exit 2, never "everything added"', () => {
    const missing = join(tmpdir(), 'no-such-synth-dir');
    expect(existsSync(missing)).toBe(false);
    const { code, out, err } = run([missing, sharedSynthDir]);
    expect([code, out]).toEqual([2, '']);
    expect(err).toBe(`base directory ${missing} does not exist: run \`npm run synth -- --out ${missing}\` on the base commit first\n`);
  });

  test('one directory only is a usage error', () => {
    expect(run([sharedSynthDir]).code).toBe(2);
  });
});
