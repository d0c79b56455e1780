import type { CfnResource } from 'aws-cdk-lib';
import { type IamPolicyDocument, wildcardTrust } from './iam-policy';
import { NagRuleCompliance, type NagRuleResult } from './nag';
import { findingIds, type ProjectRule, resolvedProperty } from './project-rule';

/** No role trusts `*` (or everyone but a NotPrincipal). */
export const noWildcardTrust: ProjectRule = {
  id: 'NoWildcardTrust',
  info: 'The role trust policy allows Principal "*" (or uses NotPrincipal).',
  explanation: 'A role anyone may assume is a role anyone has. Trust a named service, account role or OIDC provider with exact conditions.',
  check(node: CfnResource): NagRuleResult {
    if (node.cfnResourceType !== 'AWS::IAM::Role') return NagRuleCompliance.NOT_APPLICABLE;
    const ids = findingIds(wildcardTrust(resolvedProperty<IamPolicyDocument>(node, 'AssumeRolePolicyDocument')));
    return ids.length > 0 ? ids : NagRuleCompliance.COMPLIANT;
  },
};
