import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cents } from '../../lib/cost/estimate';
import { PRICES, SPOT_PRICES } from '../../lib/cost/prices';
import { runReview } from '../../scripts/review/cli';
import { FULL_REPORT_ARTIFACT, MAX_COMMENT_CHARS, REVIEW_MARKER } from '../../scripts/review/comment';
import { sharedSynthDir } from '../helpers/synth';
import { type Scenario, scenario } from './scenario';

/*
 * Scenario fixtures: the shipped synth output changed the way pull requests change it, reviewed
 * by the command the workflow runs. Each test asserts the section a change lands in and its flag.
 */
function run(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runReview(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}
const reviewOf = (s: Scenario, ...flags: string[]) => run([sharedSynthDir, s.dir, ...flags]);

/** The text of section `n` (1 data at risk, 2 security, 3 cost, 4 everything else). */
function section(comment: string, n: 1 | 2 | 3 | 4): string {
  const start = comment.indexOf(`### ${n}. `);
  const end = n === 4 ? comment.length : comment.indexOf(`### ${n + 1}. `);
  expect(start).toBeGreaterThanOrEqual(0);
  return comment.slice(start, end);
}

const PROD_HOST = 'auraxis-prod-host';
const PROD_DATA = 'auraxis-prod-data';

describe('npm run review on identical output', () => {
  test('nothing at risk, no security changes, no cost change, exit 0', () => {
    const { code, out } = run([sharedSynthDir, sharedSynthDir]);
    expect(code).toBe(0);
    expect(out.startsWith(REVIEW_MARKER)).toBe(true);
    expect(section(out, 1)).toContain('Nothing that holds state is replaced, deleted or left unmanaged.');
    expect(section(out, 2)).toContain('No IAM, security-group, Kubernetes security or host-script changes.');
    expect(section(out, 3)).toMatch(/\| \*\*total\*\* \| \*\*(\d+\.\d\d)\*\* \| \*\*\1\*\* \| \*\*±0\.00\*\* \|/);
    expect(out).toContain('7 stacks unchanged. Filtered out: 0 changes that deploy nothing');
  });
});

describe("the reviewer's branch", () => {
  // prod instance type, backup retention, dev replicas, prod HPA max, prod Postgres egress to
  // 0.0.0.0/0, port 22 open to the world, s3:GetObject on *, a port opened in firewall.sh.
  const s = scenario();
  const launchTemplate = s.logicalId(PROD_HOST, 'AWS::EC2::LaunchTemplate');
  const group = s.logicalId(PROD_HOST, 'AWS::EC2::SecurityGroup');
  const bucket = s.logicalId(PROD_DATA, 'AWS::S3::Bucket');
  s.template(PROD_HOST, (t) => {
    t.Resources[launchTemplate].Properties.LaunchTemplateData.InstanceType = 't4g.medium';
    // The web rules are ingress resources of their own: the group has no inline list until this one.
    t.Resources[group].Properties.SecurityGroupIngress = t.Resources[group].Properties.SecurityGroupIngress ?? [];
    t.Resources[group].Properties.SecurityGroupIngress.push({ CidrIp: '0.0.0.0/0', Description: 'ssh', FromPort: 22, IpProtocol: 'tcp', ToPort: 22 });
    const policy = Object.values(t.Resources).find((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('InstanceRole'));
    policy?.Properties.PolicyDocument.Statement.push({ Action: 's3:GetObject', Effect: 'Allow', Resource: '*' });
    const firewall = Object.values(t.Resources).find((r) => r.Type === 'AWS::SSM::Document' && r.Properties.Name === 'auraxis-prod-firewall');
    const commands: string[] = firewall?.Properties.Content.mainSteps[0].inputs.runCommand;
    const at = commands.findIndex((l) => l.startsWith('FIREWALL_ALLOW=') || l.includes('FIREWALL_ALLOW:-'));
    commands[at] = commands[at].replace('443/tcp', '443/tcp 8443/tcp');
  });
  s.template(PROD_DATA, (t) => {
    t.Resources[bucket].Properties.LifecycleConfiguration.Rules[0].ExpirationInDays = 120;
  });
  s.manifests('dev', (objects) => {
    objects.find((o) => o.kind === 'Deployment').spec.replicas = 2;
  });
  s.manifests('prod', (objects) => {
    objects.find((o) => o.kind === 'HorizontalPodAutoscaler').spec.maxReplicas = 10;
    const allow = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'auraxis-allow');
    const postgres = allow.spec.egress.find((e: { ports: { port: number }[] }) => e.ports[0].port === 5432);
    postgres.to = [{ ipBlock: { cidr: '0.0.0.0/0' } }];
  });
  const { code, out } = reviewOf(s);

  test('the firewall document line exists (the scenario really changed the script)', () => {
    expect(out).toContain('#### Host scripts (SSM documents)');
  });

  test('security: the port-22 rule and the IAM wildcard as table rows, flagged', () => {
    const security = section(out, 2);
    expect(security).toMatch(
      /\| auraxis-prod-host \| \+ \| \$\{HostSecurityGroup[0-9A-F]+\.GroupId\} \| In \| TCP 22 \| Everyone \(IPv4\) \| ⚠ open to the internet \|/,
    );
    expect(security).toMatch(
      /\| auraxis-prod-host \| \+ \| \* \| Allow \| s3:GetObject \| AWS:\$\{HostInstanceRole[0-9A-F]+\} \| {2}\| ⚠ any resource \(`\*`\) \|/,
    );
  });

  test('security: the widened NetworkPolicy egress as a unified diff of its YAML', () => {
    const security = section(out, 2);
    expect(security).toContain('**dist/prod** `NetworkPolicy auraxis-prod/auraxis-allow`');
    expect(security).toMatch(/\n- +cidr: 10\.20\.16\.0\/20\n\+ +cidr: 0\.0\.0\.0\/0\n/);
  });

  test('security: the port opened in firewall.sh as a diff of the script text', () => {
    const scripts = section(out, 2).slice(section(out, 2).indexOf('#### Host scripts'));
    expect(scripts).toContain('**auraxis-prod-host** `auraxis-prod-firewall`');
    expect(scripts).toMatch(/\n-.*443\/tcp"?.*\n\+.*443\/tcp 8443\/tcp/);
    expect(scripts).not.toContain('"runCommand"');
  });

  test('cost: the instance-type delta, derived from the price table', () => {
    const delta = cents(730 * PRICES.ec2Hourly['t4g.medium']) - cents(730 * PRICES.ec2Hourly['t4g.small']);
    const cost = section(out, 3);
    expect(cost).toContain(
      `| prod | EC2 t4g.small on-demand (730.0 h × $${PRICES.ec2Hourly['t4g.small']}) | EC2 t4g.medium on-demand (730.0 h × $${PRICES.ec2Hourly['t4g.medium']}) | +${delta.toFixed(2)} |`,
    );
    expect(cost).toContain('exceeds the monthly budget of USD 10.00');
  });

  test('the backup retention change reads as 90 → 120, the replica and HPA changes as YAML lines, under everything else', () => {
    const rest = section(out, 4);
    expect(rest).toMatch(/\[~\] AWS::S3::Bucket BackupsBucket[0-9A-F]+\n[\s\S]*\[-\] "ExpirationInDays": 90,\n *\[\+\] "ExpirationInDays": 120,/);
    expect(section(out, 3)).toContain('| prod | S3 backups (96.0 a day, kept 90 d) (OnCalendar *:0/15: ');
    expect(section(out, 3)).toContain('| S3 backups (96.0 a day, kept 120 d) (OnCalendar *:0/15: ');
    expect(rest).toMatch(/<summary>dist\/dev: 1 object change<\/summary>[\s\S]*- {2}replicas: 1\n\+ {2}replicas: 2/);
    expect(rest).toMatch(/- {2}maxReplicas: 6\n\+ {2}maxReplicas: 10/);
  });

  test('an instance-type change is a new launch template version: nothing that holds state is replaced, not gated', () => {
    expect(section(out, 1)).toContain('Nothing that holds state is replaced, deleted or left unmanaged.');
    expect(code).toBe(0);
  });

  test('cost: a purchase-option change (prod to Spot) shows as its own line, on-demand → Spot, with the Spot price and its date', () => {
    const spot = scenario();
    const asg = spot.logicalId(PROD_HOST, 'AWS::AutoScaling::AutoScalingGroup');
    spot.template(PROD_HOST, (t) => {
      const props = t.Resources[asg].Properties;
      props.MixedInstancesPolicy = {
        LaunchTemplate: { LaunchTemplateSpecification: props.LaunchTemplate, Overrides: [{ InstanceType: 't4g.small' }, { InstanceType: 'c6g.medium' }] },
        InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'capacity-optimized' },
      };
      delete props.LaunchTemplate;
    });
    const cost = section(reviewOf(spot).out, 3);
    const onDemand = cents(730 * PRICES.ec2Hourly['t4g.small']);
    const spotUsd = cents(730 * SPOT_PRICES.hourly['us-east-1']['t4g.small']);
    expect(cost).toContain(
      `| prod | EC2 t4g.small on-demand (730.0 h × $${PRICES.ec2Hourly['t4g.small']}) | EC2 t4g.small Spot (730.0 h × $${SPOT_PRICES.hourly['us-east-1']['t4g.small']} (Spot us-east-1, ${SPOT_PRICES.recorded}; up to $${SPOT_PRICES.hourly['us-east-1']['c6g.medium']} if EC2 picks c6g.medium of t4g.small, c6g.medium)) | −${(onDemand - spotUsd).toFixed(2)} |`,
    );
  });
});

describe('state', () => {
  test('renaming a bucket replaces it (data at risk, gated); deleting a log group that is not retained deletes it', () => {
    const s = scenario();
    const bucket = s.logicalId(PROD_DATA, 'AWS::S3::Bucket');
    s.template(PROD_DATA, (t) => {
      t.Resources[bucket].Properties.BucketName = 'auraxis-prod-backups-renamed';
      const [logId] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::Logs::LogGroup') as [string, unknown];
      t.Resources[logId].DeletionPolicy = 'Delete';
    });
    const deletedFrom = scenario(s.dir);
    deletedFrom.template(PROD_DATA, (t) => {
      const [logId] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::Logs::LogGroup') as [string, unknown];
      delete t.Resources[logId];
    });
    const { code, out } = run([s.dir, deletedFrom.dir]);
    expect(code).toBe(3);
    expect(section(out, 1)).toMatch(/\| ⛔ \| auraxis-prod-data \| AWS::Logs::LogGroup ContainerLogs[0-9A-F]+ \| deleted \| the log events kept is lost \|/);
    const renamed = run([sharedSynthDir, s.dir]);
    expect(section(renamed.out, 1)).toMatch(
      /\| ⛔ \| auraxis-prod-data \| AWS::S3::Bucket BackupsBucket[0-9A-F]+ \| replaced \| BucketName requires replacement/,
    );
  });

  test('removing a retained log group leaves it in the account: listed, not gated', () => {
    const s = scenario();
    s.template(PROD_DATA, (t) => {
      const [logId] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::Logs::LogGroup') as [string, unknown];
      delete t.Resources[logId];
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(0);
    expect(section(out, 1)).toMatch(
      /\| ℹ \| auraxis-prod-data \| AWS::Logs::LogGroup ContainerLogs[0-9A-F]+ \| removed from the stack, kept in the account \| DeletionPolicy Retain/,
    );
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
    expect(section(out, 1)).toContain('| ⛔ | dist/prod | PersistentVolumeClaim auraxis-prod/uploads | deleted | pruned by the GitOps controller');
  });

  test("renaming the app: the old stacks are 'no longer managed', not deleted, and the gate stays open", () => {
    const s = scenario();
    for (const stack of [
      'auraxis-dev-data',
      'auraxis-dev-host',
      'auraxis-dev-health',
      'auraxis-prod-data',
      'auraxis-prod-host',
      'auraxis-prod-health',
      'auraxis-account-765480282720',
    ]) {
      s.renameStack(stack, stack.replace('auraxis', 'orbis'));
    }
    const { code, out } = reviewOf(s);
    expect(code).toBe(0);
    const data = section(out, 1);
    expect(data).toContain(
      "| ℹ | auraxis-prod-data | stack auraxis-prod-data | no longer managed | not in the head's app: it stays deployed with its 5 stateful resources until `cdk destroy auraxis-prod-data` |",
    );
    expect(data.match(/no longer managed \|/g)).toHaveLength(7);
    expect(data).not.toContain('| deleted |');
    expect(out).toContain('0 stacks changed, 7 new, 7 no longer managed');
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
      const launchTemplate = Object.values(t.Resources).find((r) => r.Type === 'AWS::EC2::LaunchTemplate');
      if (launchTemplate) launchTemplate.Metadata = { 'aws:asset:path': `asset.${'a'.repeat(64)}` };
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(0);
    expect(out).toContain('7 stacks unchanged. Filtered out: 3 changes that deploy nothing (CDK metadata, asset hashes).');
    expect(section(out, 4)).not.toContain('<details>');
  });
});

describe('size', () => {
  test('20 new environments: under 60,000 characters, the collapsed details cut first, the cut named', () => {
    const s = scenario();
    for (let i = 1; i <= 20; i++) {
      const env = `qa${i}`;
      for (const kind of ['data', 'host', 'health']) s.copyStack(`auraxis-dev-${kind}`, `auraxis-${env}-${kind}`, env);
      s.copyManifests('dev', env);
    }
    const full = join(tmpdir(), `review-full-${process.pid}.md`);
    const { code, out } = reviewOf(s, '--full', full);
    expect(code).toBe(0);
    const whole = readFileSync(full, 'utf8');
    expect(whole.length).toBeGreaterThan(MAX_COMMENT_CHARS);
    expect(out.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
    expect(out).toContain("✂ **Cut to fit GitHub's comment limit** (60,000 characters): the collapsed details of");
    expect(out).toContain(`the \`${FULL_REPORT_ARTIFACT}\` artifact of this workflow run`);
    expect(out).toContain('0 stacks changed, 60 new, 0 no longer managed');
    // What matters stays: the cost of every new environment.
    // Each qa environment is a clone of dev: it costs what dev costs.
    const dev = /\| dev \| [\d.]+ \| (\d+\.\d\d) \|/.exec(section(out, 3))?.[1];
    expect(dev).toBeDefined();
    for (let i = 1; i <= 20; i++) expect(section(out, 3)).toContain(`| qa${i} | 0.00 | ${dev} | +${dev} |`);
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
