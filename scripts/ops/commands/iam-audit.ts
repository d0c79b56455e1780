/*
 * The runbook's IAM audit as pure functions: given what IAM says about a role, list what its
 * policies allow that they must not (`auditRole`, by content with the same code as the project's
 * cdk-nag rules, never by policy name: an administrator policy called "ReadOnly" is an
 * administrator policy), and whether the environment's principals, boundary, execution policy and
 * bootstrap roles keep it isolated (`auditIsolation`, by the IAM policy evaluator of the tests).
 */
import { githubDeploySubject } from '../../../lib/constructs/github-deploy-role';
import { type Decision, decide, type EvaluatedPrincipal } from '../../../lib/iam/evaluate';
import {
  crossEnvironmentOperations,
  type EnvironmentResources,
  neverOperations,
  ownWork,
  type PrincipalKind,
  type ResourcePolicyRef,
} from '../../../lib/iam/operations';
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

/** One role of the environment as IAM holds it, and what it is for. */
export interface AuditedPrincipal {
  readonly kind: PrincipalKind;
  readonly role: RoleFacts;
}

/** What the isolation audit judges: an environment's principals, resources and resource policies, and its neighbours. */
export interface IsolationFacts {
  /** The environment's own resources (names and stack outputs). */
  readonly own: EnvironmentResources;
  /** Other environments of its account (from the config), and a probe environment that does not exist. */
  readonly neighbours: readonly EnvironmentResources[];
  /** The roles read from IAM: OIDC deploy role, instance role, bootstrap roles and execution role. */
  readonly principals: readonly AuditedPrincipal[];
  /** Documents of the permissions boundaries (and managed policies) by ARN, as IAM returned them. */
  readonly policyDocuments: ReadonlyMap<string, PolicyDocument>;
  /** Bucket policies by bucket name (the backups and the staging bucket). */
  readonly bucketPolicies: ReadonlyMap<string, PolicyDocument>;
}

const roleArn = (account: string, roleName: string) => `arn:aws:iam::${account}:role/${roleName}`;

/**
 * The isolation matrix of test/iam/, over what IAM holds: every principal of the environment, and a
 * role a template could create (anything within the boundary), against each neighbour's resources
 * (denied), against what no principal may do to its own backups and boundary (denied), and against
 * its own work (allowed). Judged by the same IAM policy evaluator as the tests (lib/iam/evaluate.ts),
 * which matches action names case-insensitively as AWS does: `SSM:SendCommand` is `ssm:SendCommand`.
 */
export async function auditIsolation(facts: IsolationFacts): Promise<Finding[]> {
  const findings: Finding[] = [];
  const account = facts.own.account;
  const trust = new Map(facts.principals.map((p) => [roleArn(account, p.role.roleName), p.role.trustPolicy]));
  const resourcePolicy = (ref: ResourcePolicyRef | undefined) =>
    ref === undefined ? undefined : ref.kind === 'bucket' ? facts.bucketPolicies.get(ref.bucket) : trust.get(ref.roleArn);
  const ownBoundary = facts.policyDocuments.get(facts.own.boundaryArn);
  if (!ownBoundary)
    findings.push({ role: facts.own.boundaryArn, problem: 'the permissions boundary could not be read: run npm run bootstrap (docs/first-deploy.md, step 2)' });
  const subjects: { name: string; kind: PrincipalKind; principal: EvaluatedPrincipal }[] = [];
  for (const { kind, role } of facts.principals) {
    const boundary = role.permissionsBoundaryArn === undefined ? undefined : facts.policyDocuments.get(role.permissionsBoundaryArn);
    if (role.permissionsBoundaryArn !== undefined && !boundary) {
      findings.push({ role: role.roleName, problem: `its permissions boundary ${role.permissionsBoundaryArn} could not be read` });
      continue;
    }
    const identityPolicies = [
      ...role.inlinePolicies.map((p) => ({ name: p.name, document: p.document })),
      ...role.attachedPolicies.map((p) => ({ name: p.arn, document: p.document })),
    ];
    subjects.push({ name: role.roleName, kind, principal: { arn: roleArn(account, role.roleName), account, identityPolicies, boundary } });
  }
  if (ownBoundary) {
    subjects.push({
      name: 'a role a template could create',
      kind: 'created-role',
      principal: {
        arn: roleArn(account, `${facts.own.name}-audit-created-role`),
        account,
        identityPolicies: [{ name: 'everything', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }],
        boundary: ownBoundary,
      },
    });
  }
  for (const { name, kind, principal } of subjects) {
    const cells = [
      ...facts.neighbours.flatMap((n) => crossEnvironmentOperations(facts.own, n)).map((op) => ({ op, allowed: false })),
      ...neverOperations(facts.own, {
        executionRole: kind === 'execution',
        filePublishing: kind === 'file-publishing',
        bootstrapDeploy: kind === 'bootstrap-deploy',
        plan: kind === 'oidc-plan',
      }).map((op) => ({ op, allowed: false })),
      ...ownWork(kind, facts.own).map((op) => ({ op, allowed: true })),
    ];
    for (const { op, allowed } of cells) {
      let decision: Decision;
      try {
        decision = await decide(principal, { ...op, resourcePolicy: resourcePolicy(op.resourcePolicy) });
      } catch (error) {
        findings.push({ role: name, problem: `could not be judged on "${op.id}": ${(error as Error).message}` });
        continue;
      }
      if (!allowed && decision === 'Allowed') findings.push({ role: name, problem: `may ${op.id}: ${op.action} on ${op.resource} is allowed` });
      if (allowed && decision !== 'Allowed') findings.push({ role: name, problem: `cannot ${op.id}: ${op.action} on ${op.resource} is ${decision}` });
    }
  }
  return findings;
}
