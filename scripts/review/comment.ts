/*
 * The pull-request comment: what matters first (data at risk, security, cost), everything else
 * collapsed, bounded in size with the least important sections cut first and the cut named.
 */

import { type CostEstimate, type CostLine, environmentsOf, estimateMonthlyCost, formatNotEstimated, PRICES_HEADING, totalUsd } from '../../lib/cost/estimate';
import { reviewStacks, type SecurityRow, type StackReview, type StateChange } from './cfn-changes';
import { type ManifestReview, reviewAllManifests } from './k8s-changes';
import type { SynthOutput } from './synth-output';

/** Hidden first line the workflow finds its own comment by, to update it in place. */
export const REVIEW_MARKER = '<!-- gitops-stack:review -->';
/** The label that acknowledges a replacement or deletion of state (the gate, docs/architecture.md). */
export const ACKNOWLEDGE_LABEL = 'acknowledge-state-change';
/** The workflow artifact holding the full, uncut report. */
export const FULL_REPORT_ARTIFACT = 'review-report';
/** Stays under GitHub's 65,536-character comment limit with room for the marker and footer. */
export const MAX_COMMENT_CHARS = 60_000;

export interface Review {
  readonly stacks: readonly StackReview[];
  readonly manifests: readonly ManifestReview[];
  readonly baseCost: CostEstimate;
  readonly headCost: CostEstimate;
  readonly state: readonly StateChange[];
  /** True when a replacement or deletion of state needs the acknowledgement. */
  readonly gated: boolean;
  readonly noise: number;
}

/** Compares two synth outputs. */
export function review(base: SynthOutput, head: SynthOutput): Review {
  const stacks = reviewStacks(base, head);
  const manifests = reviewAllManifests(base, head);
  const state = [...stacks.flatMap((s) => s.state), ...manifests.flatMap((m) => m.state)];
  return {
    stacks,
    manifests,
    baseCost: estimateMonthlyCost(base),
    headCost: estimateMonthlyCost(head),
    state,
    gated: state.some((s) => s.gate),
    noise: stacks.reduce((n, s) => n + s.noise, 0),
  };
}

/** A part of the comment; the lowest `importance` is cut first, down to `cut` (a one-line notice). */
interface Block {
  readonly text: string;
  readonly importance: number;
  /** What replaces it when cut; undefined: never cut. */
  readonly cut?: string;
  /** How the cut is named in the closing note. */
  readonly label?: string;
}

/** A unified diff without its three header lines (`===`, `---`, `+++`). */
const patchBody = (patch: string) => patch.split('\n').slice(3).join('\n');
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
const usd = (n: number) => n.toFixed(2);
const signed = (n: number) => `${n > 0 ? '+' : n < 0 ? '−' : '±'}${Math.abs(n).toFixed(2)}`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function securityTable(title: string, header: readonly string[] | undefined, rows: readonly SecurityRow[]): string {
  if (rows.length === 0 || !header) return '';
  return `#### ${title}\n\n${table(
    ['Stack', ...header, ''],
    rows.map((r) => [r.stack, ...r.cells, r.warning ? `⚠ ${r.warning}` : '']),
  )}\n`;
}

function stateBlock(r: Review, acknowledged: boolean): Block {
  const gateLine = !r.gated
    ? ''
    : acknowledged
      ? `\n**Acknowledged** with the \`${ACKNOWLEDGE_LABEL}\` label: the check passes.\n`
      : `\n⛔ **This replaces or deletes state: the check fails** until the pull request carries the \`${ACKNOWLEDGE_LABEL}\` label (add it once you have a backup or a migration plan).\n`;
  const body =
    r.state.length === 0
      ? 'Nothing that holds state is replaced, deleted or left unmanaged.\n'
      : `${table(
          ['', 'Where', 'Resource', 'What happens', 'Why'],
          r.state.map((s) => [s.gate ? '⛔' : s.outcome === 'may be replaced' ? '⚠' : 'ℹ', s.unit, s.subject, s.outcome, s.detail]),
        )}\n${gateLine}`;
  return { text: `### 1. Data at risk\n\n${body}`, importance: 100 };
}

function securityBlocks(r: Review): Block[] {
  const blocks: Block[] = [{ text: '### 2. Security\n', importance: 90 }];
  const iam = r.stacks.flatMap((s) => s.iam);
  const groups = r.stacks.flatMap((s) => s.securityGroups);
  const iamHeader = r.stacks.find((s) => s.iamHeader)?.iamHeader;
  const sgHeader = r.stacks.find((s) => s.securityGroupHeader)?.securityGroupHeader;
  const tables = [securityTable('IAM statement changes', iamHeader, iam), securityTable('Security group changes', sgHeader, groups)].filter(Boolean);
  if (tables.length)
    blocks.push({
      text: tables.join('\n'),
      importance: 60,
      cut: `_IAM and security-group tables cut to fit (${iam.length} statement and ${groups.length} rule changes)._\n`,
      label: 'IAM and security-group tables',
    });
  const k8s = r.manifests.flatMap((m) => m.changes.filter((c) => c.security));
  if (k8s.length) {
    const text = k8s
      .map((c) => (c.patch ? `**${c.unit}** \`${c.subject}\`\n\`\`\`diff\n${patchBody(c.patch)}\`\`\`\n` : `**${c.unit}** \`${c.subject}\` ${c.kind}\n`))
      .join('\n');
    blocks.push({
      text: `#### Kubernetes (NetworkPolicy, RBAC, ServiceAccounts, securityContext, secrets, Ingress)\n\n${text}`,
      importance: 50,
      cut: `_${k8s.length} Kubernetes security changes cut to fit._\n`,
      label: 'Kubernetes security diffs',
    });
  }
  const scripts = r.stacks.flatMap((s) => s.scripts);
  if (scripts.length) {
    const text = scripts.map((s) => `**${s.stack}** \`${s.document}\`\n\`\`\`diff\n${patchBody(s.patch)}\`\`\`\n`).join('\n');
    blocks.push({
      text: `#### Host scripts (SSM documents)\n\n${text}`,
      importance: 55,
      cut: `_${scripts.length} host-script diffs cut to fit._\n`,
      label: 'host-script diffs',
    });
  }
  if (blocks.length === 1) blocks.push({ text: 'No IAM, security-group, Kubernetes security or host-script changes.\n', importance: 90 });
  return blocks;
}

function costBlocks(r: Review): Block[] {
  const base = r.baseCost;
  const head = r.headCost;
  const envs = [...new Set([...environmentsOf(base.lines), ...environmentsOf(head.lines)])];
  const rows = envs.map((e) => {
    const b = totalUsd(base.lines, e);
    const h = totalUsd(head.lines, e);
    return [e, usd(b), usd(h), signed(h - b)];
  });
  rows.push([
    '**total**',
    `**${usd(totalUsd(base.lines))}**`,
    `**${usd(totalUsd(head.lines))}**`,
    `**${signed(totalUsd(head.lines) - totalUsd(base.lines))}**`,
  ]);
  const budgets = [...head.budgets].map(([account, budget]) => {
    const envsOfAccount = head.accounts.get(account) ?? [];
    const spend = totalUsd(head.lines.filter((l) => envsOfAccount.includes(l.environment) || (l.environment === 'account' && l.key.includes(account))));
    return spend > budget
      ? `⚠ Account ${account}: the estimate USD ${usd(spend)} exceeds the monthly budget of USD ${usd(budget)} (costGuardrails.monthlyBudgetUsd).`
      : `Account ${account}: USD ${usd(spend)} of the monthly budget of USD ${usd(budget)}.`;
  });
  const byKey = (lines: readonly CostLine[]) => new Map(lines.map((l) => [l.key, l]));
  const b = byKey(base.lines);
  const h = byKey(head.lines);
  const changed = [...new Set([...b.keys(), ...h.keys()])]
    .filter((k) => b.get(k)?.usd !== h.get(k)?.usd || b.get(k)?.item !== h.get(k)?.item)
    .map((k) => {
      const was = b.get(k);
      const now = h.get(k);
      return [
        (now ?? was)?.environment ?? '',
        was ? `${was.item} (${was.basis})` : '—',
        now ? `${now.item} (${now.basis})` : '—',
        signed((now?.usd ?? 0) - (was?.usd ?? 0)),
      ];
    });
  const head1 = `### 3. Cost (USD a month, ${PRICES_HEADING})\n\n${table(['Environment', 'base', 'head', 'change'], rows)}\n\n${budgets.join('\n')}\n`;
  const blocks: Block[] = [{ text: head1, importance: 80 }];
  if (changed.length)
    blocks.push({
      text: `\nLines that changed:\n\n${table(['Environment', 'base', 'head', 'change'], changed)}\n`,
      importance: 45,
      cut: `\n_${changed.length} changed cost lines cut to fit._\n`,
      label: 'changed cost lines',
    });
  const missing = formatNotEstimated(head.notEstimated);
  if (missing)
    blocks.push({
      text: `\n${missing}\n`,
      importance: 40,
      cut: `\n_${head.notEstimated.length} resources not estimated (list cut to fit)._\n`,
      label: 'not-estimated list',
    });
  return blocks;
}

function otherBlocks(r: Review): Block[] {
  const blocks: Block[] = [{ text: '### 4. Everything else\n', importance: 70 }];
  for (const s of r.stacks.filter((x) => x.other.length > 0)) {
    const title = `${s.stack}${s.status === 'added' ? ' (new stack)' : ''}: ${s.other.length} change${s.other.length === 1 ? '' : 's'}`;
    blocks.push({
      text: `<details><summary>${title}</summary>\n\n\`\`\`\n${s.other.join('\n')}\n\`\`\`\n</details>\n`,
      importance: s.status === 'added' ? 10 : 20,
      cut: `- ${title} (cut to fit)\n`,
      label: `details of ${s.stack}`,
    });
  }
  for (const m of r.manifests) {
    const rest = m.changes.filter((c) => !c.security);
    if (rest.length === 0) continue;
    const title = `${m.unit}: ${rest.length} object change${rest.length === 1 ? '' : 's'}`;
    const body = rest.map((c) => (c.patch ? `~ ${c.subject}\n${patchBody(c.patch)}` : `${c.kind === 'added' ? '+' : '-'} ${c.subject}`)).join('\n');
    const added = rest.every((c) => c.kind === 'added');
    blocks.push({
      text: `<details><summary>${title}</summary>\n\n\`\`\`diff\n${body}\n\`\`\`\n</details>\n`,
      importance: added ? 10 : 20,
      cut: `- ${title} (cut to fit)\n`,
      label: `details of ${m.unit}`,
    });
  }
  const unchanged = r.stacks.filter((s) => s.status === 'unchanged').length;
  blocks.push({
    text: `\n${unchanged} stack${unchanged === 1 ? '' : 's'} unchanged. Filtered out: ${r.noise} change${r.noise === 1 ? '' : 's'} that deploy nothing (CDK metadata, asset hashes).\n`,
    importance: 70,
  });
  return blocks;
}

function summaryLine(r: Review): string {
  const count = (status: StackReview['status']) => r.stacks.filter((s) => s.status === status).length;
  const objects = r.manifests.reduce((n, m) => n + m.changes.length, 0);
  return `${count('changed')} stacks changed, ${count('added')} new, ${count('no longer managed')} no longer managed; ${objects} Kubernetes object changes; ${r.state.length} state changes${r.gated ? ' (⛔ gate)' : ''}.\n`;
}

/**
 * The comment as Markdown. With `maxChars`, blocks are cut from the least important up until it
 * fits, and the comment says what was cut and where the full report is.
 */
export function renderComment(r: Review, options: { acknowledged: boolean; maxChars?: number }): string {
  const blocks: Block[] = [
    { text: `${REVIEW_MARKER}\n## What this pull request does to each environment\n\n${summaryLine(r)}`, importance: 100 },
    stateBlock(r, options.acknowledged),
    ...securityBlocks(r),
    ...costBlocks(r),
    ...otherBlocks(r),
  ];
  const texts = blocks.map((b) => b.text);
  const join = () => texts.join('\n');
  const limit = options.maxChars;
  if (limit === undefined || join().length <= limit) return join();
  const reserve = 600; // the closing note
  const cut: string[] = [];
  const order = blocks
    .map((b, i) => ({ b, i }))
    .filter(({ b }) => b.cut !== undefined)
    .sort((x, y) => x.b.importance - y.b.importance || y.b.text.length - x.b.text.length);
  for (const { b, i } of order) {
    if (join().length + reserve <= limit) break;
    texts[i] = b.cut as string;
    cut.push(b.label as string);
  }
  let text = join();
  const note = `\n---\n✂ **Cut to fit GitHub's comment limit** (${MAX_COMMENT_CHARS.toLocaleString('en-US')} characters): ${summarizeCuts(cut)}. The full report is the \`${FULL_REPORT_ARTIFACT}\` artifact of this workflow run (or run \`npm run review -- BASE HEAD --full report.md\` locally).\n`;
  if (text.length + note.length > limit) text = `${text.slice(0, limit - note.length - 40)}\n\n… (truncated)\n`;
  return text + note;
}

function summarizeCuts(labels: readonly string[]): string {
  const details = labels.filter((l) => l.startsWith('details of '));
  const rest = labels.filter((l) => !l.startsWith('details of '));
  return [details.length ? `the collapsed details of ${details.length} stacks and manifest directories` : '', ...rest].filter(Boolean).join(', ') || 'nothing';
}
