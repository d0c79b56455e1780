/*
 * What a change does to each environment, computed from two synthesized outputs (base and head),
 * so a pull request can show it without AWS credentials. CloudFormation resources are compared by
 * logical id (a changed type or a replaced logical id is called out: CloudFormation replaces the
 * resource), Kubernetes objects by apiVersion/kind/namespace/name.
 */

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface Change {
  readonly kind: ChangeKind;
  /** `AWS::S3::Bucket BackupsBucket1234` or `apps/v1 Deployment auraxis-prod/auraxis`. */
  readonly subject: string;
  /** Changed property paths, e.g. `Properties.InstanceType: "t4g.small" → "t4g.medium"`. */
  readonly details: readonly string[];
  /** True when the change deletes state or replaces a stateful resource. */
  readonly risky: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Resource types whose removal or replacement loses data. */
const STATEFUL_TYPES = new Set(['AWS::S3::Bucket', 'AWS::Logs::LogGroup', 'AWS::EC2::Volume', 'AWS::EC2::EIP', 'AWS::Route53::HostedZone', 'AWS::SNS::Topic', 'PersistentVolumeClaim', 'Namespace']);

const MAX_DETAILS = 12;

function show(value: Json | undefined): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Leaf-level differences between two JSON values, as `path: old → new`. */
export function jsonDifferences(before: Json | undefined, after: Json | undefined, path = ''): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const bothObjects = before && after && typeof before === 'object' && typeof after === 'object' && !Array.isArray(before) && !Array.isArray(after);
  if (bothObjects) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => jsonDifferences((before as Record<string, Json>)[key], (after as Record<string, Json>)[key], path ? `${path}.${key}` : key));
  }
  return [`${path || '(root)'}: ${show(before)} → ${show(after)}`];
}

function limited(details: string[]): string[] {
  return details.length > MAX_DETAILS ? [...details.slice(0, MAX_DETAILS), `… and ${details.length - MAX_DETAILS} more`] : details;
}

export interface CfnTemplate {
  Resources?: Record<string, { Type: string; Properties?: Json; [key: string]: Json | undefined }>;
  Outputs?: Record<string, Json>;
}

/** Resource and output changes between two CloudFormation templates (either may be absent: a new or deleted stack). */
export function diffTemplates(before: CfnTemplate | undefined, after: CfnTemplate | undefined): Change[] {
  const changes: Change[] = [];
  const oldResources = before?.Resources ?? {};
  const newResources = after?.Resources ?? {};
  for (const id of [...new Set([...Object.keys(oldResources), ...Object.keys(newResources)])].sort()) {
    const was = oldResources[id];
    const now = newResources[id];
    if (!was) {
      changes.push({ kind: 'added', subject: `${now.Type} ${id}`, details: [], risky: false });
    } else if (!now) {
      changes.push({ kind: 'removed', subject: `${was.Type} ${id}`, details: [was.DeletionPolicy === 'Retain' ? 'retained in the account (DeletionPolicy: Retain)' : 'deleted'], risky: STATEFUL_TYPES.has(was.Type) && was.DeletionPolicy !== 'Retain' });
    } else if (was.Type !== now.Type) {
      changes.push({ kind: 'changed', subject: `${now.Type} ${id}`, details: [`type ${was.Type} → ${now.Type}: CloudFormation replaces it`], risky: true });
    } else {
      const details = jsonDifferences(withoutMetadata(was), withoutMetadata(now));
      if (details.length > 0) changes.push({ kind: 'changed', subject: `${now.Type} ${id}`, details: limited(details), risky: false });
    }
  }
  const outputDetails = jsonDifferences(before?.Outputs ?? {}, after?.Outputs ?? {}).map((d) => `Outputs.${d}`);
  if (outputDetails.length > 0) changes.push({ kind: 'changed', subject: 'Outputs', details: limited(outputDetails), risky: false });
  return changes;
}

function withoutMetadata(resource: Record<string, Json | undefined>): Json {
  // CDK metadata (construct paths, asset hashes) changes with refactors and says nothing about the deployed resource.
  const { Metadata: _metadata, ...rest } = resource;
  return rest as Json;
}

export interface K8sObjectLike {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

function k8sKey(o: K8sObjectLike): string {
  return `${o.apiVersion} ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** Object changes between two sets of Kubernetes manifests. */
export function diffManifests(before: readonly K8sObjectLike[], after: readonly K8sObjectLike[]): Change[] {
  const oldByKey = new Map(before.map((o) => [k8sKey(o), o]));
  const newByKey = new Map(after.map((o) => [k8sKey(o), o]));
  const changes: Change[] = [];
  for (const key of [...new Set([...oldByKey.keys(), ...newByKey.keys()])].sort()) {
    const was = oldByKey.get(key);
    const now = newByKey.get(key);
    if (!was) changes.push({ kind: 'added', subject: key, details: [], risky: false });
    else if (!now) changes.push({ kind: 'removed', subject: key, details: ['pruned by the GitOps controller'], risky: STATEFUL_TYPES.has(was.kind) });
    else {
      const details = jsonDifferences(was as unknown as Json, now as unknown as Json);
      if (details.length > 0) changes.push({ kind: 'changed', subject: key, details: limited(details), risky: false });
    }
  }
  return changes;
}

const SYMBOL: Record<ChangeKind, string> = { added: '+', removed: '-', changed: '~' };

/** A Markdown section per unit (stack or environment's manifests). */
export function formatChanges(title: string, changes: readonly Change[]): string {
  if (changes.length === 0) return `#### ${title}\nno changes\n`;
  const counts = (['added', 'changed', 'removed'] as const).map((k) => `${changes.filter((c) => c.kind === k).length} ${k}`).join(', ');
  const lines = changes.flatMap((c) => [`${SYMBOL[c.kind]} ${c.subject}${c.risky ? '   ⚠ loses or replaces state' : ''}`, ...c.details.map((d) => `    ${d}`)]);
  return `#### ${title} (${counts})\n\`\`\`diff\n${lines.join('\n')}\n\`\`\`\n`;
}
