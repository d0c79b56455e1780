/*
 * The runbook's IAM audit as a pure function: given what IAM says about a role, list what is wrong.
 * Checks (from the runbook): no AdministratorAccess or wildcard actions; deploy roles keep the
 * minimal SSM actions; the OIDC trust names exactly one GitHub environment per role.
 */

/** An IAM policy document, as IAM returns it (decoded). */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement | readonly PolicyStatement[];
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** What IAM knows about one role. */
export interface RoleFacts {
  readonly roleName: string;
  readonly trustPolicy: PolicyDocument;
  readonly inlinePolicies: readonly { readonly name: string; readonly document: PolicyDocument }[];
  readonly attachedPolicyArns: readonly string[];
}

/** What a role is for, which decides what it must and must not have. */
export type RoleExpectation =
  | { readonly kind: 'deploy'; readonly githubRepository: string; readonly environment: string }
  | { readonly kind: 'instance' };

export interface Finding {
  readonly role: string;
  readonly problem: string;
}

const TOO_BROAD_MANAGED = ['AdministratorAccess', 'PowerUserAccess', 'IAMFullAccess', 'AmazonSSMFullAccess', 'AmazonS3FullAccess'];
const GITHUB_OIDC = 'token.actions.githubusercontent.com';

function list<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function statements(document: PolicyDocument): readonly PolicyStatement[] {
  return list(document.Statement);
}

/** Every problem with one role; an empty list means it passes. */
export function auditRole(role: RoleFacts, expectation: RoleExpectation): Finding[] {
  const findings: Finding[] = [];
  const add = (problem: string) => findings.push({ role: role.roleName, problem });

  for (const arn of role.attachedPolicyArns) {
    const name = arn.split('/').pop() ?? arn;
    if (TOO_BROAD_MANAGED.includes(name)) add(`has the managed policy ${name} attached`);
  }

  const allowed = new Set<string>();
  for (const { name, document } of role.inlinePolicies) {
    for (const statement of statements(document)) {
      if (statement.Effect !== 'Allow') continue;
      if (statement.NotAction !== undefined) add(`policy ${name} allows NotAction ${JSON.stringify(statement.NotAction)}, which grants everything else`);
      for (const action of list(statement.Action)) {
        allowed.add(action.toLowerCase());
        if (action === '*' || action.endsWith(':*')) add(`policy ${name} allows the wildcard action "${action}"`);
      }
    }
  }

  if (expectation.kind === 'instance') {
    if (!role.attachedPolicyArns.some((arn) => arn.endsWith('/AmazonSSMManagedInstanceCore'))) {
      add('lacks AmazonSSMManagedInstanceCore: the instance cannot be reached through SSM');
    }
    return findings;
  }

  for (const action of ['ssm:SendCommand', 'ssm:GetCommandInvocation']) {
    if (!allowed.has(action.toLowerCase())) add(`lacks ${action}: the pipeline cannot deploy through SSM`);
  }
  findings.push(...auditGithubTrust(role, expectation.githubRepository, expectation.environment));
  return findings;
}

function auditGithubTrust(role: RoleFacts, repository: string, environment: string): Finding[] {
  const findings: Finding[] = [];
  const add = (problem: string) => findings.push({ role: role.roleName, problem });
  const expectedSub = `repo:${repository}:environment:${environment}`;
  const assumes = statements(role.trustPolicy).filter((s) => s.Effect === 'Allow' && list(s.Action).includes('sts:AssumeRoleWithWebIdentity'));
  if (assumes.length === 0) {
    add('trust policy does not allow sts:AssumeRoleWithWebIdentity from GitHub');
    return findings;
  }
  for (const statement of assumes) {
    const federated = list((statement.Principal as { Federated?: string | string[] } | undefined)?.Federated);
    if (!federated.some((p) => p.endsWith(`oidc-provider/${GITHUB_OIDC}`))) add(`trust principal ${JSON.stringify(federated)} is not the GitHub OIDC provider`);
    const equals = statement.Condition?.StringEquals ?? {};
    const aud = list(equals[`${GITHUB_OIDC}:aud`]);
    const sub = list(equals[`${GITHUB_OIDC}:sub`]);
    if (aud.length !== 1 || aud[0] !== 'sts.amazonaws.com') add(`trust aud is ${JSON.stringify(aud)}, expected exactly "sts.amazonaws.com"`);
    if (sub.length !== 1 || sub[0] !== expectedSub) add(`trust sub is ${JSON.stringify(sub)}, expected exactly "${expectedSub}"`);
    const like = statement.Condition?.StringLike ?? {};
    if (like[`${GITHUB_OIDC}:sub`] !== undefined) add(`trust uses StringLike on sub (${JSON.stringify(like[`${GITHUB_OIDC}:sub`])}): any matching branch or environment could deploy`);
  }
  return findings;
}
