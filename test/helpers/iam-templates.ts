import { actionPatternMatches, type IamPolicyDocument, type IamStatement, listOf, statementsOf } from '../../lib/rules/iam-policy';

/** Reads of command output and parameters that must never be allowed on `Resource: *` (issue 8's acceptance). */
export const NEVER_ON_ANY_RESOURCE = [
  'ssm:GetCommandInvocation',
  'ssm:GetParameter',
  'ssm:GetParameters',
  'ssm:GetParametersByPath',
  'ssm:GetParameterHistory',
] as const;

/**
 * AWS managed policies that grant one of those on `*` (AmazonSSMManagedInstanceCore grants
 * `ssm:GetParameter*` on `*`): attaching one is a finding as well, since the template only names it.
 */
const BROAD_MANAGED_POLICIES = ['AmazonSSMManagedInstanceCore', 'AmazonSSMFullAccess', 'AmazonSSMReadOnlyAccess', 'AmazonEC2RoleforSSM'];

/** One IAM statement of a template, with the resource it belongs to. */
export interface TemplateStatement {
  readonly resourceId: string;
  readonly statement: IamStatement;
}

type Resources = Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;

/** Every identity-policy statement of a template: policies, managed policies and roles' inline policies. */
export function templateStatements(template: { readonly Resources?: Resources }): TemplateStatement[] {
  const out: TemplateStatement[] = [];
  for (const [resourceId, resource] of Object.entries(template.Resources ?? {})) {
    const props = resource.Properties ?? {};
    const documents: unknown[] =
      resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy'
        ? [props.PolicyDocument]
        : resource.Type === 'AWS::IAM::Role'
          ? listOf(props.Policies).map((p) => (p as { PolicyDocument?: unknown }).PolicyDocument)
          : [];
    for (const document of documents) for (const statement of statementsOf(document as IamPolicyDocument)) out.push({ resourceId, statement });
  }
  return out;
}

/**
 * Statements (and attached managed policies) of a template that allow one of
 * `NEVER_ON_ANY_RESOURCE` on `Resource: *` (or with NotAction / NotResource that reach it), each
 * as `<resource id>: <action pattern>`. Empty means the template keeps the promise.
 */
export function commandOrParameterReadsOnAnyResource(template: { readonly Resources?: Resources }): string[] {
  const findings: string[] = [];
  for (const { resourceId, statement: s } of templateStatements(template)) {
    if (s.Effect !== 'Allow') continue;
    const resources = listOf(s.Resource);
    if (!resources.includes('*') && s.NotResource === undefined) continue;
    for (const pattern of listOf(s.Action).filter((a): a is string => typeof a === 'string')) {
      if (NEVER_ON_ANY_RESOURCE.some((action) => actionPatternMatches(pattern, action))) findings.push(`${resourceId}: ${pattern}`);
    }
    if (s.NotAction !== undefined) {
      const excluded = listOf(s.NotAction).filter((a): a is string => typeof a === 'string');
      if (NEVER_ON_ANY_RESOURCE.some((action) => !excluded.some((p) => actionPatternMatches(p, action))))
        findings.push(`${resourceId}: NotAction ${excluded.join(',')}`);
    }
  }
  for (const [resourceId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const attached = JSON.stringify(resource.Properties?.ManagedPolicyArns ?? []);
    for (const name of BROAD_MANAGED_POLICIES)
      if (attached.includes(`policy/${name}"`) || attached.includes(`policy/service-role/${name}"`)) findings.push(`${resourceId}: managed ${name}`);
  }
  return findings;
}
