import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FULL_REPORT_ARTIFACT, GITHUB_COMMENT_LIMIT, MAX_COMMENT_CHARS } from '../../scripts/review/comment';
import { rows, run, section } from './helpers';
import { type Scenario, scenario } from './scenario';

/*
 * Bounded and complete: 20 environments, each with its own widening (an IAM statement and a port)
 * and a large host-script change, and one identical Kubernetes change in all of them. The comment
 * stays under GitHub's limit, keeps every section, keeps every judged security row and cost row
 * (the more important parts get the room first), shows the identical change once with its 20
 * environments, and says what was left out and where the full report is.
 */
const ENVS = Array.from({ length: 20 }, (_, i) => `qa${i + 1}`);

function withEnvironments(s: Scenario): void {
  s.batch(() => {
    for (const env of ENVS) {
      for (const kind of ['data', 'host', 'health']) s.copyStack(`auraxis-dev-${kind}`, `auraxis-${env}-${kind}`, env);
      s.copyManifests('dev', env);
    }
  });
}

const base = scenario();
withEnvironments(base);
const head = scenario(base.dir);
head.batch(() => {
  ENVS.forEach((env, i) => {
    head.template(`auraxis-${env}-host`, (t) => {
      const group = Object.values(t.Resources).find((r) => r.Type === 'AWS::EC2::SecurityGroup');
      if (group) group.Properties.SecurityGroupIngress = group.Properties.SecurityGroupIngress ?? [];
      group?.Properties.SecurityGroupIngress.push({ CidrIp: '0.0.0.0/0', FromPort: 8001 + i, IpProtocol: 'tcp', ToPort: 8001 + i });
      Object.values(t.Resources)
        .find((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('InstanceRole'))
        ?.Properties.PolicyDocument.Statement.push({ Action: 's3:Get*', Effect: 'Allow', Resource: `arn:aws:s3:::${env}-exports/*` });
      const deploy = Object.values(t.Resources).find((r) => r.Type === 'AWS::SSM::Document' && String(r.Properties.Name).endsWith('-deploy'));
      deploy?.Properties.Content.mainSteps[0].inputs.runCommand.push(
        ...Array.from({ length: 150 }, (_, n) => `echo "change ${i} step ${n}: ${'x'.repeat(40)}"`),
      );
      t.Resources[head.logicalId(`auraxis-${env}-host`, 'AWS::EC2::LaunchTemplate')].Properties.LaunchTemplateData.InstanceType = 't4g.small';
      // The copies of dev launch Spot: the group's overrides decide the instance type it runs.
      const hostGroup = t.Resources[head.logicalId(`auraxis-${env}-host`, 'AWS::AutoScaling::AutoScalingGroup')];
      hostGroup.Properties.MixedInstancesPolicy.LaunchTemplate.Overrides = [{ InstanceType: 't4g.small' }];
    });
    head.manifests(env, (objects) => {
      objects.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].securityContext.capabilities.add = ['NET_BIND_SERVICE'];
    });
  });
});
const full = join(tmpdir(), `review-full-${process.pid}.md`);
const { code, out } = run([base.dir, head.dir, '--full', full]);
const whole = readFileSync(full, 'utf8');

test('the comment is under the limit though the full report is not', () => {
  expect(code).toBe(0);
  expect(whole.length).toBeGreaterThan(MAX_COMMENT_CHARS);
  expect(out.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
  expect(MAX_COMMENT_CHARS).toBeLessThan(GITHUB_COMMENT_LIMIT);
});

test('every section is present', () => {
  for (const heading of [
    '### 1. Data at risk',
    '### 2. Security',
    '#### IAM statements',
    '#### Security-group rules',
    '#### Kubernetes (',
    '#### Host scripts',
    '### 3. Cost',
    '### 4. Everything else',
  ])
    expect(out).toContain(heading);
});

test('every judged IAM and security-group row of the 20 environments is kept', () => {
  const security = section(out, 2);
  ENVS.forEach((env, i) => {
    expect(security).toContain(`| ⚠ | ${env} | auraxis-${env}-host |`);
    expect(security).toContain(`+ ingress TCP ${8001 + i} from Everyone (IPv4) | port ${8001 + i} open to the internet`);
    expect(security).toContain(`+ Allow s3:Get* on arn:aws:s3:::${env}-exports/* | wildcard action \`s3:get*\``);
  });
});

test('the identical Kubernetes change is one row naming its 20 environments, not 20 rows', () => {
  const k8s = rows(section(out, 2)).filter((r) => r[5] === 'container api adds capability NET_BIND_SERVICE');
  expect(k8s).toEqual([
    ['⚠', ENVS.join(', '), 'dist/<env>', 'Deployment auraxis-dev/auraxis', '~ pod template', 'container api adds capability NET_BIND_SERVICE'],
  ]);
});

test('every cost row is kept: each environment with its change', () => {
  const cost = rows(section(out, 3));
  for (const env of ENVS) expect(cost.find((r) => r[0] === env)?.[3]).toMatch(/^\+\d+\.\d\d$/);
  expect(cost.find((r) => r[0] === '**total**')).toBeDefined();
});

test('what gives way is the least important: the script diffs and the collapsed details, each counted, the full report named', () => {
  const note = out.slice(out.indexOf("✂ **Shortened to fit GitHub's comment limit**"));
  expect(note).toMatch(
    /^✂ \*\*Shortened to fit GitHub's comment limit\*\*: \d+ host-script diffs, (\d+ changed cost lines, )?20 collapsed stack and manifest details left out\./,
  );
  expect(note).not.toMatch(/IAM rows|Network rows|Kubernetes rows|cost rows|data-at-risk rows/);
  expect(note).toContain(`the full report is the \`${FULL_REPORT_ARTIFACT}\` artifact and the job summary`);
  expect(out).toMatch(/_… \d+ more collapsed stack and manifest details left out here/);
  // The full report has everything the comment left out.
  expect(whole).not.toContain('left out here');
  for (const i of ENVS.keys()) expect(whole).toContain(`change ${i} step 149`);
});
