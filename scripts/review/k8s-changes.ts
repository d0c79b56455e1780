/*
 * What a pull request does to each environment's Kubernetes manifests (dist/<env>/): objects
 * compared by kind, namespace and name; a changed object shown as a unified diff of its YAML, so
 * a NetworkPolicy's widened CIDR reads as the one line that changed. Security changes are judged
 * in k8s-security.ts; objects whose pruning deletes data are data at risk.
 */
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { StateChange } from './cfn-changes';
import { keyOf, kubernetesFindings } from './k8s-security';
import type { SecurityFinding } from './security';
import type { K8sObject, SynthOutput } from './synth-output';

/** Kinds whose every change is a security change. */
export const SECURITY_KINDS = new Set([
  'NetworkPolicy',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ServiceAccount',
  'Secret',
  'ExternalSecret',
  'SecretStore',
  'ClusterSecretStore',
  'Ingress',
  'AuthorizationPolicy',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'AppProject',
]);

/** Fields of a workload that decide what it may do or read: a change to any is a security change. */
const SECURITY_FIELDS = new Set([
  'securityContext',
  'serviceAccountName',
  'automountServiceAccountToken',
  'secretRef',
  'secretKeyRef',
  'secret',
  'hostNetwork',
  'hostPID',
  'hostIPC',
  'hostPath',
  'privileged',
]);

/** Kinds whose removal (pruned by the GitOps controller) deletes data. */
const STATEFUL_KINDS: Readonly<Record<string, string>> = {
  PersistentVolumeClaim: 'the volume and its data (with the usual Delete reclaim policy)',
  Namespace: 'every object in it, volumes included',
};

export interface ObjectChange {
  /** `dist/<env>` */
  readonly unit: string;
  readonly environment: string;
  readonly kind: 'added' | 'removed' | 'changed';
  /** `NetworkPolicy auraxis-prod/auraxis-egress` */
  readonly subject: string;
  readonly security: boolean;
  /** Unified diff of the object's YAML (changed objects only). */
  readonly patch?: string;
}

export interface ManifestReview {
  readonly unit: string;
  readonly environment: string;
  readonly changes: readonly ObjectChange[];
  readonly state: readonly StateChange[];
  readonly findings: readonly SecurityFinding[];
}

/** Values under the security-relevant field names anywhere in an object, as text. */
function securityFields(value: unknown, found: string[] = [], path = ''): string[] {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) securityFields(v, found, `${path}[${i}]`);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (SECURITY_FIELDS.has(k)) found.push(`${path}.${k}=${JSON.stringify(v)}`);
      else securityFields(v, found, `${path}.${k}`);
    }
  }
  return found;
}

/** The object changes of one manifest directory. */
export function reviewManifests(unit: string, environment: string, base: readonly K8sObject[], head: readonly K8sObject[]): ManifestReview {
  const before = new Map(base.map((o) => [keyOf(o), o]));
  const after = new Map(head.map((o) => [keyOf(o), o]));
  const changes: ObjectChange[] = [];
  const state: StateChange[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const was = before.get(key);
    const now = after.get(key);
    const kind = (now ?? was)?.kind ?? '';
    if (!was) changes.push({ unit, environment, kind: 'added', subject: key, security: SECURITY_KINDS.has(kind) });
    else if (!now) {
      changes.push({ unit, environment, kind: 'removed', subject: key, security: SECURITY_KINDS.has(kind) });
      if (STATEFUL_KINDS[kind])
        state.push({
          unit,
          environment,
          subject: key,
          outcome: 'deleted',
          detail: `pruned by the GitOps controller: ${STATEFUL_KINDS[kind]} is lost`,
          severity: 'block',
        });
    } else {
      const a = stringify(was);
      const b = stringify(now);
      if (a === b) continue;
      const security = SECURITY_KINDS.has(kind) || JSON.stringify(securityFields(was)) !== JSON.stringify(securityFields(now));
      const patch = createTwoFilesPatch(`a/${key}`, `b/${key}`, a, b, '', '', { context: 3 });
      changes.push({ unit, environment, kind: 'changed', subject: key, security, patch });
    }
  }
  return { unit, environment, changes, state, findings: kubernetesFindings(unit, environment, base, head) };
}

/** Every manifest directory of base and head; `argocd` is account-wide. */
export function reviewAllManifests(base: SynthOutput, head: SynthOutput): ManifestReview[] {
  const dirs = [...new Set([...base.manifests.keys(), ...head.manifests.keys()])].sort();
  return dirs.map((dir) => reviewManifests(`dist/${dir}`, dir === 'argocd' ? 'account' : dir, base.manifests.get(dir) ?? [], head.manifests.get(dir) ?? []));
}
