import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import type { PolicyDocument, RoleFacts } from '../commands/iam-audit';

/** IAM returns policy documents URL-encoded. */
function decode(document: string | undefined): PolicyDocument {
  return JSON.parse(decodeURIComponent(document ?? '%7B%22Statement%22%3A%5B%5D%7D')) as PolicyDocument;
}

/**
 * Reads a role's trust policy, inline policies, attached managed policies with the document of
 * their default version (the audit judges what they allow, not what they are called), and boundary.
 */
export async function readRole(client: IAMClient, roleName: string): Promise<RoleFacts> {
  const role = await client.send(new GetRoleCommand({ RoleName: roleName }));
  const names = (await client.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
  const inlinePolicies = [];
  for (const name of names) {
    const policy = await client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
    inlinePolicies.push({ name, document: decode(policy.PolicyDocument) });
  }
  const attached = (await client.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))).AttachedPolicies ?? [];
  const attachedPolicies = [];
  for (const arn of attached.map((p) => p.PolicyArn ?? '').filter(Boolean)) {
    const versionId = (await client.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.DefaultVersionId;
    const version = await client.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }));
    attachedPolicies.push({ arn, document: decode(version.PolicyVersion?.Document) });
  }
  const boundary = role.Role?.PermissionsBoundary?.PermissionsBoundaryArn;
  return {
    roleName,
    trustPolicy: decode(role.Role?.AssumeRolePolicyDocument),
    inlinePolicies,
    attachedPolicies,
    ...(boundary ? { permissionsBoundaryArn: boundary } : {}),
  };
}

/** `arn:aws:iam::123:role/path/name` → `name`. */
export function roleNameFromArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** The document of a managed policy's default version (a boundary, the execution policy), or undefined when IAM has no such policy. */
export async function readManagedPolicyDocument(client: IAMClient, policyArn: string): Promise<PolicyDocument | undefined> {
  try {
    const versionId = (await client.send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy?.DefaultVersionId;
    const version = await client.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: versionId }));
    return decode(version.PolicyVersion?.Document);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchEntityException' || (error as { name?: string }).name === 'NoSuchEntity') return undefined;
    throw error;
  }
}

/** `readRole`, or undefined when IAM has no role of that name (e.g. an environment not bootstrapped yet). */
export async function readRoleIfExists(client: IAMClient, roleName: string): Promise<RoleFacts | undefined> {
  try {
    return await readRole(client, roleName);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchEntityException' || (error as { name?: string }).name === 'NoSuchEntity') return undefined;
    throw error;
  }
}
