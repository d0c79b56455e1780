import type { CfnResource } from 'aws-cdk-lib';
import { type IamPolicyDocument, inexactOidcTrust } from './iam-policy';
import { NagRuleCompliance, type NagRuleResult } from './nag';
import { findingIds, type ProjectRule, resolvedProperty } from './project-rule';

/** Web-identity (OIDC) trust exact: `StringEquals` on `aud` and `sub`, one value each, no pattern. */
export const oidcTrustExact: ProjectRule = {
  id: 'OidcTrustExact',
  info: 'The role trusts an OIDC provider without StringEquals on exactly one aud and one sub (or also matches them with a pattern).',
  explanation:
    'GitHub issues tokens to every workflow run of every repository; only an exact subject (this repository, this environment, the reviewed workflow) keeps a pushed branch or a fork from assuming the role.',
  check(node: CfnResource): NagRuleResult {
    if (node.cfnResourceType !== 'AWS::IAM::Role') return NagRuleCompliance.NOT_APPLICABLE;
    const ids = findingIds(inexactOidcTrust(resolvedProperty<IamPolicyDocument>(node, 'AssumeRolePolicyDocument')));
    return ids.length > 0 ? ids : NagRuleCompliance.COMPLIANT;
  },
};
