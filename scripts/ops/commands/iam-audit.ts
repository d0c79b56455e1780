/*
 * The runbook's IAM audit as a pure function: given what IAM says about a role, list what its
 * policies allow that they must not. Evaluated by content with the same code as the project's
 * cdk-nag rules (lib/rules/iam-policy.ts), never by policy name: an administrator policy called
 * "ReadOnly" is an administrator policy.
 */
import { githubDeploySubject } from '../../../lib/constructs/github-deploy-role';
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

/** One thing a role's policies allow that they must not, or lack; every finding fails the audit (there are no exceptions). */
export interface Finding {
  readonly role: string;
  readonly problem: string;
}

const allows = (documents: readonly PolicyDocument[], action: string) =>
  documents.some((d) =>
    statementsOf(d).some((s) => s.Effect === 'Allow' && [s.Action].flat().some((a) => typeof a === 'string' && actionPatternMatches(a, action))),
  );

/** Every problem with one role; an empty list means it passes. */
export function auditRole(role: RoleFacts, expectation: RoleExpectation): Finding[] {
  const findings: Finding[] = [];
  const add = (problem: string) => findings.push({ role: role.roleName, problem });

  const policies = [
    ...role.inlinePolicies.map((p) => ({ label: `policy ${p.name}`, document: p.document })),
    ...role.attachedPolicies.map((p) => ({ label: `managed policy ${p.arn}`, document: p.document })),
  ];
  for (const { label, document } of policies) {
    for (const f of administratorAccess(document)) add(`${label} ${f.message}`);
    for (const f of privilegeOnAnyResource(document)) add(`${label} ${f.message}`);
    for (const f of dataPlaneOnAnyResource(document)) add(`${label} ${f.message}`);
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

  // The outcome of a command is read from the environment's command log group (FilterLogEvents).
  for (const action of ['ssm:SendCommand', 'logs:FilterLogEvents']) {
    if (!allows(documents, action)) add(`lacks ${action}: the pipeline cannot deploy through SSM`);
  }
  const webIdentity = statementsOf(role.trustPolicy).filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes('sts:AssumeRoleWithWebIdentity'));
  if (webIdentity.length === 0) add('trust policy does not allow sts:AssumeRoleWithWebIdentity from GitHub');
  for (const f of inexactOidcTrust(role.trustPolicy, githubDeploySubject(expectation.githubRepository, expectation.environment))) add(f.message);
  return findings;
}
