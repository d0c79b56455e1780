import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { githubDeploySubject } from '../../lib/constructs/github-deploy-role';
import { GithubPlanRole, planEnvironmentName } from '../../lib/constructs/github-plan-role';

/*
 * The plan job's role: it trusts only the <env>-plan GitHub environment's job of the deploy
 * workflow on main, and may do what a change set needs on the environment's stacks and nothing
 * that changes them (no ExecuteChangeSet, UpdateStack or assets a deploy reads).
 */
function planRole() {
  const app = new App();
  const stack = new Stack(app, 'auraxis-prod-host', { env: { account: '123456789012', region: 'eu-west-1' } });
  new GithubPlanRole(stack, 'PlanRole', {
    provider: iam.OpenIdConnectProvider.fromOpenIdConnectProviderArn(
      stack,
      'Provider',
      'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
    ),
    repository: 'acme/shop',
    environmentName: 'prod',
    stacks: [
      { stackName: 'auraxis-prod-data', region: 'eu-west-1' },
      { stackName: 'auraxis-prod-health', region: 'us-east-1' },
    ],
    bootstrapQualifier: 'auraxiprod',
  });
  return Template.fromStack(stack);
}

test('trusted by the plan environment of this environment only, exactly', () => {
  expect(planEnvironmentName('prod')).toBe('prod-plan');
  planRole().hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: {
      Statement: [
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': githubDeploySubject('acme/shop', 'prod-plan'),
            },
          },
          Effect: 'Allow',
        },
      ],
    },
  });
});

test("what a change set needs on the environment's stacks, the plan's own bucket prefix and the bootstrap version; nothing else", () => {
  const template = planRole();
  template.resourceCountIs('AWS::IAM::Policy', 1);
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: [
        {
          Sid: 'ChangeSetsOfTheEnvironment',
          Action: ['cloudformation:GetTemplate', 'cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:DeleteChangeSet'],
          Resource: [
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:eu-west-1:123456789012:stack/auraxis-prod-data/*']] },
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:us-east-1:123456789012:stack/auraxis-prod-health/*']] },
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:eu-west-1:123456789012:changeSet/ops-plan-*/*']] },
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:us-east-1:123456789012:changeSet/ops-plan-*/*']] },
          ],
        },
        {
          Sid: 'PlanTemplates',
          Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
          Resource: [
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::cdk-auraxiprod-assets-123456789012-eu-west-1/ops-plan/*']] },
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::cdk-auraxiprod-assets-123456789012-us-east-1/ops-plan/*']] },
          ],
        },
        {
          Sid: 'BootstrapVersion',
          Action: 'ssm:GetParameters',
          Resource: [
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:123456789012:parameter/cdk-bootstrap/auraxiprod/version']] },
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1:123456789012:parameter/cdk-bootstrap/auraxiprod/version']] },
          ],
        },
      ],
    },
  });
  const text = JSON.stringify(template.toJSON());
  expect(text).not.toMatch(/ExecuteChangeSet|UpdateStack|CreateStack|DeleteStack|iam:PassRole|sts:AssumeRole"/);
  template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
});
