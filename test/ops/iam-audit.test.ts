import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { bootstrapNames, stackNames } from '../../lib/names';
import { readRole } from '../../scripts/ops/aws/iam-roles';
import { auditRole, type PolicyDocument, type RoleFacts } from '../../scripts/ops/commands/iam-audit';
import { shippedConfig } from '../helpers/config-fixtures';
import { shippedTemplate } from '../helpers/synth';

const I = 'token.actions.githubusercontent.com';
const SUB = `repo:auraxis/auraxis:environment:prod:ref:refs/heads/main:job_workflow_ref:auraxis/auraxis/.github/workflows/deploy-environment.yml@refs/heads/main`;
const BOUNDARY = 'arn:aws:iam::765480282720:policy/auraxis-prod-permissions-boundary';

const trust = (condition: Record<string, Record<string, string | string[]>>): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'sts:AssumeRoleWithWebIdentity',
      Principal: { Federated: `arn:aws:iam::765480282720:oidc-provider/${I}` },
      Condition: condition,
    },
  ],
});

const goodDeployRole: RoleFacts = {
  roleName: 'auraxis-prod-deploy',
  trustPolicy: trust({ StringEquals: { [`${I}:aud`]: 'sts.amazonaws.com', [`${I}:sub`]: SUB } }),
  inlinePolicies: [
    {
      name: 'deploy',
      document: {
        Statement: [
          { Effect: 'Allow', Action: 'ssm:SendCommand', Resource: ['arn:aws:ec2:us-east-1:765480282720:instance/i-0abc'] },
          { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: ['arn:aws:iam::765480282720:role/cdk-auraxiprod-deploy-role-765480282720-us-east-1'] },
        ],
      },
    },
    {
      name: 'results',
      document: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:FilterLogEvents', 'logs:GetLogEvents'],
            Resource: 'arn:aws:logs:us-east-1:765480282720:log-group:/auraxis/prod/commands:*',
          },
        ],
      },
    },
  ],
  attachedPolicies: [],
  permissionsBoundaryArn: BOUNDARY,
};

const prodDeploy = {
  kind: 'deploy',
  githubRepository: 'auraxis/auraxis',
  environment: 'prod',
  permissionsBoundaryName: 'auraxis-prod-permissions-boundary',
} as const;
const problems = (role: RoleFacts) => auditRole(role, prodDeploy).map((f) => f.problem);
const withPolicy = (document: PolicyDocument, as: 'inline' | 'managed' = 'inline'): RoleFacts =>
  as === 'inline'
    ? { ...goodDeployRole, inlinePolicies: [...goodDeployRole.inlinePolicies, { name: 'extra', document }] }
    : { ...goodDeployRole, attachedPolicies: [{ arn: 'arn:aws:iam::765480282720:policy/ReadOnlyHelpers', document }] };

describe('auditRole: COMPLIANT', () => {
  test('a least-privilege deploy role with the exact subject and its boundary, reading its command log group, passes with no finding', () => {
    expect(auditRole(goodDeployRole, prodDeploy)).toEqual([]);
  });

  test('a Deny with a wildcard is not a finding', () => {
    expect(problems(withPolicy({ Statement: { Effect: 'Deny', Action: '*', Resource: '*' } }))).toEqual([]);
  });
});

describe('auditRole: NON_COMPLIANT, by content', () => {
  test.each<[string, PolicyDocument, 'inline' | 'managed', string[]]>([
    [
      '*:* in a managed policy with an innocent name (administrator by content, not by name)',
      { Statement: [{ Effect: 'Allow', Action: '*:*', Resource: '*' }] },
      'managed',
      [
        'managed policy arn:aws:iam::765480282720:policy/ReadOnlyHelpers grants administrator: allows *:* (administers IAM: iam:CreateUser, iam:AttachRolePolicy, iam:PutRolePolicy) on Resource "*"',
        'managed policy arn:aws:iam::765480282720:policy/ReadOnlyHelpers allows *:* (hands out other roles: iam:PassRole, sts:AssumeRole) on Resource "*"',
      ],
    ],
    [
      'iam:PassRole on *',
      { Statement: [{ Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' }] },
      'inline',
      ['policy extra allows iam:PassRole (hands out other roles: iam:PassRole) on Resource "*"'],
    ],
    [
      'sts:AssumeRole on *',
      { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] },
      'inline',
      ['policy extra allows sts:AssumeRole (hands out other roles: sts:AssumeRole) on Resource "*"'],
    ],
    [
      'ssm:SendCommand on *',
      { Statement: [{ Effect: 'Allow', Action: 'ssm:SendCommand', Resource: '*' }] },
      'inline',
      ['policy extra allows ssm:SendCommand (data plane: ssm:SendCommand) on Resource "*"'],
    ],
    [
      'ssm:GetParameter* on *',
      { Statement: [{ Effect: 'Allow', Action: ['ssm:GetParameter*'], Resource: ['*'] }] },
      'inline',
      ['policy extra allows ssm:GetParameter* (data plane: ssm:GetParameter, ssm:GetParameters, ssm:GetParametersByPath) on Resource "*"'],
    ],
    [
      'NotAction on *',
      { Statement: [{ Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' }] },
      'inline',
      ['policy extra allows every action but iam:* (hands out other roles: sts:AssumeRole) on Resource "*"'],
    ],
  ])('%s', (_name, document, as, expected) => {
    const found = problems(withPolicy(document, as));
    for (const e of expected) expect(found).toContain(e);
    expect(found.length).toBeGreaterThanOrEqual(expected.length);
  });

  test('a trust for AWS "*" and for Principal "*" are findings', () => {
    const open: RoleFacts = {
      ...goodDeployRole,
      trustPolicy: {
        Statement: [
          ...(goodDeployRole.trustPolicy.Statement as object[]),
          { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: '*' } },
          { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: '*' },
        ],
      } as PolicyDocument,
    };
    expect(problems(open)).toEqual(['trust trusts Principal AWS "*": anyone', 'trust trusts Principal "*": anyone']);
  });

  test("another environment's subject, a StringLike pattern and a missing aud are findings", () => {
    const role: RoleFacts = {
      ...goodDeployRole,
      trustPolicy: trust({ StringEquals: { [`${I}:sub`]: SUB.replace(':prod:', ':dev:') }, StringLike: { [`${I}:sub`]: 'repo:auraxis/*' } }),
    };
    expect(problems(role)).toEqual([
      `trust does not pin ${I}:aud with StringEquals to exactly one value (has [])`,
      `trust sub is "${SUB.replace(':prod:', ':dev:')}", expected exactly "${SUB}"`,
      `trust also matches ${I} claims with StringLike: only StringEquals is exact`,
    ]);
  });

  test('the subject without the deploy workflow on main (the pre-customization form) is a finding', () => {
    const role: RoleFacts = {
      ...goodDeployRole,
      trustPolicy: trust({ StringEquals: { [`${I}:aud`]: 'sts.amazonaws.com', [`${I}:sub`]: 'repo:auraxis/auraxis:environment:prod' } }),
    };
    expect(problems(role)).toEqual([`trust sub is "repo:auraxis/auraxis:environment:prod", expected exactly "${SUB}"`]);
  });

  test('no boundary, or another environment boundary, is a finding', () => {
    const { permissionsBoundaryArn: _, ...unbounded } = goodDeployRole;
    expect(problems(unbounded)).toEqual(['has no permissions boundary: nothing caps what its policies may grant']);
    expect(problems({ ...goodDeployRole, permissionsBoundaryArn: BOUNDARY.replace('prod', 'dev') })).toEqual([
      `has the permissions boundary ${BOUNDARY.replace('prod', 'dev')}, expected the policy auraxis-prod-permissions-boundary`,
    ]);
  });

  test('a deploy role without the SSM actions cannot deploy', () => {
    expect(problems({ ...goodDeployRole, inlinePolicies: [] })).toEqual([
      'lacks ssm:SendCommand: the pipeline cannot deploy through SSM',
      'lacks logs:FilterLogEvents: the pipeline cannot deploy through SSM',
    ]);
  });

  test('ssm:GetCommandInvocation on * is a finding on any role: there is no exception any more', () => {
    const results = { name: 'results', document: { Statement: [{ Effect: 'Allow', Action: 'ssm:GetCommandInvocation', Resource: '*' }] } } as const;
    expect(problems({ ...goodDeployRole, inlinePolicies: [goodDeployRole.inlinePolicies[0], results] })).toEqual([
      'policy results allows ssm:GetCommandInvocation (data plane: ssm:GetCommandInvocation) on Resource "*"',
      'lacks logs:FilterLogEvents: the pipeline cannot deploy through SSM',
    ]);
    const instance: RoleFacts = { ...goodDeployRole, inlinePolicies: [results], trustPolicy: { Statement: [] } };
    expect(auditRole(instance, { kind: 'instance' }).map((f) => f.problem)).toContain(
      'policy results allows ssm:GetCommandInvocation (data plane: ssm:GetCommandInvocation) on Resource "*"',
    );
  });

  test('an instance role needs the SSM agent messaging actions', () => {
    const instance: RoleFacts = {
      roleName: 'host',
      trustPolicy: { Statement: [] },
      inlinePolicies: [],
      attachedPolicies: [],
      permissionsBoundaryArn: BOUNDARY,
    };
    expect(auditRole(instance, { kind: 'instance' })).toEqual([
      { role: 'host', problem: 'lacks the SSM agent messaging actions: the instance cannot be reached through SSM' },
    ]);
    const agent = { Statement: [{ Effect: 'Allow', Action: ['ssmmessages:CreateControlChannel', 'ec2messages:GetMessages'], Resource: '*' }] };
    expect(auditRole({ ...instance, inlinePolicies: [{ name: 'agent', document: agent }] }, { kind: 'instance' })).toEqual([]);
  });
});

describe('readRole (IAM edge)', () => {
  const iam = mockClient(IAMClient);
  beforeEach(() => iam.reset());

  test('decodes the URL-encoded trust, inline and managed policy documents IAM returns, and the boundary', async () => {
    const managed = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    iam.on(GetRoleCommand, { RoleName: 'auraxis-prod-deploy' }).resolves({
      Role: {
        RoleName: 'auraxis-prod-deploy',
        Path: '/',
        Arn: 'arn:aws:iam::765480282720:role/auraxis-prod-deploy',
        RoleId: 'AROA',
        CreateDate: new Date(0),
        AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(goodDeployRole.trustPolicy)),
        PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: BOUNDARY },
      },
    });
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['deploy'] });
    iam.on(GetRolePolicyCommand, { RoleName: 'auraxis-prod-deploy', PolicyName: 'deploy' }).resolves({
      RoleName: 'auraxis-prod-deploy',
      PolicyName: 'deploy',
      PolicyDocument: encodeURIComponent(JSON.stringify(goodDeployRole.inlinePolicies[0].document)),
    });
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::765480282720:policy/Helpers', PolicyName: 'Helpers' }] });
    iam.on(GetPolicyCommand, { PolicyArn: 'arn:aws:iam::765480282720:policy/Helpers' }).resolves({ Policy: { DefaultVersionId: 'v3' } });
    iam.on(GetPolicyVersionCommand, { PolicyArn: 'arn:aws:iam::765480282720:policy/Helpers', VersionId: 'v3' }).resolves({
      PolicyVersion: { Document: encodeURIComponent(JSON.stringify(managed)) },
    });

    const facts = await readRole(new IAMClient({ region: 'us-east-1' }), 'auraxis-prod-deploy');

    expect(facts).toEqual({
      roleName: 'auraxis-prod-deploy',
      trustPolicy: goodDeployRole.trustPolicy,
      inlinePolicies: [goodDeployRole.inlinePolicies[0]],
      attachedPolicies: [{ arn: 'arn:aws:iam::765480282720:policy/Helpers', document: managed }],
      permissionsBoundaryArn: BOUNDARY,
    });
    expect(auditRole(facts, prodDeploy).map((f) => f.problem)).toContain(
      'managed policy arn:aws:iam::765480282720:policy/Helpers grants administrator: allows * (administers IAM: iam:CreateUser, iam:AttachRolePolicy, iam:PutRolePolicy) on Resource "*"',
    );
  });
});

describe('the synthesized roles pass the audit', () => {
  /** The facts IAM would return for a role the host stack creates, read from the template. */
  function roleFactsFromTemplate(env: string, roleIdPrefix: string): RoleFacts {
    const template = shippedTemplate(stackNames.host('auraxis', env)).toJSON();
    // biome-ignore lint/suspicious/noExplicitAny: template JSON, read field by field
    const resources = template.Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
    const [roleId, role] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith(roleIdPrefix))!;
    const policies = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId));
    return {
      roleName: roleId,
      trustPolicy: role.Properties.AssumeRolePolicyDocument,
      inlinePolicies: policies.map(([id, r]) => ({ name: id, document: r.Properties.PolicyDocument })),
      // The data stack's backups policy is judged where it is defined (data stack tests); here only its presence.
      attachedPolicies: [],
      permissionsBoundaryArn: role.Properties.PermissionsBoundary,
    };
  }

  test.each(['dev', 'prod'])('%s deploy role: exact OIDC subject, its boundary, SSM deploy actions; no finding', (env) => {
    const facts = roleFactsFromTemplate(env, 'DeployRole');
    const expectation = {
      kind: 'deploy',
      githubRepository: shippedConfig().github.repository,
      environment: env,
      permissionsBoundaryName: bootstrapNames.permissionsBoundary('auraxis', env),
    } as const;
    expect(auditRole(facts, expectation)).toEqual([]);
    // The same role judged as the other environment's is rejected: subject and boundary are per environment.
    const other = env === 'dev' ? 'prod' : 'dev';
    expect(
      auditRole(facts, { ...expectation, environment: other, permissionsBoundaryName: bootstrapNames.permissionsBoundary('auraxis', other) }).map(
        (f) => f.problem,
      ),
    ).toEqual([
      expect.stringMatching(/^has the permissions boundary .*auraxis-.*-permissions-boundary, expected the policy auraxis-.*-permissions-boundary$/),
      expect.stringMatching(new RegExp(`^trust sub is ".*environment:${env}:.*", expected exactly ".*environment:${other}:.*"$`)),
    ]);
  });

  test.each(['dev', 'prod'])('%s instance role: agent messaging, no finding at all', (env) => {
    const facts = roleFactsFromTemplate(env, 'HostInstanceRole');
    expect(auditRole(facts, { kind: 'instance', permissionsBoundaryName: bootstrapNames.permissionsBoundary('auraxis', env) })).toEqual([]);
  });
});
