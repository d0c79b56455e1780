import { GetRoleCommand, GetRolePolicyCommand, type IAMClient, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import type { PolicyDocument, RoleFacts } from '../commands/iam-audit';

/** IAM returns policy documents URL-encoded. */
function decode(document: string | undefined): PolicyDocument {
  return JSON.parse(decodeURIComponent(document ?? '%7B%22Statement%22%3A%5B%5D%7D')) as PolicyDocument;
}

/** Reads a role's trust policy, inline policies and attached managed policies. */
export async function readRole(client: IAMClient, roleName: string): Promise<RoleFacts> {
  const role = await client.send(new GetRoleCommand({ RoleName: roleName }));
  const names = (await client.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
  const inlinePolicies = [];
  for (const name of names) {
    const policy = await client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
    inlinePolicies.push({ name, document: decode(policy.PolicyDocument) });
  }
  const attached = (await client.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))).AttachedPolicies ?? [];
  return {
    roleName,
    trustPolicy: decode(role.Role?.AssumeRolePolicyDocument),
    inlinePolicies,
    attachedPolicyArns: attached.map((p) => p.PolicyArn ?? '').filter(Boolean),
  };
}

/** `arn:aws:iam::123:role/path/name` → `name`. */
export function roleNameFromArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}
