/*
 * The review of two synth outputs: every stack and manifest directory compared, then what only the
 * whole environment shows: a stateful resource renamed (removed here, one of its type added there),
 * an instance whose zone no longer matches its data volume's, an environment added or removed.
 */
import { type CostEstimate, estimateMonthlyCost } from '../../lib/cost/estimate';
import { reviewStack, type ScriptDiff, type StackReview, type StateChange, type StatefulChange } from './cfn-changes';
import { type ManifestReview, reviewAllManifests } from './k8s-changes';
import { dataOf, deletionPolicyOf, fateOf, renderValue } from './resource-semantics';
import { acknowledgementFindings, type SecurityFinding } from './security';
import type { CfnResource, SynthOutput } from './synth-output';

export interface ReviewSide {
  readonly dir: string;
  readonly app: string;
  readonly environments: readonly string[];
}

export interface Review {
  readonly base: ReviewSide;
  readonly head: ReviewSide;
  readonly stacks: readonly StackReview[];
  readonly manifests: readonly ManifestReview[];
  /** Data at risk, every stack and manifest directory, environment-wide findings included. */
  readonly state: readonly StateChange[];
  /** Judged and shown security changes: IAM, network, acknowledgements, Kubernetes. */
  readonly security: readonly SecurityFinding[];
  readonly scripts: readonly ScriptDiff[];
  readonly baseCost: CostEstimate;
  readonly headCost: CostEstimate;
  /** Environments of the base's config that the head's no longer has, and the reverse. */
  readonly removedEnvironments: readonly string[];
  readonly addedEnvironments: readonly string[];
  /** True when a ⛔ finding (data or security) needs the acknowledgement. */
  readonly gated: boolean;
  readonly noise: number;
}

const resourcesOf = (output: SynthOutput, environment: string, type: string) =>
  [...output.stacks.values()]
    .filter((s) => s.environment === environment)
    .flatMap((s) =>
      Object.entries(s.template.Resources ?? {})
        .filter(([, r]) => r.Type === type)
        .map(([id, r]) => ({ stack: s.name, id, resource: r })),
    );

const zoneOf = (r: CfnResource | undefined) => (r?.Properties?.AvailabilityZone === undefined ? undefined : renderValue(r.Properties.AvailabilityZone));

/**
 * Renames: in one environment, a stateful resource removed and one of the same type added. The
 * removal's own row (deleted or kept) becomes one row that says where the data stays and that
 * the resource now used starts empty.
 */
function renames(environment: string, removed: readonly StatefulChange[], added: readonly StatefulChange[]): { rows: StateChange[]; replaces: Set<string> } {
  const rows: StateChange[] = [];
  const replaces = new Set<string>();
  const free = [...added];
  for (const old of removed) {
    const at = free.findIndex((a) => a.type === old.type);
    if (at < 0) continue;
    const [now] = free.splice(at, 1);
    const policy = deletionPolicyOf(old.resource);
    const fate = fateOf(policy, dataOf(old.type), 'DeletionPolicy');
    replaces.add(`${old.stack} ${old.type} ${old.id}`);
    const where = old.stack === now.stack ? '' : ` (in ${now.stack})`;
    rows.push({
      unit: old.stack,
      environment,
      subject: `${old.type} ${old.id} → ${now.id}${where}`,
      outcome: `renamed: ${fate.kept ? 'the old one kept, unmanaged' : policy === 'Snapshot' ? 'the old one deleted after a snapshot' : 'the old one deleted'}; the new one starts empty`,
      detail: `a new logical id is a new resource: ${now.id} starts empty and is the one used from now on; the old ${old.id}: ${fate.text}`,
      severity: 'block',
    });
  }
  return { rows, replaces };
}

/**
 * The zone a host runs in: an instance's AvailabilityZone, or for an Auto Scaling group the zones
 * of the subnets it launches into (`VPCZoneIdentifier`, subnets of the same stack) or its
 * `AvailabilityZones`.
 */
function hostZone(output: SynthOutput, host: { readonly stack: string; readonly resource: CfnResource } | undefined): string | undefined {
  if (!host) return undefined;
  if (host.resource.Type !== 'AWS::AutoScaling::AutoScalingGroup') return zoneOf(host.resource);
  const resources = output.stacks.get(host.stack)?.template.Resources ?? {};
  const subnets = (host.resource.Properties?.VPCZoneIdentifier as unknown[] | undefined) ?? [];
  const zones = subnets.length
    ? subnets.map((subnet) => {
        const id = (subnet as { Ref?: unknown } | undefined)?.Ref;
        return typeof id === 'string' ? zoneOf(resources[id]) : undefined;
      })
    : ((host.resource.Properties?.AvailabilityZones as unknown[] | undefined) ?? []).map(renderValue);
  return zones.length === 0 || zones.some((z) => z === undefined) ? undefined : zones.join(', ');
}

/** The hosts of an environment: instances, and Auto Scaling groups that launch them from a launch template. */
const hostsOf = (output: SynthOutput, environment: string) => [
  ...resourcesOf(output, environment, 'AWS::EC2::Instance'),
  ...resourcesOf(output, environment, 'AWS::AutoScaling::AutoScalingGroup'),
];

/**
 * Hosts whose head zone differs from a data volume of their environment (which cannot follow). A
 * group whose subnet moves zone also replaces its instance: the subnet is replaced (its
 * AvailabilityZone requires replacement) and Auto Scaling relaunches the instance in the new one.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-autoscaling-autoscalinggroup.html#cfn-autoscaling-autoscalinggroup-vpczoneidentifier
 */
function zoneMismatches(environment: string, base: SynthOutput, head: SynthOutput): StateChange[] {
  const rows: StateChange[] = [];
  const volumes = resourcesOf(head, environment, 'AWS::EC2::Volume');
  for (const host of hostsOf(head, environment)) {
    const zone = hostZone(head, host);
    const beforeZone = hostZone(
      base,
      hostsOf(base, environment).find((h) => h.stack === host.stack && h.id === host.id),
    );
    if (!zone || beforeZone === zone) continue;
    const subject = `${host.resource.Type} ${host.id}`;
    const group = host.resource.Type === 'AWS::AutoScaling::AutoScalingGroup';
    if (group && beforeZone)
      rows.push({
        unit: host.stack,
        environment,
        subject,
        outcome: 'instances replaced',
        detail: `the group's subnet moves from ${beforeZone} to ${zone} (a subnet's AvailabilityZone requires replacement): Auto Scaling terminates the group's instance and launches a new one in ${zone}; the host is down until it has booted`,
        severity: 'block',
      });
    for (const volume of volumes) {
      const baseVolume = resourcesOf(base, environment, 'AWS::EC2::Volume').find((v) => v.stack === volume.stack && v.id === volume.id);
      const volumeZone = zoneOf(baseVolume?.resource) ?? zoneOf(volume.resource);
      if (!volumeZone || volumeZone === zone) continue;
      rows.push({
        unit: host.stack,
        environment,
        subject,
        outcome: 'cannot attach its data volume',
        detail: `the ${group ? "group's instance" : 'instance'} moves to ${zone}; data volume ${volume.id} (${volume.stack}) stays in ${volumeZone}, since a volume cannot change zone: the new host starts without its data`,
        severity: 'block',
      });
    }
  }
  return rows;
}

/** A replaced instance's row (or a group's whose next instance differs), told what becomes of the data volumes of its environment. */
function withDataVolumes(change: StateChange, head: SynthOutput): StateChange {
  const [, type, id] = /^(AWS::EC2::Instance|AWS::AutoScaling::AutoScalingGroup) (\S+)$/.exec(change.subject) ?? [];
  if (!id || !['replaced', 'may be replaced', 'instances replaced', 'next instance differs'].includes(change.outcome)) return change;
  const host = resourcesOf(head, change.environment, type).find((i) => i.stack === change.unit && i.id === id);
  const zone = hostZone(head, host);
  const volumes = resourcesOf(head, change.environment, 'AWS::EC2::Volume').filter((v) => zoneOf(v.resource) === zone);
  if (!zone || volumes.length === 0) return change;
  const names = volumes.map((v) => `${v.id} (${v.stack})`).join(', ');
  return { ...change, detail: `${change.detail}. Data volume ${names} is in the same zone (${zone}): the new instance attaches it at boot, its data kept` };
}

/** Reviews two synth outputs. */
export function review(base: SynthOutput, head: SynthOutput): Review {
  const names = [...new Set([...base.stacks.keys(), ...head.stacks.keys()])].sort();
  const stacks = names.map((name) => {
    const b = base.stacks.get(name);
    const h = head.stacks.get(name);
    return reviewStack(name, (h ?? b)?.environment ?? 'account', b?.template, h?.template);
  });
  const manifests = reviewAllManifests(base, head);
  const removedEnvironments = base.environments.filter((e) => !head.environments.includes(e));
  const addedEnvironments = head.environments.filter((e) => !base.environments.includes(e));

  const environments = [...new Set(stacks.map((s) => s.environment))];
  const envRows: StateChange[] = [];
  const replaced = new Set<string>();
  for (const environment of environments) {
    const of = stacks.filter((s) => s.environment === environment);
    const found = renames(
      environment,
      of.flatMap((s) => s.removedStateful),
      of.flatMap((s) => s.addedStateful),
    );
    envRows.push(...found.rows);
    for (const key of found.replaces) replaced.add(key);
    if (environment !== 'account' && head.environments.includes(environment)) envRows.push(...zoneMismatches(environment, base, head));
  }
  for (const environment of removedEnvironments) {
    const left = stacks.filter((s) => s.environment === environment && s.status === 'no longer managed').map((s) => s.stack);
    envRows.push({
      unit: `environment ${environment}`,
      environment,
      subject: `${left.length} stack${left.length === 1 ? '' : 's'}: ${left.join(', ')}`,
      outcome: 'no longer deployed by this pipeline',
      detail: `the head's config has no environment ${environment}: its stacks stay deployed, with their data and their cost, until someone runs \`npx cdk destroy ${left.join(' ')}\``,
      severity: 'warn',
    });
  }
  const stackState = stacks
    .flatMap((s) => s.state)
    .map((c) => withDataVolumes(c, head))
    .filter((c) => !replaced.has(`${c.unit} ${c.subject}`))
    .filter((c) => !(c.outcome === 'no longer managed' && removedEnvironments.includes(c.environment)));
  const state = [...stackState, ...envRows, ...manifests.flatMap((m) => m.state)];

  const acknowledgements = names.flatMap((name) => {
    const b = base.stacks.get(name);
    const h = head.stacks.get(name);
    return h ? acknowledgementFindings(name, h.environment, b?.acknowledgements ?? new Map(), h.acknowledgements) : [];
  });
  const security = [...stacks.flatMap((s) => s.security), ...acknowledgements, ...manifests.flatMap((m) => m.findings)];
  return {
    base: { dir: base.dir, app: base.app, environments: base.environments },
    head: { dir: head.dir, app: head.app, environments: head.environments },
    stacks,
    manifests,
    state,
    security,
    scripts: stacks.flatMap((s) => s.scripts),
    baseCost: estimateMonthlyCost(base),
    headCost: estimateMonthlyCost(head),
    removedEnvironments,
    addedEnvironments,
    gated: state.some((s) => s.severity === 'block') || security.some((f) => f.severity === 'block'),
    noise: stacks.reduce((n, s) => n + s.noise, 0),
  };
}
