import type { CfnResource } from 'aws-cdk-lib';
import { dataPlaneOnAnyResource } from './iam-policy';
import { NagRuleCompliance, type NagRuleResult } from './nag';
import { findingIds, type ProjectRule, permissionDocuments } from './project-rule';

/** No data-plane action (reading or writing data, running commands) on `Resource: *`. */
export const noDataPlaneOnAnyResource: ProjectRule = {
  id: 'NoDataPlaneOnAnyResource',
  info: 'The IAM policy allows a data-plane action (S3 objects, parameters, secrets, command output, ...) on Resource "*".',
  explanation:
    'Dev and prod may share an account: a data-plane action on "*" lets one environment read or change the other environment\'s data. Name the bucket prefix, parameter path or log group instead.',
  check(node: CfnResource): NagRuleResult {
    const documents = permissionDocuments(node);
    if (documents.length === 0 && !['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group'].includes(node.cfnResourceType))
      return NagRuleCompliance.NOT_APPLICABLE;
    const ids = findingIds(documents.flatMap(dataPlaneOnAnyResource));
    return ids.length > 0 ? ids : NagRuleCompliance.COMPLIANT;
  },
};
