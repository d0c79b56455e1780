import { type CfnResource, Stack } from 'aws-cdk-lib';
import type { IamPolicyDocument, PolicyFinding } from './iam-policy';
import type { NagRuleResult } from './nag';

/** What a rule may need beyond the resource itself. */
export interface RuleContext {
  /** Name of the permissions boundary every role of `stack` must carry, or undefined when only its presence is checked. */
  readonly permissionsBoundaryName: (stack: Stack) => string | undefined;
}

/**
 * One of the project's cdk-nag rules (`Gitops-<id>`). `check` returns cdk-nag's compliance or a
 * list of finding ids, which an acknowledgement must name one by one (`Gitops-<id>[<finding>]`).
 */
export interface ProjectRule {
  /** Rule id after the pack name, e.g. `WorldIngressOnlyWeb`. */
  readonly id: string;
  /** Why the resource was flagged: the first line of the synth error. */
  readonly info: string;
  /** Why the rule exists. */
  readonly explanation: string;
  readonly check: (node: CfnResource, context: RuleContext) => NagRuleResult;
}

/** A CloudFormation property of a resource, resolved (tokens become intrinsics). */
export function resolvedProperty<T>(node: CfnResource, name: string): T | undefined {
  // biome-ignore lint/suspicious/noExplicitAny: L1 properties are read by CloudFormation name
  const props = Stack.of(node).resolve((node as any)._toCloudFormation()).Resources;
  const resource = Object.values(props ?? {})[0] as { Properties?: Record<string, unknown> } | undefined;
  return resource?.Properties?.[name] as T | undefined;
}

/** Every permission policy document of an IAM resource: inline policies of a role, a policy's document. */
export function permissionDocuments(node: CfnResource): IamPolicyDocument[] {
  switch (node.cfnResourceType) {
    case 'AWS::IAM::Policy':
    case 'AWS::IAM::ManagedPolicy':
      return [resolvedProperty<IamPolicyDocument>(node, 'PolicyDocument') ?? {}];
    case 'AWS::IAM::Role':
    case 'AWS::IAM::User':
    case 'AWS::IAM::Group':
      return (resolvedProperty<{ PolicyDocument?: IamPolicyDocument }[]>(node, 'Policies') ?? []).map((p) => p.PolicyDocument ?? {});
    default:
      return [];
  }
}

/** cdk-nag's result for a list of findings: each id once, or COMPLIANT when there is none. */
export function findingIds(findings: readonly PolicyFinding[]): string[] {
  return [...new Set(findings.map((f) => f.id))];
}
