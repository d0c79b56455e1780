import * as iam from 'aws-cdk-lib/aws-iam';
import { ruleHarness } from './rule-harness';

const PROVIDER = 'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com';
const I = 'token.actions.githubusercontent.com';

function trusting(conditions: Record<string, Record<string, unknown>>) {
  const { stack, violations } = ruleHarness();
  new iam.Role(stack, 'Role', { assumedBy: new iam.WebIdentityPrincipal(PROVIDER, conditions) });
  return violations().filter((v) => v.rule.startsWith('Gitops-OidcTrustExact'));
}

describe('Gitops-OidcTrustExact', () => {
  test('COMPLIANT: StringEquals on aud and on one exact sub', () => {
    expect(trusting({ StringEquals: { [`${I}:aud`]: 'sts.amazonaws.com', [`${I}:sub`]: 'repo:o/r:environment:prod' } })).toEqual([]);
  });

  test.each<[string, Record<string, Record<string, unknown>>, string[]]>([
    ['no sub at all', { StringEquals: { [`${I}:aud`]: 'sts.amazonaws.com' } }, ['Condition::sub']],
    ['a wildcard sub', { StringEquals: { [`${I}:aud`]: 'sts.amazonaws.com', [`${I}:sub`]: 'repo:o/r:*' } }, ['Condition::sub']],
    [
      'two subs',
      { StringEquals: { [`${I}:aud`]: 'sts.amazonaws.com', [`${I}:sub`]: ['repo:o/r:environment:prod', 'repo:o/r:ref:refs/heads/x'] } },
      ['Condition::sub'],
    ],
    [
      'StringLike on sub beside the exact one',
      { StringEquals: { [`${I}:aud`]: 'sts.amazonaws.com', [`${I}:sub`]: 'repo:o/r:environment:prod' }, StringLike: { [`${I}:sub`]: 'repo:o/*' } },
      ['Condition::StringLike'],
    ],
    ['no aud', { StringEquals: { [`${I}:sub`]: 'repo:o/r:environment:prod' } }, ['Condition::aud']],
  ])('NON_COMPLIANT: %s', (_name, conditions, findings) => {
    expect(trusting(conditions)).toEqual(findings.map((f) => ({ rule: `Gitops-OidcTrustExact[${f}]`, paths: ['Probe/Role/Resource'] })));
  });
});
