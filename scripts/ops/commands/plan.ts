/*
 * `ops plan`: pure parts. Which stacks of a cloud assembly an environment deploys, the change set
 * each gets (never executed), and how a change set reads: CloudFormation's own verdict per
 * resource (Replacement True or Conditional), then the same sections as the pull-request review,
 * computed from the deployed template, the new one and the change set (cloudformation-diff takes
 * the change set's replacement verdicts over its own).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Change, CreateChangeSetCommandInput, DescribeChangeSetCommandOutput } from '@aws-sdk/client-cloudformation';
import { PLAN_CHANGE_SET_PREFIX, PLAN_TEMPLATE_PREFIX } from '../../../lib/constructs/github-plan-role';
import { estimateMonthlyCost } from '../../../lib/cost/estimate';
import { synthStack } from '../../../lib/synth-output/stacks';
import { reviewStack } from '../../review/cfn-changes';
import type { Review } from '../../review/review';
import type { CfnTemplate } from '../../review/synth-output';

/** CloudFormation's limit on a template passed inline (`TemplateBody`); larger ones go through S3. */
export const TEMPLATE_BODY_LIMIT = 51_200;

/** One stack to plan, read from the cloud assembly. */
export interface PlanTarget {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  readonly templateBody: string;
  /** The environment's CDK staging bucket (the template asset's destination). */
  readonly bucket?: string;
  /** The template asset's object key (its content hash): the plan copy is `ops-plan/<key>`. */
  readonly objectKey?: string;
}

/** A user mistake or an assembly that cannot be planned: one line. */
export class PlanError extends Error {}

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly properties?: { readonly templateFile?: string; readonly file?: string };
}

/**
 * The stacks named `stackNames` (in that order) of the cloud assembly in `dir`, with their
 * templates and where a large template is uploaded. A stack missing from the assembly is an error:
 * the assembly was synthesized from another config.
 */
export function planTargets(dir: string, stackNames: readonly string[]): PlanTarget[] {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new PlanError(`${dir} is not a cloud assembly (no manifest.json): run npm run synth first, or pass --assembly <dir>`);
  const artifacts = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { artifacts?: Record<string, ManifestArtifact> }).artifacts ?? {};
  return stackNames.map((stackName) => {
    const artifact = artifacts[stackName];
    if (artifact?.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile)
      throw new PlanError(`${dir} has no stack ${stackName}: synthesize it from this config (npm run synth) before planning`);
    const [, account, region] = /^aws:\/\/([^/]+)\/(.+)$/.exec(artifact.environment ?? '') ?? [];
    const templateFile = artifact.properties.templateFile;
    const assets = artifacts[`${stackName}.assets`]?.properties?.file;
    const destination = assets
      ? Object.values(
          (
            JSON.parse(readFileSync(join(dir, assets), 'utf8')) as {
              files?: Record<string, { source?: { path?: string }; destinations?: Record<string, { bucketName?: string; objectKey?: string }> }>;
            }
          ).files ?? {},
        )
          .filter((f) => f.source?.path === templateFile)
          .flatMap((f) => Object.values(f.destinations ?? {}))[0]
      : undefined;
    return {
      stackName,
      account,
      region,
      templateBody: readFileSync(join(dir, templateFile), 'utf8'),
      bucket: destination?.bucketName,
      objectKey: destination?.objectKey,
    };
  });
}

/** Where the change set reads the template from: inline when small enough, else the plan copy in S3. */
export function templateLocation(
  target: PlanTarget,
): { readonly TemplateBody: string } | { readonly upload: { bucket: string; key: string }; readonly TemplateURL: string } {
  const body = JSON.stringify(JSON.parse(target.templateBody));
  if (Buffer.byteLength(body) <= TEMPLATE_BODY_LIMIT) return { TemplateBody: body };
  if (!target.bucket || !target.objectKey)
    throw new PlanError(`${target.stackName}'s template is over ${TEMPLATE_BODY_LIMIT} bytes and its assembly names no staging bucket to put it in`);
  const key = `${PLAN_TEMPLATE_PREFIX}${target.objectKey}`;
  return { upload: { bucket: target.bucket, key }, TemplateURL: `https://${target.bucket}.s3.${target.region}.amazonaws.com/${key}` };
}

export { PLAN_TEMPLATE_PREFIX };

/** A change set name unique to this run: `ops-plan-<UTC time>` (the plan role may touch only these). */
export function changeSetName(now: number): string {
  return `${PLAN_CHANGE_SET_PREFIX}${new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

/** The change set of one stack: an update of what is deployed, never executed by ops. */
export function changeSetInput(
  target: PlanTarget,
  name: string,
  template: { readonly TemplateBody: string } | { readonly TemplateURL: string },
): CreateChangeSetCommandInput {
  return {
    StackName: target.stackName,
    ChangeSetName: name,
    ChangeSetType: 'UPDATE',
    ...('TemplateBody' in template ? { TemplateBody: template.TemplateBody } : { TemplateURL: template.TemplateURL }),
    Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
    Description: 'npm run ops -- plan: read and deleted, never executed',
  };
}

/** What ops learned of one stack. */
export type StackPlan =
  | { readonly stackName: string; readonly status: 'not deployed'; readonly template: CfnTemplate }
  | { readonly stackName: string; readonly status: 'no changes'; readonly deployed: CfnTemplate; readonly template: CfnTemplate }
  | {
      readonly stackName: string;
      readonly status: 'changes';
      readonly deployed: CfnTemplate;
      readonly template: CfnTemplate;
      readonly changeSet: DescribeChangeSetCommandOutput;
    }
  | { readonly stackName: string; readonly status: 'failed'; readonly reason: string };

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');

/** Why CloudFormation changes a resource, from a change's details (the property and what caused it). */
function causes(change: Change): string {
  const details = change.ResourceChange?.Details ?? [];
  const parts = details.map((d) => {
    const target = [d.Target?.Attribute, d.Target?.Name].filter(Boolean).join(' ');
    const recreate = d.Target?.RequiresRecreation && d.Target.RequiresRecreation !== 'Never' ? `, recreation ${d.Target.RequiresRecreation.toLowerCase()}` : '';
    const source = d.ChangeSource
      ? ` (${d.ChangeSource}${d.CausingEntity ? `: ${d.CausingEntity}` : ''}${recreate})`
      : recreate
        ? ` (${recreate.slice(2)})`
        : '';
    return `${target}${source}`;
  });
  return [...new Set(parts)].join('; ');
}

/** CloudFormation's verdict on each resource of a change set, replacements first. */
export function changeRows(stackName: string, changeSet: DescribeChangeSetCommandOutput): string[][] {
  const rank = (c: Change) => (c.ResourceChange?.Replacement === 'True' ? 0 : c.ResourceChange?.Replacement === 'Conditional' ? 1 : 2);
  return [...(changeSet.Changes ?? [])]
    .sort((a, b) => rank(a) - rank(b))
    .map((c) => {
      const r = c.ResourceChange ?? {};
      const replacement =
        r.Replacement === 'True' ? '⛔ replaced' : r.Replacement === 'Conditional' ? '⚠ may be replaced' : r.Action === 'Remove' ? 'removed' : '';
      return [stackName, r.Action ?? '', r.LogicalResourceId ?? '', r.ResourceType ?? '', replacement, causes(c)];
    });
}

/** The plan's review: each planned stack reviewed as the pull request's is, with the change set's verdicts. */
export function planReview(app: string, environment: string, account: string, plans: readonly StackPlan[]): Review {
  const reviewed = plans.flatMap((p) => {
    if (p.status === 'failed') return [];
    if (p.status === 'not deployed') return [reviewStack(p.stackName, environment, undefined, p.template)];
    return [reviewStack(p.stackName, environment, p.deployed, p.template, p.status === 'changes' ? p.changeSet : undefined)];
  });
  const stacksOf = (side: 'deployed' | 'template') =>
    new Map(
      plans.flatMap((p) => {
        const template = side === 'deployed' ? ('deployed' in p ? p.deployed : undefined) : 'template' in p ? p.template : undefined;
        return template ? [[p.stackName, synthStack(p.stackName, account, template)] as const] : [];
      }),
    );
  const state = reviewed.flatMap((s) => s.state);
  const security = reviewed.flatMap((s) => s.security);
  const side = { dir: 'the account', app, environments: [environment] };
  return {
    base: side,
    head: { ...side, dir: 'the assembly' },
    stacks: reviewed,
    manifests: [],
    state,
    security,
    scripts: reviewed.flatMap((s) => s.scripts),
    baseCost: estimateMonthlyCost({ stacks: stacksOf('deployed') }),
    headCost: estimateMonthlyCost({ stacks: stacksOf('template') }),
    removedEnvironments: [],
    addedEnvironments: [],
    gated: state.some((s) => s.severity === 'block') || security.some((f) => f.severity === 'block'),
    noise: reviewed.reduce((n, s) => n + s.noise, 0),
  };
}

/** The plan's opening: what was compared and CloudFormation's verdicts, stack by stack. */
export function formatPlanHead(environment: string, account: string, assembly: string, plans: readonly StackPlan[]): string {
  const lines = [
    `## Plan of ${environment}: the cloud assembly against what is deployed in account ${account}`,
    '',
    `Change sets of ${assembly} against the deployed stacks, read and deleted again; nothing was executed.`,
    '',
  ];
  const rows = plans.flatMap((p) => (p.status === 'changes' ? changeRows(p.stackName, p.changeSet) : []));
  if (rows.length) {
    lines.push(
      '| Stack | Action | Resource | Type | Replacement | Because of |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
      '',
    );
  }
  for (const p of plans) {
    if (p.status === 'not deployed') lines.push(`- ${p.stackName}: not deployed yet; the deploy creates every resource of its template.`);
    if (p.status === 'no changes') lines.push(`- ${p.stackName}: no changes (what is deployed is this template).`);
    if (p.status === 'failed') lines.push(`- ⛔ ${p.stackName}: CloudFormation refused the change set: ${p.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
