import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { cdkJsonContext } from '../../lib/config/config-file';
import { GithubDeployRole } from '../../lib/constructs/github-deploy-role';

function build(props: Partial<ConstructorParameters<typeof GithubDeployRole>[2]> = {}) {
  const stack = new Stack(new App({ context: cdkJsonContext() }), 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
  const provider = iam.OpenIdConnectProvider.fromOpenIdConnectProviderArn(
    stack,
    'Provider',
    'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
  );
  new GithubDeployRole(stack, 'Deploy', {
    provider,
    repository: 'acme/shop',
    environmentName: 'staging',
    instanceEnvironmentTag: 'staging',
    documentArns: ['arn:aws:ssm:eu-west-1:111122223333:document/shop-staging-deploy'],
    commandLogGroup: logs.LogGroup.fromLogGroupName(stack, 'Commands', '/shop/staging/commands'),
    ...props,
  });
  return Template.fromStack(stack);
}

describe('GithubDeployRole', () => {
  test('trust requires aud sts.amazonaws.com and the exact repository, environment and deploy workflow on main', () => {
    build().hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRoleWithWebIdentity',
            Effect: 'Allow',
            Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com' },
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub':
                  'repo:acme/shop:environment:staging:ref:refs/heads/main:job_workflow_ref:acme/shop/.github/workflows/deploy-environment.yml@refs/heads/main',
              },
            },
          },
        ],
      },
      ManagedPolicyArns: Match.absent(),
    });
  });

  test('sends only the given documents, only to instances tagged for its environment, in a policy of its own', () => {
    const template = build();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('EnvironmentInstances'),
      PolicyDocument: {
        Statement: [
          {
            Sid: 'SendToEnvironmentInstances',
            Action: 'ssm:SendCommand',
            Effect: 'Allow',
            Resource: 'arn:aws:ec2:eu-west-1:111122223333:instance/*',
            Condition: { StringEquals: { 'ssm:resourceTag/env': 'staging' } },
          },
        ],
      },
    });
  });

  test('sends only the given documents; assumes the bootstrap roles of the stack region by default', () => {
    const template = build();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('HostState'),
      PolicyDocument: {
        Statement: [
          {
            Sid: 'ReadHostState',
            Action: ['autoscaling:DescribeAutoScalingGroups', 'cloudwatch:DescribeAlarms', 'ssm:DescribeInstanceInformation'],
            Effect: 'Allow',
            Resource: '*',
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('DefaultPolicy'),
      PolicyDocument: {
        Statement: [
          {
            Sid: 'SendHostDocuments',
            Action: 'ssm:SendCommand',
            Effect: 'Allow',
            Resource: 'arn:aws:ssm:eu-west-1:111122223333:document/shop-staging-deploy',
          },
          // Command outcomes and output: the environment's command log group, nothing else.
          {
            Action: ['logs:FilterLogEvents', 'logs:GetLogEvents'],
            Effect: 'Allow',
            Resource: [
              'arn:aws:logs:eu-west-1:111122223333:log-group:/shop/staging/commands',
              'arn:aws:logs:eu-west-1:111122223333:log-group:/shop/staging/commands:*',
            ],
          },
          {
            Sid: 'AssumeCdkBootstrapRoles',
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Resource: ['deploy-role', 'file-publishing-role', 'lookup-role'].map(
              (r) => `arn:aws:iam::111122223333:role/cdk-hnb659fds-${r}-111122223333-eu-west-1`,
            ),
          },
        ],
      },
    });
  });

  test('no documents: no SendCommand statement at all, no instance policy; a custom qualifier and extra regions are honoured', () => {
    const template = build({ documentArns: [], bootstrapQualifier: 'abc123', bootstrapRegions: ['eu-west-1', 'us-east-1', 'eu-west-1'] });
    const [, policy] = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.includes('DefaultPolicy'))!;
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements.map((s: { Action: string | string[] }) => s.Action)).toEqual([['logs:FilterLogEvents', 'logs:GetLogEvents'], 'sts:AssumeRole']);
    expect(Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => id.includes('EnvironmentInstances'))).toEqual([]);
    expect(statements[1].Resource).toHaveLength(6);
    expect(statements[1].Resource).toContain('arn:aws:iam::111122223333:role/cdk-abc123-lookup-role-111122223333-us-east-1');
  });
});
