/*
 * Kubernetes changes judged: what a pull request newly lets a pod do (the Pod Security Standards'
 * restricted profile: no privileged containers, host namespaces, hostPath volumes or added
 * capabilities; non-root; plus a read-only root filesystem and no automounted API token), network
 * policies removed or a default deny weakened, disruption budgets that block every drain, and
 * autoscaling removed. Only what is new in the head is reported: a finding the base already had
 * is not this pull request's.
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
import type { Severity } from './cfn-changes';
import type { SecurityFinding } from './security';
import type { K8sObject } from './synth-output';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]).map(obj) : []);

export const keyOf = (o: K8sObject) => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;

/** The pod template of a workload (the pod spec and its labels), if the object runs pods. */
export function podTemplateOf(o: K8sObject): { readonly spec: Json; readonly labels: Record<string, string> } | undefined {
  const spec = obj(o.spec);
  switch (o.kind) {
    case 'Pod':
      return { spec, labels: (o.metadata.labels ?? {}) as Record<string, string> };
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job': {
      const template = obj(spec.template);
      return { spec: obj(template.spec), labels: obj(obj(template.metadata).labels) as Record<string, string> };
    }
    case 'CronJob': {
      const template = obj(obj(obj(spec.jobTemplate).spec).template);
      return { spec: obj(template.spec), labels: obj(obj(template.metadata).labels) as Record<string, string> };
    }
    default:
      return undefined;
  }
}

interface PodIssue {
  /** Stable identity of the issue within its object, e.g. `container api: privileged`. */
  readonly key: string;
  readonly severity: Severity;
  readonly reason: string;
}

const DANGEROUS_CAPABILITIES = new Set(['ALL', 'SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'DAC_READ_SEARCH', 'BPF', 'PERFMON', 'NET_RAW']);

/** What a pod spec lets its containers do beyond the restricted profile. */
export function podIssues(spec: Json, serviceAccounts: ReadonlyMap<string, K8sObject> = new Map()): PodIssue[] {
  const issues: PodIssue[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true)
      issues.push({ key: field, severity: 'block', reason: `${field}: the pod shares the node's ${field.slice(4).toLowerCase()} namespace` });
  }
  for (const volume of list(spec.volumes)) {
    if (volume.hostPath)
      issues.push({
        key: `hostPath ${String(volume.name)}`,
        severity: 'block',
        reason: `hostPath volume ${String(volume.name)} (${String(obj(volume.hostPath).path)}): the node's filesystem inside the pod`,
      });
  }
  const podContext = obj(spec.securityContext);
  const automount = spec.automountServiceAccountToken;
  const account = serviceAccounts.get(String(spec.serviceAccountName ?? 'default'));
  const accountAutomount = account ? (account as Json).automountServiceAccountToken : undefined;
  if (automount === true || (automount === undefined && accountAutomount !== false))
    issues.push({
      key: 'automountServiceAccountToken',
      severity: 'warn',
      reason: 'the Kubernetes API token is mounted into the pod (automountServiceAccountToken not false): a compromised container can call the API',
    });
  for (const container of [...list(spec.initContainers), ...list(spec.containers), ...list(spec.ephemeralContainers)]) {
    const name = `container ${String(container.name)}`;
    const context = obj(container.securityContext);
    const effective = (field: string) => (context[field] !== undefined ? context[field] : podContext[field]);
    if (context.privileged === true) issues.push({ key: `${name}: privileged`, severity: 'block', reason: `${name} is privileged: root on the node` });
    if (context.allowPrivilegeEscalation !== false)
      issues.push({ key: `${name}: allowPrivilegeEscalation`, severity: 'warn', reason: `${name} may gain privileges (allowPrivilegeEscalation not false)` });
    const added = (obj(context.capabilities).add as unknown[] | undefined)?.map(String) ?? [];
    for (const capability of added) {
      const bare = capability.replace(/^CAP_/, '').toUpperCase();
      issues.push({
        key: `${name}: capability ${bare}`,
        severity: DANGEROUS_CAPABILITIES.has(bare) ? 'block' : 'warn',
        reason: `${name} adds capability ${bare}${DANGEROUS_CAPABILITIES.has(bare) ? ', which reaches beyond the container' : ''}`,
      });
    }
    const runAsUser = effective('runAsUser');
    if (runAsUser === 0) issues.push({ key: `${name}: root`, severity: 'block', reason: `${name} runs as root (runAsUser 0)` });
    else if (effective('runAsNonRoot') !== true)
      issues.push({ key: `${name}: root`, severity: 'warn', reason: `${name} may run as root (runAsNonRoot not true)` });
    if (context.readOnlyRootFilesystem !== true)
      issues.push({ key: `${name}: writable root`, severity: 'warn', reason: `${name} can write its root filesystem (readOnlyRootFilesystem not true)` });
  }
  return issues;
}

/** A NetworkPolicy that selects every pod and allows nothing for the types it lists. */
export function isDefaultDeny(policy: K8sObject): boolean {
  const spec = obj(policy.spec);
  const selectsAll = Object.keys(obj(spec.podSelector)).length === 0 || Object.values(obj(spec.podSelector)).every((v) => Object.keys(obj(v)).length === 0);
  const types = (spec.policyTypes as string[] | undefined) ?? ['Ingress'];
  return selectsAll && types.every((t) => list(spec[t.toLowerCase()]).length === 0);
}

/** Peers of a NetworkPolicy rule that are any address (`0.0.0.0/0`, `::/0`) or any pod anywhere (`{}`). */
function openPeers(policy: K8sObject): string[] {
  const spec = obj(policy.spec);
  const found: string[] = [];
  for (const direction of ['ingress', 'egress'] as const) {
    for (const rule of list(spec[direction])) {
      const peers = list(rule[direction === 'ingress' ? 'from' : 'to']);
      if (peers.length === 0) found.push(`${direction} from/to anywhere (a rule without peers)`);
      for (const peer of peers) {
        const cidr = obj(peer.ipBlock).cidr;
        if (cidr === '0.0.0.0/0' || cidr === '::/0') found.push(`${direction} ${direction === 'ingress' ? 'from' : 'to'} any address (${String(cidr)})`);
      }
    }
  }
  return found;
}

const selects = (selector: unknown, labels: Record<string, string>) => {
  const match = obj(obj(selector).matchLabels) as Record<string, string>;
  return Object.keys(match).length > 0 && Object.entries(match).every(([k, v]) => labels[k] === v);
};

/** Replicas a workload runs with at least: its autoscaler's minimum, else `spec.replicas` (default 1). */
function minimumReplicas(workload: K8sObject, objects: readonly K8sObject[]): number {
  const hpa = objects.find(
    (o) =>
      o.kind === 'HorizontalPodAutoscaler' &&
      o.metadata.namespace === workload.metadata.namespace &&
      obj(obj(o.spec).scaleTargetRef).kind === workload.kind &&
      obj(obj(o.spec).scaleTargetRef).name === workload.metadata.name,
  );
  if (hpa) return Number(obj(hpa.spec).minReplicas ?? 1);
  return Number(obj(workload.spec).replicas ?? 1);
}

/** Budgets that let no pod be evicted: a node drain (upgrade, scale-in) waits on them forever. */
function blockingBudgets(objects: readonly K8sObject[]): Map<string, string> {
  const blocking = new Map<string, string>();
  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const spec = obj(pdb.spec);
    for (const workload of objects.filter((o) => o.metadata.namespace === pdb.metadata.namespace)) {
      const template = podTemplateOf(workload);
      if (!template || workload.kind === 'Job' || workload.kind === 'CronJob' || !selects(spec.selector, template.labels)) continue;
      const replicas = minimumReplicas(workload, objects);
      const percent = (v: unknown) => (typeof v === 'string' && v.endsWith('%') ? Math.ceil((Number(v.slice(0, -1)) / 100) * replicas) : Number(v));
      const minAvailable = spec.minAvailable === undefined ? undefined : percent(spec.minAvailable);
      const maxUnavailable = spec.maxUnavailable === undefined ? undefined : percent(spec.maxUnavailable);
      if ((minAvailable !== undefined && minAvailable >= replicas) || maxUnavailable === 0)
        blocking.set(
          keyOf(pdb),
          `${minAvailable !== undefined ? `minAvailable ${String(spec.minAvailable)}` : `maxUnavailable ${String(spec.maxUnavailable)}`} of ${replicas} replica${replicas === 1 ? '' : 's'} of ${keyOf(workload)}: no pod may be evicted, so every node drain (upgrades, scale-in) waits forever`,
        );
    }
  }
  return blocking;
}

/** The judged Kubernetes security changes between two manifest directories. */
export function kubernetesFindings(unit: string, environment: string, base: readonly K8sObject[], head: readonly K8sObject[]): SecurityFinding[] {
  const findings: SecurityFinding[] = [];
  const add = (subject: string, change: string, severity: Severity, reason: string) =>
    findings.push({ category: 'Kubernetes', unit, environment, subject, change, severity, reason });
  const byKey = (objects: readonly K8sObject[]) => new Map(objects.map((o) => [keyOf(o), o]));
  const before = byKey(base);
  const after = byKey(head);
  const accounts = (objects: readonly K8sObject[]) => new Map(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => [String(o.metadata.name), o]));

  for (const [key, now] of after) {
    const template = podTemplateOf(now);
    if (!template) continue;
    const was = before.get(key);
    const old = new Set((was && podTemplateOf(was) ? podIssues((podTemplateOf(was) as { spec: Json }).spec, accounts(base)) : []).map((i) => i.key));
    for (const issue of podIssues(template.spec, accounts(head))) {
      if (!old.has(issue.key)) add(key, was ? '~ pod template' : '+ new workload', issue.severity, issue.reason);
    }
  }
  for (const [key, was] of before) {
    const now = after.get(key);
    if (was.kind === 'NetworkPolicy') {
      if (!now)
        add(
          key,
          '- removed',
          isDefaultDeny(was) ? 'block' : 'warn',
          isDefaultDeny(was)
            ? 'the default deny is gone: every pod of the namespace accepts and sends any traffic no other policy limits'
            : 'the traffic it limited is no longer limited by it',
        );
      else if (isDefaultDeny(was) && !isDefaultDeny(now))
        add(key, '~ changed', 'block', 'no longer a default deny: it now allows traffic for every pod of the namespace');
    }
    if (was.kind === 'HorizontalPodAutoscaler' && !now) {
      const target = obj(obj(was.spec).scaleTargetRef);
      add(key, '- removed', 'warn', `autoscaling removed: ${String(target.kind)} ${String(target.name)} stays at its fixed replica count under any load`);
    }
  }
  for (const [key, now] of after) {
    if (now.kind !== 'NetworkPolicy') continue;
    const was = before.get(key);
    const old = new Set(was ? openPeers(was) : []);
    for (const peer of openPeers(now)) if (!old.has(peer)) add(key, was ? '~ changed' : '+ added', 'warn', `allows ${peer}`);
  }
  const oldBudgets = blockingBudgets(base);
  for (const [key, reason] of blockingBudgets(head)) {
    if (oldBudgets.has(key)) continue;
    const was = before.get(key);
    const change = !was ? '+ added' : JSON.stringify(was) !== JSON.stringify(after.get(key)) ? '~ changed' : '= unchanged (the replicas it protects changed)';
    add(key, change, 'warn', reason);
  }
  for (const [key, now] of after) {
    if (now.kind !== 'Role' && now.kind !== 'ClusterRole') continue;
    const wild = (o: K8sObject | undefined) =>
      new Set(
        list((o as Json | undefined)?.rules)
          .filter((r) => ['verbs', 'resources', 'apiGroups'].some((f) => (r[f] as unknown[] | undefined)?.includes('*')))
          .map((r) => JSON.stringify(r)),
      );
    const old = wild(before.get(key));
    for (const rule of wild(now)) if (!old.has(rule)) add(key, before.has(key) ? '~ changed' : '+ added', 'warn', `grants a wildcard: ${rule}`);
  }
  return findings;
}
