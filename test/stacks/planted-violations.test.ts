import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { buildAwsApp } from '../../bin/build-apps';
import { cdkJsonContext } from '../../lib/config/config-file';
import { stackNames } from '../../lib/names';
import type { HostStack } from '../../lib/stacks/host-stack';
import { configWith } from '../helpers/config-fixtures';

/*
 * Positive controls for the app `bin/` builds (the one `npm run synth` and `cdk synth` run): plant
 * one violation per rule, the way a careless or malicious change would, and expect synth to fail
 * naming the rule and the planted resource. Deleting a plugin registration from `buildAwsApp`
 * (or acknowledging a finding too widely) makes these tests fail.
 */

const HOST = stackNames.host('auraxis', 'dev');
let outdir: string;
let thrown: unknown;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'planted-'));
  const app = buildAwsApp(
    configWith((c) => {
      c.environments = { dev: c.environments.dev };
    }),
    { context: cdkJsonContext(), outdir },
  );
  const host = app.node.findChild(HOST) as HostStack;
  // Rule 1: SSH open to the world on the host's own security group (its web rules acknowledged for EC23)...
  host.host.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22), 'planted');
  // ...and the whole internet in two halves, which EC23 does not see (no /0): only the project's rule does.
  host.host.securityGroup.addIngressRule(ec2.Peer.ipv4('0.0.0.0/1'), ec2.Port.tcp(5432), 'planted');
  host.host.securityGroup.addIngressRule(ec2.Peer.ipv4('128.0.0.0/1'), ec2.Port.tcp(5432), 'planted');
  // A web port from ::/0: allowed by the project's rule, but not acknowledged for EC23 (the
  // acknowledgements cover the host's own two web rules, not the group).
  host.host.securityGroup.addIngressRule(ec2.Peer.anyIpv6(), ec2.Port.tcp(80), 'planted');
  // Rule 2: a data-plane read on every resource, added to the instance role.
  host.host.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
  // Commands to every instance of the account, added to the instance role: the acknowledgement of
  // instance/* for ec2:AttachVolume sits on that statement's own policy, so it does not cover this.
  host.host.role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['ssm:SendCommand'], resources: [host.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })] }),
  );
  // Rule 3: a role anyone may assume.
  new iam.Role(host, 'PlantedOpenTrust', { assumedBy: new iam.AnyPrincipal() });
  // Rule 4: an OIDC trust matching any ref of the repository.
  new iam.Role(host, 'PlantedLooseOidc', {
    assumedBy: new iam.WebIdentityPrincipal('arn:aws:iam::765480282720:oidc-provider/token.actions.githubusercontent.com', {
      StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
      StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:auraxis/auraxis-infra:*' },
    }),
  });
  // Rule 5: PassRole on every role, added to the deploy role.
  host.deployRole.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: ['*'] }));
  // Rule 6: a role whose boundary was removed.
  const unbounded = new iam.Role(host, 'PlantedUnbounded', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  iam.PermissionsBoundary.of(unbounded).clear();
  try {
    app.synth();
  } catch (error) {
    thrown = error;
  }
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/**
 * `<rule> <construct path>` for every error synth printed: CDK prints one block per finding,
 * the construct path on one line and `Acknowledge with '<pack>::<rule>'` on the next.
 */
const violations = (): string[] =>
  [...String(thrown).matchAll(/^\s+(\S+) aws-cdk-lib\.\S+\n\s+Acknowledge with '[^:]+::([^']+)'/gm)].map((m) => `${m[2]} ${m[1]}`);

test('synth of the app bin/ builds fails on the planted violations, and says so', () => {
  expect(String(thrown)).toMatch(/^ValidationFailed/);
});

test.each([
  ['Gitops-WorldIngressOnlyWeb[Ingress::0.0.0.0/0:tcp:22-22]', `${HOST}/Host/SecurityGroup/Resource`],
  ['Gitops-WorldIngressOnlyWeb[Ingress::0.0.0.0/1:tcp:5432-5432]', `${HOST}/Host/SecurityGroup/Resource`],
  ['Gitops-WorldIngressOnlyWeb[Ingress::128.0.0.0/1:tcp:5432-5432]', `${HOST}/Host/SecurityGroup/Resource`],
  ['AwsSolutions-EC23', `${HOST}/Host/SecurityGroup/Resource`],
  ['Gitops-NoDataPlaneOnAnyResource[Action::s3:GetObject]', `${HOST}/Host/InstanceRole/DefaultPolicy/Resource`],
  ['Gitops-NoWildcardTrust[Principal::AWS:*]', `${HOST}/PlantedOpenTrust/Resource`],
  ['Gitops-OidcTrustExact[Condition::sub]', `${HOST}/PlantedLooseOidc/Resource`],
  ['Gitops-NoPassRoleOrAssumeRoleOnAnyResource[Action::iam:PassRole]', `${HOST}/DeployRole/Role/DefaultPolicy/Resource`],
  ['Gitops-RoleHasPermissionsBoundary', `${HOST}/PlantedUnbounded/Resource`],
  // The AWS Solutions pack is live too: the planted wildcards are new, unacknowledged findings.
  ['AwsSolutions-IAM5[Resource::*]', `${HOST}/Host/InstanceRole/DefaultPolicy/Resource`],
  ['AwsSolutions-IAM5[Resource::arn:aws:ec2:us-east-1:444455556666:instance/*]', `${HOST}/Host/InstanceRole/DefaultPolicy/Resource`],
  ['AwsSolutions-IAM5[Resource::*]', `${HOST}/DeployRole/Role/DefaultPolicy/Resource`],
])('%s names %s', (rule, path) => {
  expect(violations()).toContain(`${rule} ${path}`);
});

test('nothing but the planted resources is reported', () => {
  const planted = [
    'SecurityGroup/Resource',
    'InstanceRole/DefaultPolicy',
    'PlantedOpenTrust',
    'PlantedLooseOidc',
    'DeployRole/Role/DefaultPolicy',
    'PlantedUnbounded',
  ];
  expect(violations().filter((v) => !planted.some((p) => v.includes(p)))).toEqual([]);
});
