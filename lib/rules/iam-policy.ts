/*
 * What an IAM policy document allows, evaluated by content: the one implementation behind the
 * project's cdk-nag rules (lib/rules/*) and `ops iam-audit` (scripts/ops/commands/iam-audit.ts),
 * so the synth-time check and the audit of the live account cannot disagree.
 *
 * Documents are read in CloudFormation/IAM JSON form (`Statement`, `Effect`, `Action`, ...). Values
 * that are not plain strings (unresolved `Fn::Join`, `Ref`) are never `*`: they name something.
 */
import { GITHUB_OIDC_ISSUER } from '../names';

/** One IAM policy statement, as CloudFormation and IAM render it. */
export interface IamStatement {
  readonly Sid?: string;
  readonly Effect?: string;
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Condition?: unknown;
}

/** An IAM policy document. */
export interface IamPolicyDocument {
  readonly Version?: string;
  readonly Statement?: IamStatement | readonly IamStatement[];
}

/** A single finding: a stable id (used as the cdk-nag finding id) and a sentence for humans. */
export interface PolicyFinding {
  /** e.g. `Action::s3:GetObject`, stable so a cdk-nag acknowledgement can name exactly it. */
  readonly id: string;
  readonly message: string;
}

/**
 * Actions that read or change data, or run code, rather than describe resources: none of them
 * may be allowed on `Resource: *`. A pattern in a policy (`s3:Get*`, `ssm:*`, `*`) matches when it
 * covers any of these.
 */
export const DATA_PLANE_ACTIONS: readonly string[] = [
  's3:GetObject',
  's3:GetObjectVersion',
  's3:PutObject',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  'ssm:GetParameter',
  'ssm:GetParameters',
  'ssm:GetParametersByPath',
  'ssm:PutParameter',
  'ssm:GetCommandInvocation',
  'ssm:ListCommandInvocations',
  'ssm:SendCommand',
  'ssm:StartSession',
  'secretsmanager:GetSecretValue',
  'kms:Decrypt',
  'kms:GenerateDataKey',
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:PutItem',
  'sqs:ReceiveMessage',
  'sqs:SendMessage',
  'sns:Publish',
  'logs:GetLogEvents',
  'logs:FilterLogEvents',
  'logs:PutLogEvents',
  'ec2:GetPasswordData',
  'lambda:InvokeFunction',
  'rds-db:connect',
];

/** Actions that hand out another principal's permissions: never on `Resource: *`. */
export const PRIVILEGE_ACTIONS: readonly string[] = ['iam:PassRole', 'sts:AssumeRole'];

/** Re-exported only for lib/constructs/github-deploy-role.ts, which imports it from here; its home is ../names. */
export { GITHUB_OIDC_ISSUER };

/** A value or a list of values as a list; anything absent is an empty list. */
export function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The statements of a document (a single statement object counts as a list of one). */
export function statementsOf(document: IamPolicyDocument | undefined): IamStatement[] {
  return listOf(document?.Statement) as IamStatement[];
}

/** IAM's action matching: case-insensitive, `*` any run of characters, `?` one character. */
export function actionPatternMatches(pattern: string, action: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(action);
}

const strings = (value: unknown): string[] => listOf(value).filter((v): v is string => typeof v === 'string');
const isAllow = (s: IamStatement) => s.Effect === 'Allow';
/** `Resource: *` (or a NotResource, which allows every resource but a few). */
const onAnyResource = (s: IamStatement) => strings(s.Resource).includes('*') || s.NotResource !== undefined;

/**
 * Allowed actions of `targets` reachable on every resource: each finding names the statement's
 * own pattern (`Action::s3:Get*`), or `NotAction::...` for an Allow with NotAction.
 */
function actionsOnAnyResource(statements: readonly IamStatement[], targets: readonly string[], what: string): PolicyFinding[] {
  const findings = new Map<string, PolicyFinding>();
  for (const s of statements.filter((st) => isAllow(st) && onAnyResource(st))) {
    for (const pattern of strings(s.Action)) {
      const hit = targets.filter((t) => actionPatternMatches(pattern, t));
      if (hit.length > 0)
        findings.set(`Action::${pattern}`, { id: `Action::${pattern}`, message: `allows ${pattern} (${what}: ${hit.join(', ')}) on Resource "*"` });
    }
    if (s.NotAction !== undefined) {
      const excluded = strings(s.NotAction);
      const hit = targets.filter((t) => !excluded.some((p) => actionPatternMatches(p, t)));
      if (hit.length > 0) {
        const id = `NotAction::${excluded.join(',')}`;
        findings.set(id, { id, message: `allows every action but ${excluded.join(', ')} (${what}: ${hit.join(', ')}) on Resource "*"` });
      }
    }
  }
  return [...findings.values()];
}

/** Data-plane actions (see `DATA_PLANE_ACTIONS`) allowed on `Resource: *`. */
export function dataPlaneOnAnyResource(document: IamPolicyDocument | undefined): PolicyFinding[] {
  return actionsOnAnyResource(statementsOf(document), DATA_PLANE_ACTIONS, 'data plane');
}

/** `iam:PassRole` or `sts:AssumeRole` allowed on `Resource: *`. */
export function privilegeOnAnyResource(document: IamPolicyDocument | undefined): PolicyFinding[] {
  return actionsOnAnyResource(statementsOf(document), PRIVILEGE_ACTIONS, 'hands out other roles');
}

/** Administrator by content: `*` (or every IAM action) allowed on every resource, whatever the policy is called. */
export function administratorAccess(document: IamPolicyDocument | undefined): PolicyFinding[] {
  const findings = actionsOnAnyResource(statementsOf(document), ['iam:CreateUser', 'iam:AttachRolePolicy', 'iam:PutRolePolicy'], 'administers IAM');
  return findings.map((f) => ({ id: f.id, message: `grants administrator: ${f.message}` }));
}

/** A trust statement's principals that are anyone: `"*"`, `{AWS: "*"}`, or any NotPrincipal. */
export function wildcardTrust(trust: IamPolicyDocument | undefined): PolicyFinding[] {
  const findings: PolicyFinding[] = [];
  for (const s of statementsOf(trust).filter(isAllow)) {
    if (s.NotPrincipal !== undefined) findings.push({ id: 'NotPrincipal', message: 'trusts every principal but those in NotPrincipal' });
    const principal = s.Principal;
    if (principal === '*') findings.push({ id: 'Principal::*', message: 'trusts Principal "*": anyone' });
    else if (principal && typeof principal === 'object') {
      for (const [kind, value] of Object.entries(principal as Record<string, unknown>)) {
        if (strings(value).includes('*')) findings.push({ id: `Principal::${kind}:*`, message: `trusts Principal ${kind} "*": anyone` });
      }
    }
  }
  return findings;
}

/**
 * Web-identity trust statements that are not exact: `StringEquals` on the token's `aud` and `sub`,
 * one value each, no wildcard, and no `StringLike`/`ForAnyValue` on `sub` (a pattern lets any
 * matching branch, environment or fork in). `expectedSubject` pins the subject when known.
 */
export function inexactOidcTrust(trust: IamPolicyDocument | undefined, expectedSubject?: string): PolicyFinding[] {
  const findings: PolicyFinding[] = [];
  const webIdentity = statementsOf(trust).filter((s) => isAllow(s) && strings(s.Action).some((a) => actionPatternMatches(a, 'sts:AssumeRoleWithWebIdentity')));
  for (const s of webIdentity) {
    const federated = strings((s.Principal as { Federated?: unknown } | undefined)?.Federated);
    const issuer = federated.map((p) => p.split('oidc-provider/')[1]).find(Boolean) ?? GITHUB_OIDC_ISSUER;
    const condition = (s.Condition ?? {}) as Record<string, Record<string, unknown>>;
    // IAM reads condition keys case-insensitively: `Token.Actions.GitHubUserContent.com:SUB` is the subject too.
    const claim = (keys: Record<string, unknown> | undefined, key: string): unknown =>
      Object.entries(keys ?? {}).find(([k]) => k.toLowerCase() === `${issuer}:${key}`.toLowerCase())?.[1];
    const isClaim = (k: string) => [`${issuer}:sub`, `${issuer}:aud`].some((c) => c.toLowerCase() === k.toLowerCase());
    const equals = condition.StringEquals ?? {};
    for (const key of ['aud', 'sub']) {
      const values = strings(claim(equals, key));
      if (values.length !== 1)
        findings.push({
          id: `Condition::${key}`,
          message: `trust does not pin ${issuer}:${key} with StringEquals to exactly one value (has ${JSON.stringify(values)})`,
        });
      else if (values[0].includes('*') || values[0].includes('?'))
        findings.push({ id: `Condition::${key}`, message: `trust ${issuer}:${key} "${values[0]}" contains a wildcard` });
    }
    const sub = strings(claim(equals, 'sub'));
    if (expectedSubject !== undefined && sub.length === 1 && sub[0] !== expectedSubject)
      findings.push({ id: 'Condition::sub', message: `trust sub is "${sub[0]}", expected exactly "${expectedSubject}"` });
    for (const [operator, keys] of Object.entries(condition)) {
      if (operator === 'StringEquals') continue;
      if (Object.keys(keys ?? {}).some(isClaim))
        findings.push({ id: `Condition::${operator}`, message: `trust also matches ${issuer} claims with ${operator}: only StringEquals is exact` });
    }
  }
  return findings;
}
