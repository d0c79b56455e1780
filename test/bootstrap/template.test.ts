// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub strings are CloudFormation templates, not JavaScript ones
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PLAN_TEMPLATE_PREFIX } from '../../lib/constructs/github-plan-role';
import { BOOTSTRAP_TEMPLATE } from '../../scripts/bootstrap/plan';
import { projectRoot } from '../helpers/paths';

/*
 * The project's CDK bootstrap template against the one the installed CDK CLI ships
 * (`cdk bootstrap --show-template`): the same version and every parameter the CLI passes, and the
 * customizations it exists for. What the roles may do is proven by test/iam/ (the evaluator).
 */

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation template
const ours: Record<string, any> = parse(readFileSync(join(projectRoot, BOOTSTRAP_TEMPLATE), 'utf8'));
const shown = spawnSync(process.execPath, [join(projectRoot, 'node_modules/aws-cdk/bin/cdk'), 'bootstrap', '--show-template', '--json'], {
  cwd: projectRoot,
  encoding: 'utf8',
});
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation template
const stock: Record<string, any> = JSON.parse(shown.stdout);
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation template
const roles = Object.entries(ours.Resources as Record<string, any>).filter(([, r]) => r.Type === 'AWS::IAM::Role');

test('derived from the installed CDK CLI template: same bootstrap version, every parameter the CLI passes', () => {
  expect(shown.status).toBe(0);
  expect(ours.Outputs.BootstrapVersion.Value).toBe(stock.Outputs.BootstrapVersion.Value);
  expect(ours.Resources.CdkBootstrapVersion.Properties.Value).toBe(stock.Resources.CdkBootstrapVersion.Properties.Value);
  expect(Object.keys(stock.Parameters).filter((p) => !(p in ours.Parameters))).toEqual([]);
  expect(ours.Parameters.BootstrapVariant.Default).not.toBe(stock.Parameters.BootstrapVariant.Default);
});

test('every role carries the permissions boundary, which is required', () => {
  expect(roles.map(([id]) => id).sort()).toEqual(['CloudFormationExecutionRole', 'DeploymentActionRole', 'FilePublishingRole', 'LookupRole']);
  for (const [, role] of roles) {
    expect(role.Properties.PermissionsBoundary).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/${InputPermissionsBoundary}' });
  }
  expect(ours.Parameters.InputPermissionsBoundary.AllowedPattern).toBe('[\\w+=,.@-]{1,128}');
  expect(new RegExp(`^${ours.Parameters.InputPermissionsBoundary.AllowedPattern}$`).test('')).toBe(false);
});

test('no AWS managed policy on any role: no AdministratorAccess fallback, no ReadOnlyAccess, no AWSCloudFormationReadOnlyAccess', () => {
  const text = JSON.stringify(ours);
  for (const managed of ['AdministratorAccess', 'ReadOnlyAccess', 'AWSCloudFormationReadOnlyAccess']) expect(text).not.toContain(`policy/${managed}`);
  expect(ours.Resources.CloudFormationExecutionRole.Properties.ManagedPolicyArns).toEqual({ Ref: 'CloudFormationExecutionPolicies' });
  expect(JSON.stringify(ours.Rules.ExecutionPolicyRequired)).toContain('CloudFormationExecutionPolicies');
});

test('the deploy role creates and updates stacks only with its own execution role; the staging bucket is written only by its file-publishing role', () => {
  const statements = ours.Resources.DeploymentActionRole.Properties.Policies[0].PolicyDocument.Statement;
  expect(statements.find((s: { Sid?: string }) => s.Sid === 'DeployWithThisEnvironmentsExecutionRole')).toMatchObject({
    Action: ['cloudformation:CreateChangeSet', 'cloudformation:CreateStack', 'cloudformation:UpdateStack'],
    Condition: { StringEquals: { 'cloudformation:RoleArn': { 'Fn::Sub': '${CloudFormationExecutionRole.Arn}' } } },
  });
  const bucketPolicy = ours.Resources.StagingBucketPolicy.Properties.PolicyDocument.Statement;
  expect(bucketPolicy.find((s: { Sid?: string }) => s.Sid === 'OnlyThisEnvironmentsFilePublishingRoleWrites')).toMatchObject({
    Effect: 'Deny',
    Principal: '*',
    Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::Sub': '${FilePublishingRole.Arn}' } } },
    // The plan role's own prefix is the one exception: its change sets' templates, read by no deploy.
    NotResource: { 'Fn::Sub': `\${StagingBucket.Arn}/${PLAN_TEMPLATE_PREFIX}*` },
  });
  // No container-image repository or KMS key: nothing the app uses, nothing to scope.
  for (const type of ['AWS::ECR::Repository', 'AWS::KMS::Key'])
    expect(Object.values(ours.Resources).map((r) => (r as { Type: string }).Type)).not.toContain(type);
});
