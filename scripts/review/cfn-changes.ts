/*
 * What a pull request does to each CloudFormation stack, on the engine `cdk diff` uses
 * (@aws-cdk/cloudformation-diff): replacement impact from the resource specification (propagated
 * through references), destroy or orphan from DeletionPolicy, IAM and security-group changes.
 * Added here, where cloudformation-diff stops but CloudFormation does not:
 * - an in-place update of a launch template makes a new version, so a resource that follows
 *   `LatestVersionNumber` (an instance: replaced) sees its property change;
 * - a changed template parameter default changes every property that refers to it;
 * - the old resource of a replacement follows UpdateReplacePolicy (kept, snapshotted or deleted);
 * - updates EBS refuses (a volume moved to another zone, or shrunk) fail the deploy;
 * - a stateful resource removed and one of its type added in the same environment is a rename:
 *   the data stays with the old one and the new one starts empty (scripts/review/environments.ts).
 */
import { type DescribeChangeSetOutput, Formatter, fullDiff, type ResourceDifference, ResourceImpact, type TemplateDiff } from '@aws-cdk/cloudformation-diff';
import { createTwoFilesPatch } from 'diff';
import { readableRunCommand } from '../../lib/host-runtime/documents';
import { dataVolumeShrinks } from './data-volume-resize';
import { dataOf, deletionPolicyOf, fateOf, holdsData, renderValue, updateReplacePolicyOf } from './resource-semantics';
import { iamFindings, type SecurityFinding, securityGroupFindings } from './security';
import type { CfnResource, CfnTemplate } from './synth-output';

/** ⛔ fails the review check until acknowledged; ⚠ needs a second look; ℹ for the record. */
export type Severity = 'block' | 'warn' | 'info';

export const SEVERITY_MARK: Readonly<Record<Severity, string>> = { block: '⛔', warn: '⚠', info: 'ℹ' };

/** What happens to data (or the address, or the host) a resource holds. */
export interface StateChange {
  /** Stack name or `dist/<env>`. */
  readonly unit: string;
  /** Environment of the unit, or `account`. */
  readonly environment: string;
  /** `AWS::EC2::Volume DataVolume772801A0`, or the stack for a stack that leaves the app. */
  readonly subject: string;
  /** What CloudFormation (or the GitOps controller) does, e.g. `deleted after a snapshot`. */
  readonly outcome: string;
  /** Why, and what happens to the data. */
  readonly detail: string;
  readonly severity: Severity;
}

export interface ScriptDiff {
  readonly stack: string;
  readonly environment: string;
  readonly document: string;
  /** Unified diff of the document's shell text. */
  readonly patch: string;
}

/** One resource as a stateful resource removed or added, for the environment-wide rename check. */
export interface StatefulChange {
  readonly stack: string;
  readonly id: string;
  readonly type: string;
  readonly resource: CfnResource;
}

export interface StackReview {
  readonly stack: string;
  readonly environment: string;
  readonly status: 'added' | 'changed' | 'unchanged' | 'no longer managed';
  readonly state: readonly StateChange[];
  readonly security: readonly SecurityFinding[];
  readonly scripts: readonly ScriptDiff[];
  /** The rest, rendered by cloudformation-diff's Formatter, one entry per resource or section. */
  readonly other: readonly string[];
  /** Differences that deploy nothing (CDK metadata, asset hashes), filtered out. */
  readonly noise: number;
  /** Stateful resources removed and added (renames are found across the environment's stacks). */
  readonly removedStateful: readonly StatefulChange[];
  readonly addedStateful: readonly StatefulChange[];
}

// Colour codes of chalk, which cloudformation-diff's formatter may emit on a terminal.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const ASSET_HASH = /\b[0-9a-f]{64}\b/g;
export const stripAnsi = (text: string) => text.replace(ANSI, '');

/** A template without what deploys nothing: resource metadata, CDK analytics, asset hashes. */
export function normalized(template: CfnTemplate | undefined): CfnTemplate {
  if (!template) return {};
  const { Metadata: _templateMetadata, ...rest } = template;
  const resources: Record<string, CfnResource> = {};
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type === 'AWS::CDK::Metadata') continue;
    const { Metadata: _metadata, ...kept } = resource;
    resources[id] = JSON.parse(JSON.stringify(kept).replace(ASSET_HASH, '<asset hash>'));
  }
  const conditions = { ...((rest.Conditions as Record<string, unknown> | undefined) ?? {}) };
  delete conditions.CDKMetadataAvailable;
  return { ...rest, Resources: resources, ...(rest.Conditions ? { Conditions: conditions } : {}) };
}

/** Differences between the raw templates that disappear once normalized. */
function countNoise(base: CfnTemplate | undefined, head: CfnTemplate | undefined, nb: CfnTemplate, nh: CfnTemplate): number {
  const raw = (t: CfnTemplate | undefined, id: string) => JSON.stringify(t?.Resources?.[id]);
  const ids = new Set([...Object.keys(base?.Resources ?? {}), ...Object.keys(head?.Resources ?? {})]);
  let noise = 0;
  for (const id of ids) if (raw(base, id) !== raw(head, id) && raw(nb, id) === raw(nh, id)) noise++;
  if (JSON.stringify(base?.Metadata) !== JSON.stringify(head?.Metadata)) noise++;
  return noise;
}

/**
 * The shell text of an SSM Command document: each step's runCommand, joined. Lines built with
 * intrinsics (`Fn::Join` of a stack output) are rendered as text.
 */
export function documentScript(content: unknown): string {
  const steps = (content as { mainSteps?: { name?: string; inputs?: { runCommand?: unknown } }[] } | undefined)?.mainSteps ?? [];
  return steps
    .map((step) => {
      const run = step.inputs?.runCommand;
      // Scripts are staged gzip'd and base64'd (lib/host-runtime/documents.ts): shown as their text.
      const text = Array.isArray(run) ? readableRunCommand(run, renderValue) : renderValue(run);
      return `# step ${step.name ?? ''}
${text}
`;
    })
    .join('\n');
}

function formatResource(formatter: Formatter, sink: { text: string }, id: string, diff: ResourceDifference): string {
  sink.text = '';
  formatter.formatResourceDifference('Resource', id, diff);
  return stripAnsi(sink.text).trimEnd();
}

/**
 * Attributes whose value changes on every in-place update of their resource: CloudFormation's
 * launch template handler writes a new version and makes it the default.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-launchtemplate.html#aws-resource-ec2-launchtemplate-return-values
 */
const VERSION_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  'AWS::EC2::LaunchTemplate': ['LatestVersionNumber', 'DefaultVersionNumber'],
};

/** The suffix a propagated reference carries, shown in the diff of the resource that follows it. */
const NEW_VERSION = ' (new version)';
const CHANGED_PARAMETER = ' (changed default)';

/** Top-level keys of `LaunchTemplateData` (or of the properties) that differ. */
function changedKeys(before: unknown, after: unknown): string[] {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/** Why each propagated reference changes, by the id it is propagated from. */
type Propagated = Map<string, string>;

/**
 * The head template with references rewritten where CloudFormation will see a new value though the
 * text is the same: `Fn::GetAtt` of a version attribute of a launch template updated in place, and
 * `Ref` of a parameter whose default changed. cloudformation-diff then judges the properties that
 * hold them by the resource specification, as for any other change.
 */
function withPropagatedChanges(nb: CfnTemplate, nh: CfnTemplate): { template: CfnTemplate; propagated: Propagated } {
  const first = fullDiff(nb, nh);
  const propagated: Propagated = new Map();
  const versioned = new Map<string, readonly string[]>();
  first.resources.forEachDifference((id, r) => {
    const attributes = r.isUpdate ? VERSION_ATTRIBUTES[r.newResourceType ?? ''] : undefined;
    if (!attributes || r.changeImpact === ResourceImpact.WILL_REPLACE) return;
    versioned.set(id, attributes);
    const data = changedKeys(r.oldValue?.Properties?.LaunchTemplateData, r.newValue?.Properties?.LaunchTemplateData);
    const what = data.length
      ? `LaunchTemplateData.${data.join(', LaunchTemplateData.')} changed`
      : `${changedKeys(r.oldValue?.Properties, r.newValue?.Properties).join(', ')} changed`;
    propagated.set(id, `a new version of launch template ${id} (${what})`);
  });
  const parameters = new Set<string>();
  first.parameters.forEachDifference((id, p) => {
    if (p.isUpdate) {
      parameters.add(id);
      propagated.set(id, `parameter ${id} has a new default (${renderValue(p.oldValue?.Default)} → ${renderValue(p.newValue?.Default)})`);
    }
  });
  if (propagated.size === 0) return { template: nh, propagated };
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0];
      if (key === 'Ref' && typeof arg === 'string' && parameters.has(arg)) return { Ref: `${arg}${CHANGED_PARAMETER}` };
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        if (versioned.get(id)?.includes(attribute)) return { 'Fn::GetAtt': [id, `${attribute}${NEW_VERSION}`] };
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, rewrite(v)]));
  };
  const resources = Object.fromEntries(Object.entries(nh.Resources ?? {}).map(([id, r]) => [id, rewrite(r) as CfnResource]));
  return { template: { ...nh, Resources: resources }, propagated };
}

/** The propagated reasons a property's new value carries (a launch template version, a parameter). */
function propagatedCauses(value: unknown, propagated: Propagated): string[] {
  const text = JSON.stringify(value ?? null);
  return [...propagated.entries()].filter(([id]) => text.includes(`"${id}"`) || text.includes(`"${id}${CHANGED_PARAMETER}"`)).map(([, why]) => why);
}

/** The properties that decide a replacement, each with what changed it. */
function replacementCauses(diff: ResourceDifference, propagated: Propagated, impacts: readonly ResourceImpact[]): string[] {
  return Object.entries(diff.propertyUpdates)
    .filter(([, p]) => p.changeImpact !== undefined && impacts.includes(p.changeImpact))
    .map(([name, p]) => {
      const why = propagatedCauses(p.newValue, propagated);
      return why.length ? `${name} (${why.join('; ')})` : name;
    });
}

/** Block devices an instance's root volume: kept or deleted when the instance goes. */
function rootVolumeFate(instance: CfnResource | undefined): string {
  const mappings = (instance?.Properties?.BlockDeviceMappings as { DeviceName?: string; Ebs?: { DeleteOnTermination?: unknown } }[] | undefined) ?? [];
  const kept = mappings.filter((m) => m.Ebs && String(m.Ebs.DeleteOnTermination) === 'false').map((m) => m.DeviceName);
  return kept.length
    ? `its root volume (${kept.join(', ')}) is detached and kept (DeleteOnTermination false), unmanaged`
    : 'its root volume is deleted with it (DeleteOnTermination)';
}

/** The state change of one resource difference, if it touches data, the host or its address. */
function stateChange(stack: string, environment: string, id: string, diff: ResourceDifference, propagated: Propagated): StateChange | undefined {
  const type = (diff.isRemoval ? diff.oldResourceType : diff.newResourceType) ?? '';
  const subject = `${type} ${id}`;
  const base = { unit: stack, environment, subject };
  if (diff.isAddition) return undefined;
  const stateful = holdsData(type);

  if (diff.isRemoval) {
    if (!stateful) return undefined;
    const old = diff.oldValue as CfnResource;
    const policy = deletionPolicyOf(old);
    const fate = fateOf(policy, dataOf(type), 'DeletionPolicy');
    // cloudformation-diff's own verdict: WILL_ORPHAN for Retain and RetainExceptOnCreate, else WILL_DESTROY.
    if (diff.changeImpact === ResourceImpact.WILL_ORPHAN)
      return { ...base, outcome: 'removed from the stack, kept in the account', detail: fate.text, severity: 'info' };
    return { ...base, outcome: policy === 'Snapshot' ? 'deleted after a snapshot' : 'deleted', detail: fate.text, severity: 'block' };
  }

  const replaced = diff.resourceTypeChanged || diff.changeImpact === ResourceImpact.WILL_REPLACE;
  const mayReplace = !replaced && diff.changeImpact === ResourceImpact.MAY_REPLACE;
  if (type === 'AWS::EC2::Instance' && (replaced || mayReplace)) {
    const causes = replacementCauses(diff, propagated, replaced ? [ResourceImpact.WILL_REPLACE] : [ResourceImpact.MAY_REPLACE]);
    const what = `CloudFormation launches a new instance and terminates this one: ${rootVolumeFate(diff.oldValue as CfnResource)}; the host is down until the new one has booted`;
    return replaced
      ? { ...base, outcome: 'replaced', detail: `${causes.join(', ') || 'type changed'} requires replacement. ${what}`, severity: 'block' }
      : { ...base, outcome: 'may be replaced', detail: `${causes.join(', ')} replaces it for some values. If it does: ${what}`, severity: 'warn' };
  }
  if (type === 'AWS::EC2::EIP' && replaced) {
    const causes = replacementCauses(diff, propagated, [ResourceImpact.WILL_REPLACE]);
    return {
      ...base,
      outcome: 'replaced',
      detail: `${causes.join(', ') || 'type changed'} requires replacement: the public address changes (DNS records and allow-lists that name it must follow)`,
      severity: 'block',
    };
  }
  if (type === 'AWS::AutoScaling::AutoScalingGroup' && replaced) {
    const causes = replacementCauses(diff, propagated, [ResourceImpact.WILL_REPLACE]);
    return {
      ...base,
      outcome: 'replaced',
      detail: `${causes.join(', ') || 'type changed'} requires replacement: CloudFormation creates a new group, which launches a new instance, then deletes this one and terminates its instance; the host is down until the new one has booted`,
      severity: 'block',
    };
  }
  if (type === 'AWS::AutoScaling::AutoScalingGroup') return autoScalingChange(base, diff, propagated);
  if (!stateful) return undefined;
  if (replaced) {
    const causes = replacementCauses(diff, propagated, [ResourceImpact.WILL_REPLACE]);
    const fate = fateOf(updateReplacePolicyOf((diff.newValue ?? diff.oldValue) as CfnResource | undefined), dataOf(type), 'UpdateReplacePolicy');
    return {
      ...base,
      outcome: 'replaced by a new, empty one',
      detail: `${causes.join(', ') || 'type changed'} requires replacement: the new one starts empty and is the one used from now on; the old one: ${fate.text}`,
      severity: 'block',
    };
  }
  if (mayReplace) {
    const causes = replacementCauses(diff, propagated, [ResourceImpact.MAY_REPLACE]);
    return {
      ...base,
      outcome: 'may be replaced',
      detail: `${causes.join(', ')} replaces it for some values: if it does, the new one starts empty (check the change set: npm run ops -- plan)`,
      severity: 'warn',
    };
  }
  if (type === 'AWS::EC2::Volume') return volumeUpdate(base, diff);
  return undefined;
}

/** Updates of an EBS volume that EBS refuses: CloudFormation fails the update and rolls back. */
function volumeUpdate(base: Pick<StateChange, 'unit' | 'environment' | 'subject'>, diff: ResourceDifference): StateChange | undefined {
  const zone = diff.propertyUpdates.AvailabilityZone;
  if (zone) {
    return {
      ...base,
      outcome: 'update fails: a volume cannot change zone',
      detail: `AvailabilityZone ${renderValue(zone.oldValue)} → ${renderValue(zone.newValue)}: EBS cannot move a volume to another zone, so the deploy fails and rolls back; the data stays in ${renderValue(zone.oldValue)}. To move it, restore a backup or snapshot into a new volume in the new zone`,
      severity: 'block',
    };
  }
  const [shrink] = dataVolumeShrinks({ Resources: { v: diff.oldValue as CfnResource } }, { Resources: { v: diff.newValue as CfnResource } });
  if (shrink) {
    return {
      ...base,
      outcome: 'update fails: a volume cannot shrink',
      detail: `Size ${shrink.fromGiB} → ${shrink.toGiB} GiB: EBS cannot shrink a volume, so the deploy fails and rolls back (keep the size at ${shrink.fromGiB} GiB or more; to move to a smaller volume, restore a backup onto a new one)`,
      severity: 'block',
    };
  }
  return undefined;
}

/**
 * A group's instances and its launch template: a new version reaches running instances only
 * through the group's UpdatePolicy.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html
 */
function autoScalingChange(
  base: Pick<StateChange, 'unit' | 'environment' | 'subject'>,
  diff: ResourceDifference,
  propagated: Propagated,
): StateChange | undefined {
  const launch = diff.propertyUpdates.LaunchTemplate ?? diff.propertyUpdates.LaunchConfigurationName ?? diff.propertyUpdates.MixedInstancesPolicy;
  if (!launch) return undefined;
  const why = propagatedCauses(launch.newValue, propagated);
  const cause = `the group's launch template changes${why.length ? ` (${why.join('; ')})` : ''}`;
  const policy = (diff.newValue?.UpdatePolicy ?? {}) as { AutoScalingReplacingUpdate?: { WillReplace?: unknown }; AutoScalingRollingUpdate?: unknown };
  if (String(policy.AutoScalingReplacingUpdate?.WillReplace) === 'true')
    return {
      ...base,
      outcome: 'instances replaced',
      detail: `${cause}; UpdatePolicy AutoScalingReplacingUpdate: CloudFormation creates a new group with new instances and deletes the old group and its instances`,
      severity: 'block',
    };
  if (policy.AutoScalingRollingUpdate)
    return {
      ...base,
      outcome: 'instances replaced',
      detail: `${cause}; UpdatePolicy AutoScalingRollingUpdate: CloudFormation terminates the running instances batch by batch and launches new ones from the new version`,
      severity: 'block',
    };
  return {
    ...base,
    outcome: 'next instance differs',
    detail: `${cause}; no UpdatePolicy: the running instances keep the old version, and the next instance the group launches (scale-out, a failed health check, an instance refresh) uses the new one`,
    severity: 'warn',
  };
}

/**
 * One stack's review; either side may be absent (a new stack, or one that leaves the app). With a
 * change set (`ops plan`), its verdicts on replacement override the resource specification's.
 */
export function reviewStack(
  stack: string,
  environment: string,
  base: CfnTemplate | undefined,
  head: CfnTemplate | undefined,
  changeSet?: DescribeChangeSetOutput,
): StackReview {
  const empty = { security: [], scripts: [], other: [], state: [] as StateChange[], removedStateful: [], addedStateful: [] };
  if (base && !head) {
    // The CDK CLI never deletes a stack that left the app: it stays deployed, unmanaged, until destroyed.
    const stateful = Object.values(base.Resources ?? {}).filter((r) => holdsData(r.Type)).length;
    return {
      ...empty,
      stack,
      environment,
      status: 'no longer managed',
      noise: 0,
      state: [
        {
          unit: stack,
          environment,
          subject: `stack ${stack}`,
          outcome: 'no longer managed',
          detail: `not in the head's app: it stays deployed, with its ${stateful} resources that hold data, until \`cdk destroy ${stack}\``,
          severity: 'info',
        },
      ],
    };
  }
  const nb = normalized(base);
  const nh0 = normalized(head);
  const noise = countNoise(base, head, nb, nh0);
  const { template: nh, propagated } = withPropagatedChanges(nb, nh0);
  const diff: TemplateDiff = fullDiff(nb, nh, changeSet);
  if (diff.isEmpty) return { ...empty, stack, environment, status: 'unchanged', noise };

  const state: StateChange[] = [];
  const scripts: ScriptDiff[] = [];
  const other: string[] = [];
  const removedStateful: StatefulChange[] = [];
  const addedStateful: StatefulChange[] = [];
  const sink = { text: '' };
  const stream = {
    write: (chunk: string) => {
      sink.text += chunk;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const formatter = new Formatter(stream, {}, diff);

  diff.resources.forEachDifference((id, resource) => {
    if (!resource.isDifferent) return;
    const change = stateChange(stack, environment, id, resource, propagated);
    if (change) state.push(change);
    const type = resource.newResourceType ?? resource.oldResourceType ?? '';
    if (holdsData(type) && resource.isRemoval) removedStateful.push({ stack, id, type, resource: resource.oldValue as CfnResource });
    if (holdsData(type) && resource.isAddition) addedStateful.push({ stack, id, type, resource: resource.newValue as CfnResource });
    const content = resource.propertyUpdates.Content;
    if (resource.resourceType === 'AWS::SSM::Document' && resource.isUpdate && content) {
      const name = renderValue(resource.newValue?.Properties?.Name ?? id);
      scripts.push({
        stack,
        environment,
        document: name,
        patch: createTwoFilesPatch(`a/${name}`, `b/${name}`, documentScript(content.oldValue), documentScript(content.newValue), '', '', { context: 3 }),
      });
      const rest = Object.keys(resource.propertyUpdates).filter((p) => p !== 'Content');
      other.push(`[~] AWS::SSM::Document ${id}: Content (the script, shown under Security)${rest.length ? `; also ${rest.join(', ')}` : ''}`);
      return;
    }
    other.push(formatResource(formatter, sink, id, resource));
  });
  for (const [title, collection] of [
    ['Outputs', diff.outputs],
    ['Parameters', diff.parameters],
    ['Conditions', diff.conditions],
  ] as const) {
    if (collection.differenceCount === 0) continue;
    sink.text = '';
    formatter.formatSection(title, title.replace(/s$/, ''), collection);
    other.push(stripAnsi(sink.text).trimEnd());
  }
  return {
    stack,
    environment,
    status: base ? 'changed' : 'added',
    state,
    security: [...iamFindings(stack, environment, diff), ...securityGroupFindings(stack, environment, diff)],
    scripts,
    other,
    noise,
    removedStateful,
    addedStateful,
  };
}
