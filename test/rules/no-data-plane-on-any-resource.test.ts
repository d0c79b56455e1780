import * as iam from 'aws-cdk-lib/aws-iam';
import { ruleHarness } from './rule-harness';

const only = (rule: string) => (vs: { rule: string; paths: string[] }[]) => vs.filter((v) => v.rule.startsWith(rule));

function role(statements: iam.PolicyStatement[]) {
  const { stack, violations } = ruleHarness();
  const r = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  for (const s of statements) r.addToPrincipalPolicy(s);
  return only('Gitops-NoDataPlaneOnAnyResource')(violations());
}

describe('Gitops-NoDataPlaneOnAnyResource', () => {
  test('COMPLIANT: data-plane actions on named resources; describe calls and conditioned metrics on *', () => {
    expect(
      role([
        new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: ['arn:aws:s3:::bucket/dev/*'] }),
        new iam.PolicyStatement({ actions: ['ssm:GetParametersByPath'], resources: ['arn:aws:ssm:us-east-1:111111111111:parameter/app/dev/*'] }),
        new iam.PolicyStatement({ actions: ['ssm:DescribeInstanceInformation', 'cloudwatch:PutMetricData'], resources: ['*'] }),
        new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:*'], resources: ['*'] }),
      ]),
    ).toEqual([]);
  });

  test.each<[string, iam.PolicyStatement, string]>([
    ['s3:GetObject on *', new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }), 'Action::s3:GetObject'],
    ['ssm:GetParameter* on *', new iam.PolicyStatement({ actions: ['ssm:GetParameter*'], resources: ['*'] }), 'Action::ssm:GetParameter*'],
    ['ssm:GetCommandInvocation on *', new iam.PolicyStatement({ actions: ['ssm:GetCommandInvocation'], resources: ['*'] }), 'Action::ssm:GetCommandInvocation'],
    ['* on *', new iam.PolicyStatement({ actions: ['*'], resources: ['*'] }), 'Action::*'],
    ['NotAction iam:* on *', new iam.PolicyStatement({ notActions: ['iam:*'], resources: ['*'] }), 'NotAction::iam:*'],
    ['s3:GetObject on NotResource', new iam.PolicyStatement({ actions: ['s3:GetObject'], notResources: ['arn:aws:s3:::other/*'] }), 'Action::s3:GetObject'],
    // IAM matches action names case-insensitively: so must the rule.
    ['SSM:SendCommand on *', new iam.PolicyStatement({ actions: ['SSM:SendCommand'], resources: ['*'] }), 'Action::SSM:SendCommand'],
    ['Ssm:* on *', new iam.PolicyStatement({ actions: ['Ssm:*'], resources: ['*'] }), 'Action::Ssm:*'],
    ['s3:getobject on *', new iam.PolicyStatement({ actions: ['s3:getobject'], resources: ['*'] }), 'Action::s3:getobject'],
    ['NotAction S3:* on * (still allows ssm)', new iam.PolicyStatement({ notActions: ['S3:*'], resources: ['*'] }), 'NotAction::S3:*'],
  ])('NON_COMPLIANT: %s', (_name, statement, finding) => {
    expect(role([statement])).toEqual([{ rule: `Gitops-NoDataPlaneOnAnyResource[${finding}]`, paths: ['Probe/Role/DefaultPolicy/Resource'] }]);
  });

  test('NON_COMPLIANT: an inline policy of the role itself and a managed policy are read too', () => {
    const { stack, violations } = ruleHarness();
    new iam.Role(stack, 'Inline', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      inlinePolicies: {
        p: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: ['*'] })] }),
      },
    });
    new iam.ManagedPolicy(stack, 'Managed', { statements: [new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: ['*'] })] });
    expect(only('Gitops-NoDataPlaneOnAnyResource')(violations())).toEqual([
      { rule: 'Gitops-NoDataPlaneOnAnyResource[Action::secretsmanager:GetSecretValue]', paths: ['Probe/Inline/Resource'] },
      { rule: 'Gitops-NoDataPlaneOnAnyResource[Action::kms:Decrypt]', paths: ['Probe/Managed/Resource'] },
    ]);
  });
});
