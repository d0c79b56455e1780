import * as iam from 'aws-cdk-lib/aws-iam';
import { ruleHarness } from './rule-harness';

function trusting(principal: iam.IPrincipal) {
  const { stack, violations } = ruleHarness();
  new iam.Role(stack, 'Role', { assumedBy: principal });
  return violations().filter((v) => v.rule.startsWith('Gitops-NoWildcardTrust'));
}

describe('Gitops-NoWildcardTrust', () => {
  test.each<[string, iam.IPrincipal]>([
    ['a service', new iam.ServicePrincipal('ec2.amazonaws.com')],
    ['one account role', new iam.ArnPrincipal('arn:aws:iam::111111111111:role/ops')],
  ])('COMPLIANT: trusts %s', (_name, principal) => {
    expect(trusting(principal)).toEqual([]);
  });

  test.each<[string, iam.IPrincipal, string]>([
    ['AWS: *', new iam.AnyPrincipal(), 'Principal::AWS:*'],
    ['Principal: *', new iam.StarPrincipal(), 'Principal::*'],
  ])('NON_COMPLIANT: trusts %s', (_name, principal, finding) => {
    expect(trusting(principal)).toEqual([{ rule: `Gitops-NoWildcardTrust[${finding}]`, paths: ['Probe/Role/Resource'] }]);
  });
});
