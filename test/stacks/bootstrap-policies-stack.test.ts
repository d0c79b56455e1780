import { Template } from 'aws-cdk-lib/assertions';
import { buildBootstrapApp } from '../../bin/build-apps';
import { cdkJsonContext } from '../../lib/config/config-file';
import { bootstrapNames } from '../../lib/names';
import { administratorAccess, type IamPolicyDocument, statementsOf } from '../../lib/rules/iam-policy';
import type { BootstrapPoliciesStack } from '../../lib/stacks/bootstrap-policies-stack';
import { shippedConfig } from '../helpers/config-fixtures';

const app = buildBootstrapApp(shippedConfig(), { context: cdkJsonContext() });
const template = (env: string) => Template.fromStack(app.node.findChild(bootstrapNames.policiesStack('auraxis', env)) as BootstrapPoliciesStack);
const policy = (env: string, name: string): IamPolicyDocument => {
  const found = Object.values(template(env).findResources('AWS::IAM::ManagedPolicy')).find((p) => p.Properties.ManagedPolicyName === name);
  if (!found) throw new Error(`no managed policy ${name}`);
  return found.Properties.PolicyDocument;
};
const sid = (doc: IamPolicyDocument, id: string) => statementsOf(doc).find((s) => s.Sid === id);

describe.each(['dev', 'prod'])('bootstrap policies of %s', (env) => {
  const exec = () => policy(env, `auraxis-${env}-cfn-execution`);
  const boundary = () => policy(env, `auraxis-${env}-permissions-boundary`);
  const boundaryArn = {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:policy/auraxis-${env}-permissions-boundary`]],
  };
  const ownRoles = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:role/auraxis-${env}-*`]] };

  test('the execution policy is not administrator: no iam:* and no IAM write on *', () => {
    expect(administratorAccess(exec())).toEqual([]);
    const actions = statementsOf(exec()).flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => a === '*' || a === 'iam:*' || a === 'sts:*')).toEqual([]);
  });

  test('it may create or re-bound roles only under the environment prefix and only with the boundary', () => {
    expect(sid(exec(), 'CreateOwnRolesOnlyWithTheBoundary')).toMatchObject({
      Resource: ownRoles,
      Condition: { StringEquals: { 'iam:PermissionsBoundary': boundaryArn } },
    });
    const iamWrites = statementsOf(exec()).filter((s) => JSON.stringify(s.Action).match(/iam:(Create|Put|Attach|Pass)/));
    for (const s of iamWrites) expect(JSON.stringify(s.Resource)).not.toBe('"*"');
  });

  test('the boundary lets the environment pass and assume only its own roles, and denies changing the bootstrap policies', () => {
    expect(sid(boundary(), 'PassOwnRoles')).toMatchObject({ Effect: 'Allow', Action: 'iam:PassRole' });
    expect(JSON.stringify(sid(boundary(), 'PassOwnRoles')?.Resource)).toContain(`:role/auraxis-${env}-*`);
    expect(JSON.stringify(sid(boundary(), 'AssumeOwnBootstrapRoles')?.Resource)).toContain(
      `:role/cdk-${bootstrapNames.qualifier('auraxis', env)}-deploy-role-`,
    );
    expect(sid(boundary(), 'NoChangingTheBootstrapPolicies')).toMatchObject({ Effect: 'Deny' });
    expect(JSON.stringify(sid(boundary(), 'OwnParametersAndDocuments')?.Resource)).toContain(`:parameter/auraxis/${env}/*`);
    // No statement of the boundary allows anything on Resource "*" but reads without data, agent
    // channels, metrics and the tag-scoped services (which carry their tag condition).
    const unscoped = statementsOf(boundary()).filter((s) => s.Effect === 'Allow' && s.Resource === '*' && s.Condition === undefined);
    expect(unscoped.map((s) => s.Sid).sort()).toEqual(['AccountWideReadsWithoutData', 'AgentChannels', 'Metrics']);
  });

  test('deployed with the administrator own credentials: no bootstrap version check, no assets', () => {
    const json = template(env).toJSON();
    expect(json.Parameters?.BootstrapVersion).toBeUndefined();
    expect(json.Rules).toBeUndefined();
    expect(app.node.findChild(bootstrapNames.policiesStack('auraxis', env))).toMatchObject({ account: shippedConfig().environments[env].account });
  });
});

test('dev and prod have different qualifiers, so different bootstrap roles', () => {
  expect(bootstrapNames.qualifier('auraxis', 'dev')).toBe('auraxisdev');
  expect(bootstrapNames.qualifier('auraxis', 'prod')).toBe('auraxiprod');
  expect(bootstrapNames.qualifier('a-very-long-app-name', 'staging')).toMatch(/^[a-z0-9]{1,10}$/);
});
