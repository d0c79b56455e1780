/*
 * The runbook's IAM audit as a pure function: given what IAM says about a role, list what its
 * policies allow that they must not. Evaluated by content with the same code as the project's
 * cdk-nag rules (lib/rules/iam-policy.ts), never by policy name: an administrator policy called
 * "ReadOnly" is an administrator policy.
 */
import { COMMAND_RESULTS_EXCEPTION, githubDeploySubject } from '../../../lib/constructs/github-deploy-role';
import {
  actionPatternMatches,
  administratorAccess,
  dataPlaneOnAnyResource,
  type IamPolicyDocument,
  type IamStatement,
  inexactOidcTrust,
  privilegeOnAnyResource,
  statementsOf,
  wildcardTrust,
} from '../../../lib/rules/iam-policy';

/** An IAM policy document, as IAM returns it (decoded). */
export type PolicyDocument = IamPolicyDocument;
export type PolicyStatement = IamStatement;

/** What IAM knows about one role. */
export interface RoleFacts {
  readonly roleName: string;
  readonly trustPolicy: PolicyDocument;
  readonly inlinePolicies: readonly { readonly name: string; readonly document: PolicyDocument }[];
  /** Attached managed policies with the document of their default version. */
  readonly attachedPolicies: readonly { readonly arn: string; readonly document: PolicyDocument }[];
  /** ARN of the permissions boundary, when the role has one. */
  readonly permissionsBoundaryArn?: string;
}

/** What a role is for, which decides what it must and must not have. */
export type RoleExpectation =
  | {
      readonly kind: 'deploy';
      readonly githubRepository: string;
      readonly environment: string;
      /** Name of the permissions boundary the role must carry. @default - any boundary */
      readonly permissionsBoundaryName?: string;
    }
  | { readonly kind: 'instance'; readonly permissionsBoundaryName?: string };

export interface Finding {
  readonly role: string;
  readonly problem: string;
  /**
   * Set when the finding is a documented, reasoned exception (docs/aws.md): reported, not failing.
   * @default - a real finding
   */
  readonly exception?: string;
}

/**
 * Documented exceptions: a finding id of a rule, on a role kind, with its reason. Anything else
 * is a finding. Kept to what IAM cannot express more narrowly.
 */
const EXCEPTIONS: readonly { kind: RoleExpectation['kind']; finding: string; reason: string }[] = [
  { kind: 'deploy', finding: 'Action::ssm:GetCommandInvocation', reason: COMMAND_RESULTS_EXCEPTION },
];

const allows = (documents: readonly PolicyDocument[], action: string) =>
  documents.some((d) => statementsOf(d).some((s) => s.Effect === 'Allow' && [s.Action].flat().some((a) => typeof a === 'string' && actionPatternMatches(a, action))));

/** Every problem with one role; an empty list (or only exceptions) means it passes. */
export function auditRole(role: RoleFacts, expectation: RoleExpectation): Finding[] {
  const findings: Finding[] = [];
  const add = (problem: string, exception?: string) => findings.push(exception ? { role: role.roleName, problem, exception } : { role: role.roleName, problem });

  const policies = [
    ...role.inlinePolicies.map((p) => ({ label: `policy ${p.name}`, document: p.document })),
    ...role.attachedPolicies.map((p) => ({ label: `managed policy ${p.arn}`, document: p.document })),
  ];
  for (const { label, document } of policies) {
    for (const f of administratorAccess(document)) add(`${label} ${f.message}`);
    for (const f of privilegeOnAnyResource(document)) add(`${label} ${f.message}`);
    for (const f of dataPlaneOnAnyResource(document)) {
      const exception = EXCEPTIONS.find((e) => e.kind === expectation.kind && e.finding === f.id);
      add(`${label} ${f.message}`, exception?.reason);
    }
  }
  for (const f of wildcardTrust(role.trustPolicy)) add(`trust ${f.message}`);

  const boundary = expectation.permissionsBoundaryName;
  if (!role.permissionsBoundaryArn) add('has no permissions boundary: nothing caps what its policies may grant');
  else if (boundary && !role.permissionsBoundaryArn.endsWith(`:policy/${boundary}`))
    add(`has the permissions boundary ${role.permissionsBoundaryArn}, expected the policy ${boundary}`);

  const documents = policies.map((p) => p.document);
  if (expectation.kind === 'instance') {
    if (!allows(documents, 'ssmmessages:CreateControlChannel') || !allows(documents, 'ec2messages:GetMessages'))
      add('lacks the SSM agent messaging actions: the instance cannot be reached through SSM');
    return findings;
  }

  for (const action of ['ssm:SendCommand', 'ssm:GetCommandInvocation']) {
    if (!allows(documents, action)) add(`lacks ${action}: the pipeline cannot deploy through SSM`);
  }
  const webIdentity = statementsOf(role.trustPolicy).filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes('sts:AssumeRoleWithWebIdentity'));
  if (webIdentity.length === 0) add('trust policy does not allow sts:AssumeRoleWithWebIdentity from GitHub');
  for (const f of inexactOidcTrust(role.trustPolicy, githubDeploySubject(expectation.githubRepository, expectation.environment))) add(f.message);
  return findings;
}

/** Findings that fail the audit (documented exceptions excluded). */
export function failingFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.exception === undefined);
}
