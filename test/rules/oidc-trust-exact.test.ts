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

  test('COMPLIANT: the same exact claims under condition keys in another case (IAM reads keys case-insensitively)', () => {
    expect(trusting({ StringEquals: { [`${I}:AUD`]: 'sts.amazonaws.com', 'Token.Actions.GitHubUserContent.com:Sub': 'repo:o/r:environment:prod' } })).toEqual(
      [],
    );
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
    // IAM reads condition keys case-insensitively: a pattern on `...:SUB` is a pattern on the subject.
    [
      'StringLike on the subject key in capitals',
      {
        StringEquals: { [`${I}:aud`]: 'sts.amazonaws.com', [`${I}:sub`]: 'repo:o/r:environment:prod' },
        StringLike: { [`${I.toUpperCase()}:SUB`]: 'repo:o/*' },
      },
      ['Condition::StringLike'],
    ],
  ])('NON_COMPLIANT: %s', (_name, conditions, findings) => {
    expect(trusting(conditions)).toEqual(findings.map((f) => ({ rule: `Gitops-OidcTrustExact[${f}]`, paths: ['Probe/Role/Resource'] })));
  });
});
