import * as iam from 'aws-cdk-lib/aws-iam';
import { ruleHarness } from './rule-harness';

function role(statement: iam.PolicyStatement) {
  const { stack, violations } = ruleHarness();
  new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }).addToPrincipalPolicy(statement);
  return violations().filter((v) => v.rule.startsWith('Gitops-NoPassRoleOrAssumeRoleOnAnyResource'));
}

describe('Gitops-NoPassRoleOrAssumeRoleOnAnyResource', () => {
  test('COMPLIANT: PassRole and AssumeRole on named roles', () => {
    expect(
      role(new iam.PolicyStatement({ actions: ['iam:PassRole', 'sts:AssumeRole'], resources: ['arn:aws:iam::111111111111:role/cdk-dev-deploy-role'] })),
    ).toEqual([]);
  });

  test.each<[string, iam.PolicyStatement, string]>([
    ['iam:PassRole on *', new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: ['*'] }), 'Action::iam:PassRole'],
    ['sts:AssumeRole on *', new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: ['*'] }), 'Action::sts:AssumeRole'],
    ['sts:* on *', new iam.PolicyStatement({ actions: ['sts:*'], resources: ['*'] }), 'Action::sts:*'],
    ['iam:Pass* on *', new iam.PolicyStatement({ actions: ['iam:Pass*'], resources: ['*'] }), 'Action::iam:Pass*'],
    // Case-insensitive, as IAM matches actions.
    ['IAM:PassRole on *', new iam.PolicyStatement({ actions: ['IAM:PassRole'], resources: ['*'] }), 'Action::IAM:PassRole'],
    ['Sts:assumerole on *', new iam.PolicyStatement({ actions: ['Sts:assumerole'], resources: ['*'] }), 'Action::Sts:assumerole'],
  ])('NON_COMPLIANT: %s', (_name, statement, finding) => {
    expect(role(statement)).toEqual([{ rule: `Gitops-NoPassRoleOrAssumeRoleOnAnyResource[${finding}]`, paths: ['Probe/Role/DefaultPolicy/Resource'] }]);
  });
});
