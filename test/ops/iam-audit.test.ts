import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { readRole } from '../../scripts/ops/aws/iam-roles';
import { stackNames } from '../../lib/names';
import { auditRole, type PolicyDocument, type RoleFacts } from '../../scripts/ops/commands/iam-audit';
import { shippedConfig, shippedTemplate } from '../helpers/synth';

const trust = (condition: Record<string, Record<string, string | string[]>>): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'sts:AssumeRoleWithWebIdentity',
      Principal: { Federated: 'arn:aws:iam::765480282720:oidc-provider/token.actions.githubusercontent.com' },
      Condition: condition,
    },
  ],
});

const goodDeployRole: RoleFacts = {
  roleName: 'auraxis-prod-deploy',
  trustPolicy: trust({
    StringEquals: {
      'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
      'token.actions.githubusercontent.com:sub': 'repo:auraxis/auraxis:environment:prod',
    },
  }),
  inlinePolicies: [
    {
      name: 'deploy',
      document: {
        Statement: [
          { Effect: 'Allow', Action: 'ssm:SendCommand', Resource: ['arn:aws:ec2:us-east-1:765480282720:instance/i-0abc'] },
          { Effect: 'Allow', Action: ['ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'], Resource: '*' },
        ],
      },
    },
  ],
  attachedPolicyArns: [],
};

const prodDeploy = { kind: 'deploy', githubRepository: 'auraxis/auraxis', environment: 'prod' } as const;

describe('auditRole', () => {
  test('a least-privilege deploy role with an exact subject passes', () => {
    expect(auditRole(goodDeployRole, prodDeploy)).toEqual([]);
  });

  test('AdministratorAccess, wildcard actions and NotAction are findings', () => {
    const role: RoleFacts = {
      ...goodDeployRole,
      attachedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'],
      inlinePolicies: [
        ...goodDeployRole.inlinePolicies,
        { name: 'extra', document: { Statement: [{ Effect: 'Allow', Action: ['s3:*', '*'] }, { Effect: 'Allow', NotAction: 'iam:*' }] } },
      ],
    };
    expect(auditRole(role, prodDeploy).map((f) => f.problem)).toEqual([
      'has the managed policy AdministratorAccess attached',
      'policy extra allows the wildcard action "s3:*"',
      'policy extra allows the wildcard action "*"',
      'policy extra allows NotAction "iam:*", which grants everything else',
    ]);
  });

  test('a Deny with a wildcard is not a finding', () => {
    const role = { ...goodDeployRole, inlinePolicies: [...goodDeployRole.inlinePolicies, { name: 'guard', document: { Statement: { Effect: 'Deny' as const, Action: '*' } } }] };
    expect(auditRole(role, prodDeploy)).toEqual([]);
  });

  test("another environment's subject, a StringLike wildcard and a missing aud are findings", () => {
    const role: RoleFacts = {
      ...goodDeployRole,
      trustPolicy: trust({
        StringEquals: { 'token.actions.githubusercontent.com:sub': 'repo:auraxis/auraxis:environment:dev' },
        StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:auraxis/*' },
      }),
    };
    expect(auditRole(role, prodDeploy).map((f) => f.problem)).toEqual([
      'trust aud is [], expected exactly "sts.amazonaws.com"',
      'trust sub is ["repo:auraxis/auraxis:environment:dev"], expected exactly "repo:auraxis/auraxis:environment:prod"',
      'trust uses StringLike on sub ("repo:auraxis/*"): any matching branch or environment could deploy',
    ]);
  });

  test('a deploy role without the SSM actions cannot deploy', () => {
    expect(auditRole({ ...goodDeployRole, inlinePolicies: [] }, prodDeploy).map((f) => f.problem)).toEqual([
      'lacks ssm:SendCommand: the pipeline cannot deploy through SSM',
      'lacks ssm:GetCommandInvocation: the pipeline cannot deploy through SSM',
    ]);
  });

  test('an instance role needs AmazonSSMManagedInstanceCore', () => {
    const instance: RoleFacts = { roleName: 'host', trustPolicy: { Statement: [] }, inlinePolicies: [], attachedPolicyArns: [] };
    expect(auditRole(instance, { kind: 'instance' })).toEqual([{ role: 'host', problem: 'lacks AmazonSSMManagedInstanceCore: the instance cannot be reached through SSM' }]);
    expect(auditRole({ ...instance, attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'] }, { kind: 'instance' })).toEqual([]);
  });
});

describe('readRole (IAM edge)', () => {
  const iam = mockClient(IAMClient);
  beforeEach(() => iam.reset());

  test('decodes the URL-encoded trust and inline policies IAM returns', async () => {
    iam.on(GetRoleCommand, { RoleName: 'auraxis-prod-deploy' }).resolves({
      Role: {
        RoleName: 'auraxis-prod-deploy',
        Path: '/',
        Arn: 'arn:aws:iam::765480282720:role/auraxis-prod-deploy',
        RoleId: 'AROA',
        CreateDate: new Date(0),
        AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(goodDeployRole.trustPolicy)),
      },
    });
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['deploy'] });
    iam.on(GetRolePolicyCommand, { RoleName: 'auraxis-prod-deploy', PolicyName: 'deploy' }).resolves({
      RoleName: 'auraxis-prod-deploy',
      PolicyName: 'deploy',
      PolicyDocument: encodeURIComponent(JSON.stringify(goodDeployRole.inlinePolicies[0].document)),
    });
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });

    const facts = await readRole(new IAMClient({ region: 'us-east-1' }), 'auraxis-prod-deploy');

    expect(facts).toEqual(goodDeployRole);
    expect(auditRole(facts, prodDeploy)).toEqual([]);
  });
});

describe('the synthesized roles pass the runbook audit', () => {
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
      attachedPolicyArns: (role.Properties.ManagedPolicyArns ?? []).map((arn: unknown) => JSON.stringify(arn)),
    };
  }

  test.each(['dev', 'prod'])('%s deploy role: exact OIDC subject, SSM deploy actions, no wildcard action', (env) => {
    const facts = roleFactsFromTemplate(env, 'DeployRole');
    expect(auditRole(facts, { kind: 'deploy', githubRepository: shippedConfig().github.repository, environment: env })).toEqual([]);
    // The same role judged as the other environment's is rejected: one trust subject per environment.
    const other = env === 'dev' ? 'prod' : 'dev';
    expect(auditRole(facts, { kind: 'deploy', githubRepository: shippedConfig().github.repository, environment: other }).map((f) => f.problem)).toEqual([
      `trust sub is ["repo:auraxis/auraxis-infra:environment:${env}"], expected exactly "repo:auraxis/auraxis-infra:environment:${other}"`,
    ]);
  });
});
