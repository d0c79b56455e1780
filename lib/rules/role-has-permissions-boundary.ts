import { type CfnResource, Stack } from 'aws-cdk-lib';
import { NagRuleCompliance, type NagRuleResult } from './nag';
import { type ProjectRule, type RuleContext, resolvedProperty } from './project-rule';

/** Every role carries the environment's permissions boundary (`lib/stacks/bootstrap-policies-stack.ts`). */
export const roleHasPermissionsBoundary: ProjectRule = {
  id: 'RoleHasPermissionsBoundary',
  info: "The IAM role has no permissions boundary, or not the environment's.",
  explanation:
    'The CloudFormation execution role may create roles only with the boundary attached; a role without it fails to deploy, and a role with it can never exceed it, so no template can create an administrator.',
  check(node: CfnResource, context: RuleContext): NagRuleResult {
    if (node.cfnResourceType !== 'AWS::IAM::Role') return NagRuleCompliance.NOT_APPLICABLE;
    const boundary = resolvedProperty<unknown>(node, 'PermissionsBoundary');
    if (boundary === undefined) return NagRuleCompliance.NON_COMPLIANT;
    const expected = context.permissionsBoundaryName(Stack.of(node));
    if (expected === undefined) return NagRuleCompliance.COMPLIANT;
    return JSON.stringify(boundary).includes(`:policy/${expected}"`) ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
};
