import type { CfnResource } from 'aws-cdk-lib';
import { privilegeOnAnyResource } from './iam-policy';
import { NagRuleCompliance, type NagRuleResult } from './nag';
import { findingIds, type ProjectRule, permissionDocuments } from './project-rule';

/** No `iam:PassRole` or `sts:AssumeRole` on `Resource: *`. */
export const noPrivilegeOnAnyResource: ProjectRule = {
  id: 'NoPassRoleOrAssumeRoleOnAnyResource',
  info: 'The IAM policy allows iam:PassRole or sts:AssumeRole on Resource "*".',
  explanation:
    'Passing or assuming any role reaches whatever the most powerful role of the account may do (the bootstrap execution role, an administrator). Name the roles.',
  check(node: CfnResource): NagRuleResult {
    const documents = permissionDocuments(node);
    if (documents.length === 0 && !['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group'].includes(node.cfnResourceType))
      return NagRuleCompliance.NOT_APPLICABLE;
    const ids = findingIds(documents.flatMap(privilegeOnAnyResource));
    return ids.length > 0 ? ids : NagRuleCompliance.COMPLIANT;
  },
};
