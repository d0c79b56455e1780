/*
 * What a pull request does to each CloudFormation stack, on the engine `cdk diff` uses
 * (@aws-cdk/cloudformation-diff): replacement impact from the resource specification, IAM and
 * security-group change tables, property-level rendering. Ours on top: noise filtering, the
 * stateful-resource classification, stacks that leave the app, and host scripts (SSM documents)
 * as a unified diff of their text.
 */
import { Formatter, fullDiff, type ResourceDifference, ResourceImpact, type TemplateDiff } from '@aws-cdk/cloudformation-diff';
import { createTwoFilesPatch } from 'diff';
import { readableRunCommand } from '../../lib/host-runtime/documents';
import type { CfnResource, CfnTemplate, SynthOutput } from './synth-output';

/**
 * Resource types whose replacement or deletion loses state, with what is lost. The instance is one
 * while PostgreSQL and Redis live on its root volume (lib/constructs/compose-host.ts).
 */
export const STATEFUL_TYPES: Readonly<Record<string, string>> = {
  'AWS::EC2::Instance': 'PostgreSQL and Redis data on its root volume',
  'AWS::EC2::Volume': 'the data on the volume',
  'AWS::S3::Bucket': 'the objects in the bucket (backups)',
  'AWS::Logs::LogGroup': 'the log events kept',
  'AWS::EC2::EIP': 'the public IP address (DNS and allow-lists point at it)',
  'AWS::Route53::HostedZone': 'the zone and its name servers',
  'AWS::RDS::DBInstance': 'the database',
  'AWS::DynamoDB::Table': 'the table items',
};

/** How a stateful resource is affected. Gating outcomes fail the review check unless acknowledged. */
export type StateOutcome = 'replaced' | 'may be replaced' | 'deleted' | 'removed from the stack, kept in the account' | 'no longer managed';

export interface StateChange {
  /** Stack name or `dist/<env>`. */
  readonly unit: string;
  /** `AWS::EC2::Instance HostInstance2C59A3BE`, or the stack for a stack that leaves the app. */
  readonly subject: string;
  readonly outcome: StateOutcome;
  /** What causes it and what is lost. */
  readonly detail: string;
  /** True when it fails the gate: data is destroyed or moved to a new resource. */
  readonly gate: boolean;
}

/** A row of cloudformation-diff's IAM or security-group summary, with its stack. */
export interface SecurityRow {
  readonly stack: string;
  readonly cells: readonly string[];
  /** A broadening worth a second look: `*` resource or action, a rule open to the internet. */
  readonly warning?: string;
}

export interface ScriptDiff {
  readonly stack: string;
  readonly document: string;
  /** Unified diff of the document's shell text. */
  readonly patch: string;
}

export interface StackReview {
  readonly stack: string;
  readonly environment: string;
  readonly status: 'added' | 'changed' | 'unchanged' | 'no longer managed';
  readonly state: readonly StateChange[];
  readonly iamHeader?: readonly string[];
  readonly iam: readonly SecurityRow[];
  readonly securityGroupHeader?: readonly string[];
  readonly securityGroups: readonly SecurityRow[];
  readonly scripts: readonly ScriptDiff[];
  /** The rest, rendered by cloudformation-diff's Formatter, one entry per resource or section. */
  readonly other: readonly string[];
  /** Differences that deploy nothing (CDK metadata, asset hashes), filtered out. */
  readonly noise: number;
}

// Colour codes of chalk, which cloudformation-diff's formatter may emit on a terminal.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const ASSET_HASH = /\b[0-9a-f]{64}\b/g;
const stripAnsi = (text: string) => text.replace(ANSI, '');

/** A template without what deploys nothing: resource metadata, CDK analytics, asset hashes. */
function normalized(template: CfnTemplate | undefined): CfnTemplate {
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

/** The shell text of an SSM Command document: each step's runCommand, joined. */
export function documentScript(content: unknown): string {
  const steps = (content as { mainSteps?: { name?: string; inputs?: { runCommand?: string[] | string } }[] } | undefined)?.mainSteps ?? [];
  return steps
    .map((step) => {
      const run = step.inputs?.runCommand;
      // Scripts are staged gzip'd and base64'd (lib/host-runtime/documents.ts): shown as their text.
      return `# step ${step.name ?? ''}\n${Array.isArray(run) ? readableRunCommand(run) : (run ?? '')}\n`;
    })
    .join('\n');
}

function formatResource(formatter: Formatter, sink: { text: string }, id: string, diff: ResourceDifference): string {
  sink.text = '';
  formatter.formatResourceDifference('Resource', id, diff);
  return stripAnsi(sink.text).trimEnd();
}

function stateChange(stack: string, id: string, diff: ResourceDifference): StateChange | undefined {
  const type = (diff.isRemoval ? diff.oldResourceType : diff.newResourceType) ?? '';
  const lost = STATEFUL_TYPES[type];
  if (!lost || diff.isAddition) return undefined;
  const subject = `${type} ${id}`;
  if (diff.isRemoval) {
    const policy = String(diff.oldValue?.DeletionPolicy ?? 'Delete');
    if (['Retain', 'RetainExceptOnCreate', 'Snapshot'].includes(policy)) {
      return {
        unit: stack,
        subject,
        outcome: 'removed from the stack, kept in the account',
        detail: `DeletionPolicy ${policy}: ${lost} stays, unmanaged`,
        gate: false,
      };
    }
    return { unit: stack, subject, outcome: 'deleted', detail: `${lost} is lost`, gate: true };
  }
  const causes = Object.entries(diff.propertyUpdates)
    .filter(([, p]) => p.changeImpact === ResourceImpact.WILL_REPLACE || p.changeImpact === ResourceImpact.MAY_REPLACE)
    .map(([name, p]) => `${name}${p.changeImpact === ResourceImpact.MAY_REPLACE ? ' (may)' : ''}`);
  const kept = diff.newValue?.UpdateReplacePolicy === 'Retain' ? '; the old one is kept (UpdateReplacePolicy Retain) but no longer used' : '';
  if (diff.resourceTypeChanged || diff.changeImpact === ResourceImpact.WILL_REPLACE) {
    return {
      unit: stack,
      subject,
      outcome: 'replaced',
      detail: `${causes.length ? `${causes.join(', ')} requires replacement` : 'type changed'}: ${lost} does not move to the new one${kept}`,
      gate: true,
    };
  }
  if (diff.changeImpact === ResourceImpact.MAY_REPLACE) {
    return {
      unit: stack,
      subject,
      outcome: 'may be replaced',
      detail: `${causes.join(', ')}: CloudFormation replaces it for some values; check before merging`,
      gate: false,
    };
  }
  return undefined;
}

function securityRows(stack: string, summary: string[][], warn: (cells: string[]) => string | undefined): { header?: string[]; rows: SecurityRow[] } {
  if (summary.length <= 1) return { rows: [] };
  const clean = summary.map((row) => row.map((cell) => stripAnsi(cell)));
  return { header: clean[0], rows: clean.slice(1).map((cells) => ({ stack, cells, warning: warn(cells) })) };
}

const iamWarning = (cells: string[]) => {
  const [sign, resource, effect, action] = cells;
  if (sign.trim() !== '+' || effect !== 'Allow') return undefined;
  if (resource.split('\n').some((r) => r.trim() === '*')) return 'any resource (`*`)';
  if (action.split('\n').some((a) => a.trim() === '*' || a.trim().endsWith(':*'))) return 'wildcard action';
  return undefined;
};
const sgWarning = (cells: string[]) => (cells[0].trim() === '+' && /Everyone/.test(cells[4] ?? '') ? 'open to the internet' : undefined);

/** One stack's review; either side may be absent (a new stack, or one that leaves the app). */
export function reviewStack(stack: string, environment: string, base: CfnTemplate | undefined, head: CfnTemplate | undefined): StackReview {
  const empty = { iam: [], securityGroups: [], scripts: [], other: [], state: [] as StateChange[] };
  if (base && !head) {
    // The CDK CLI never deletes a stack that left the app: it stays deployed, unmanaged, until destroyed.
    const stateful = Object.values(base.Resources ?? {}).filter((r) => STATEFUL_TYPES[r.Type]).length;
    return {
      ...empty,
      stack,
      environment,
      status: 'no longer managed',
      noise: 0,
      state: [
        {
          unit: stack,
          subject: `stack ${stack}`,
          outcome: 'no longer managed',
          detail: `not in the head's app: it stays deployed with its ${stateful} stateful resources until \`cdk destroy ${stack}\``,
          gate: false,
        },
      ],
    };
  }
  const nb = normalized(base);
  const nh = normalized(head);
  const noise = countNoise(base, head, nb, nh);
  const diff: TemplateDiff = fullDiff(nb, nh);
  if (diff.isEmpty) return { ...empty, stack, environment, status: 'unchanged', noise };

  const state: StateChange[] = [];
  const scripts: ScriptDiff[] = [];
  const other: string[] = [];
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
    const change = stateChange(stack, id, resource);
    if (change) state.push(change);
    const content = resource.propertyUpdates.Content;
    if (resource.resourceType === 'AWS::SSM::Document' && resource.isUpdate && content) {
      const name = String(resource.newValue?.Properties?.Name ?? id);
      scripts.push({
        stack,
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
  const iam = securityRows(stack, diff.iamChanges.summarizeStatements(), iamWarning);
  const managed = securityRows(stack, diff.iamChanges.summarizeManagedPolicies(), (cells) => (cells[0].trim() === '+' ? 'managed policy attached' : undefined));
  const groups = securityRows(stack, diff.securityGroupChanges.summarize(), sgWarning);
  return {
    stack,
    environment,
    status: base ? 'changed' : 'added',
    state,
    iamHeader: iam.header,
    iam: [...iam.rows, ...managed.rows.map((r) => ({ ...r, cells: [r.cells[0], r.cells[1], 'managed policy', r.cells[2] ?? '', '', ''] }))],
    securityGroupHeader: groups.header,
    securityGroups: groups.rows,
    scripts,
    other,
    noise,
  };
}

/** Every stack of base and head, in name order. */
export function reviewStacks(base: SynthOutput, head: SynthOutput): StackReview[] {
  const names = [...new Set([...base.stacks.keys(), ...head.stacks.keys()])].sort();
  return names.map((name) => {
    const b = base.stacks.get(name);
    const h = head.stacks.get(name);
    return reviewStack(name, (h ?? b)?.environment ?? 'account', b?.template, h?.template);
  });
}
