/*
 * The pull-request comment: what matters first (data at risk, security, cost), everything else
 * collapsed. Identical changes in several environments are shown once, naming the environments.
 * Bounded to GitHub's comment limit without losing a section: every section keeps its heading and
 * a head of its table, with the count of what was left out; the room is given to the sections in
 * order of importance (data, judged security, the cost table, diffs, cost lines, the rest), so the
 * least important give way first. The full report (nothing left out) goes to the workflow's
 * artifact and job summary.
 */
import { environmentsOf, formatNotEstimated, PRICES_HEADING, totalUsd } from '../../lib/cost/estimate';
import { SEVERITY_MARK, type Severity, type StateChange } from './cfn-changes';
import type { Review } from './review';
import type { SecurityCategory, SecurityFinding } from './security';

/** Hidden first line the workflow finds its own comment by, to update it in place. */
export const REVIEW_MARKER = '<!-- gitops-stack:review -->';
/** The label that acknowledges the ⛔ findings of one head commit (the gate, docs/architecture.md). */
export const ACKNOWLEDGE_LABEL = 'acknowledge-state-change';
/** The workflow artifact holding the full report. */
export const FULL_REPORT_ARTIFACT = 'review-report';
/** GitHub's limit on a comment body. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** Stays under GitHub's limit with room for the acknowledgement paragraph the publisher puts in. */
export const MAX_COMMENT_CHARS = 60_000;
/** Longest single entry (a script diff, a stack's details); longer ones are cut with a note. */
const MAX_ITEM_CHARS = 8_000;
/** Where the gate paragraph sits, so the publisher can put the acknowledgement state in (publish.ts). */
export const GATE_START = '<!-- gate -->';
export const GATE_END = '<!-- /gate -->';

/** Where the two synth outputs came from, as the comment names them. */
export interface ReviewLabels {
  /** The base commit (e.g. a SHA). @default the base directory */
  readonly base?: string;
  /** The head commit. @default the head directory */
  readonly head?: string;
  /** SHA-256 of the head's cloud assembly (scripts/review/assembly-hash.ts). @default - not shown */
  readonly assemblyHash?: string;
  /** Another heading, without the review marker (`ops plan`). @default the review's heading and marker */
  readonly title?: string;
  /** What was compared, in words. @default two commits' synth output, not the account */
  readonly compared?: string;
}

/** The state of the acknowledgement of a head commit. */
export interface Acknowledgement {
  readonly acknowledged: boolean;
  /** Who gave it (the label's author). @default - not named */
  readonly by?: string;
  /** The commit an earlier acknowledgement was given for, when it was not this head. @default - none */
  readonly staleFor?: string;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
const usd = (n: number) => n.toFixed(2);
const signed = (n: number) => `${n > 0 ? '+' : n < 0 ? '−' : '±'}${Math.abs(n).toFixed(2)}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const row = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
const headerRows = (cells: readonly string[]) => `${row(cells)}\n| ${cells.map(() => '---').join(' | ')} |`;
/** A unified diff without its three header lines (`===`, `---`, `+++`). */
const patchBody = (patch: string) => patch.split('\n').slice(3).join('\n');
/**
 * An entry cut to MAX_ITEM_CHARS for the comment (`limit` set), its code fence and details closed;
 * the full report keeps it whole.
 */
const boundedTo = (limit: number | undefined) => (text: string) => {
  if (limit === undefined || text.length <= MAX_ITEM_CHARS) return text;
  const cut = text.slice(0, MAX_ITEM_CHARS);
  const fenceOpen = (cut.match(/```/g) ?? []).length % 2 === 1;
  return `${cut}\n… (${(text.length - MAX_ITEM_CHARS).toLocaleString('en-US')} more characters in the full report)${fenceOpen ? '\n```' : ''}${text.startsWith('<details>') ? '\n</details>' : ''}`;
};

/**
 * Text with one environment's name replaced by `<env>` where the project derives names from it
 * (`<app>-<env>-…`, `/<app>/<env>/`, `dist/<env>`, and the bare name as a word), so the same change
 * in two environments reads the same.
 */
export function withoutEnvironment(text: string, app: string, env: string): string {
  if (env === 'account') return text;
  const e = env.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const a = app.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text
    .replace(new RegExp(`${a}-${e}(?![\\w])`, 'g'), `${app}-<env>`)
    .replace(new RegExp(`${a}-${e}-`, 'g'), `${app}-<env>-`)
    .replace(new RegExp(`/${a}/${e}/`, 'g'), `/${app}/<env>/`)
    .replace(new RegExp(`dist/${e}(?![\\w-])`, 'g'), 'dist/<env>')
    .replace(new RegExp(`(?<![\\w./-])${e}(?![\\w./-])`, 'g'), '<env>');
}

interface Grouped<T> {
  readonly item: T;
  readonly environments: readonly string[];
}

/** Environments in config order (the head's, then those only the base has), for naming groups. */
let environmentOrder: readonly string[] = [];
const byConfigOrder = (a: string, b: string) => {
  const rank = (e: string) => (environmentOrder.includes(e) ? environmentOrder.indexOf(e) : environmentOrder.length);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
};

/** Items equal but for their environment, once, with every environment named (in config order). */
function grouped<T extends { readonly environment: string }>(items: readonly T[], app: string, text: (item: T) => string): Grouped<T>[] {
  const groups = new Map<string, { item: T; environments: string[] }>();
  for (const item of items) {
    const key = withoutEnvironment(text(item), app, item.environment);
    const group = groups.get(key);
    if (group) {
      if (!group.environments.includes(item.environment)) group.environments.push(item.environment);
    } else groups.set(key, { item, environments: [item.environment] });
  }
  return [...groups.values()].map((g) => ({ item: g.item, environments: [...g.environments].sort(byConfigOrder) }));
}

/** The unit (stack or manifest directory) of a group: its own name, or with `<env>` when several environments share it. */
const unitOf = (g: Grouped<{ readonly unit: string; readonly environment: string }>, app: string) =>
  g.environments.length > 1 ? withoutEnvironment(g.item.unit, app, g.item.environment) : g.item.unit;
const textOf = (g: Grouped<{ readonly environment: string }>, app: string, text: string) =>
  g.environments.length > 1 ? withoutEnvironment(text, app, g.item.environment) : text;
const where = (environments: readonly string[]) => environments.join(', ');

/** A part of the comment: a heading, then entries of which a bounded head is shown. */
interface Part {
  /** Lower is more important: the room goes to parts in this order. */
  readonly priority: number;
  readonly heading: string;
  readonly items: readonly string[];
  /** Separator of entries: table rows join with a newline, diff blocks with a blank line. */
  readonly joiner: string;
  /** What is left out, counted: `IAM rows`. */
  readonly noun: string;
  /** After the entries (always shown). @default none */
  readonly footer?: string;
}

const leftOutLine = (part: Part, shown: number) =>
  shown >= part.items.length
    ? ''
    : `\n_… ${part.items.length - shown} more ${part.noun} left out here (the ${FULL_REPORT_ARTIFACT} artifact and the job summary have all of them)._\n`;

function renderPart(part: Part, shown: number): string {
  const body = part.items.slice(0, shown).join(part.joiner);
  return `${part.heading}${body}${body ? '\n' : ''}${leftOutLine(part, shown)}${part.footer ?? ''}`;
}

/** How many entries of each part fit in `limit`: every heading kept, room given by priority. */
function entriesThatFit(parts: readonly Part[], limit: number): number[] {
  const shown = parts.map(() => 0);
  const length = () => parts.reduce((n, p, i) => n + renderPart(p, shown[i]).length + 1, 0);
  let total = length();
  const order = parts.map((p, i) => ({ p, i })).sort((a, b) => a.p.priority - b.p.priority || a.i - b.i);
  for (const { p, i } of order) {
    while (shown[i] < p.items.length) {
      const before = renderPart(p, shown[i]).length;
      const after = renderPart(p, shown[i] + 1).length;
      if (total - before + after > limit) break;
      shown[i] += 1;
      total += after - before;
    }
  }
  return shown;
}

/** The ⛔ ⚠ ℹ counts of a list. */
function counts(items: readonly { readonly severity?: Severity }[]): string {
  const n = (s: Severity) => items.filter((i) => i.severity === s).length;
  return (['block', 'warn'] as const)
    .filter((s) => n(s) > 0)
    .map((s) => `${SEVERITY_MARK[s]} ${n(s)}`)
    .join(', ');
}

/** Cost change of the environments both sides deploy and of the account, and the environments the head no longer deploys. */
function costChange(r: Review): { readonly change: number; readonly stillDeployed: number } {
  const removed = new Set(r.removedEnvironments);
  const kept = r.baseCost.lines.filter((l) => !removed.has(l.environment));
  return {
    change: totalUsd(r.headCost.lines) - totalUsd(kept),
    stillDeployed: totalUsd(r.baseCost.lines.filter((l) => removed.has(l.environment))),
  };
}

/** The first lines: what was compared, and one line counting state, security and cost changes. */
function summary(r: Review, labels: ReviewLabels): string {
  const count = (status: string) => r.stacks.filter((s) => s.status === status).length;
  const objects = r.manifests.reduce((n, m) => n + m.changes.length, 0);
  const judged = r.security.filter((f) => f.severity === 'block' || f.severity === 'warn');
  const { change } = costChange(r);
  const stateCounts = counts(r.state);
  const securityCounts = counts(judged);
  const line = [
    `**Data at risk: ${plural(r.state.length, 'change')}${stateCounts ? ` (${stateCounts})` : ''}**`,
    `**Security: ${plural(r.security.length, 'change')}${securityCounts ? ` (${securityCounts})` : ''}**`,
    `**Cost: ${signed(change)} USD a month**`,
    `${count('changed')} stacks changed, ${count('added')} new, ${count('no longer managed')} no longer managed; ${objects} Kubernetes object changes${r.gated ? ' · ⛔ gate' : ''}`,
  ].join(' · ');
  const compared =
    labels.compared ??
    `Compared the synth output of two commits, base \`${labels.base ?? r.base.dir}\` and head \`${labels.head ?? r.head.dir}\`, not what is deployed: \`npm run ops -- plan --env <env>\` creates change sets against the account (the deploy workflow runs it before its approval).`;
  const assembly = labels.assemblyHash
    ? `\nHead cloud assembly: \`${labels.assemblyHash}\` (the deploy workflow deploys an assembly only with the hash of its own synth, shown in its run).`
    : '';
  const added = r.addedEnvironments.length ? `\nNew environments: ${r.addedEnvironments.join(', ')} (the deploy workflow deploys them after dev).` : '';
  const removed = r.removedEnvironments.length
    ? `\nEnvironments no longer in the config: ${r.removedEnvironments.join(', ')} (no longer deployed by this pipeline; their stacks stay until destroyed).`
    : '';
  const heading = labels.title ?? `${REVIEW_MARKER}\n## What this pull request does to each environment`;
  return `${heading}\n\n${line}\n\n${compared}${assembly}${added}${removed}\n`;
}

/** The gate paragraph of the data-at-risk section, between the markers the publisher replaces. */
export function gateParagraph(gated: boolean, ack: Acknowledgement): string {
  let text = '';
  if (!gated) text = '';
  else if (ack.acknowledged)
    text = `**Acknowledged**${ack.by ? ` by @${ack.by}` : ''} with the \`${ACKNOWLEDGE_LABEL}\` label for this head commit: the check passes.`;
  else
    text = `⛔ **The check fails** until the pull request carries the \`${ACKNOWLEDGE_LABEL}\` label, added for this head commit (add it once you have a backup or a migration plan; a new push needs it added again)${ack.staleFor ? `. The label was added for ${ack.staleFor}, not this head: remove it and add it again` : ''}.`;
  return `${GATE_START}\n${text ? `${text}\n` : ''}${GATE_END}\n`;
}

function statePart(r: Review, app: string, ack: Acknowledgement): Part {
  const groups = grouped(r.state, app, (s) => `${s.severity}|${s.unit}|${s.subject}|${s.outcome}|${s.detail}`);
  const items = groups.map((g) =>
    row([SEVERITY_MARK[g.item.severity], where(g.environments), unitOf(g, app), textOf(g, app, g.item.subject), g.item.outcome, textOf(g, app, g.item.detail)]),
  );
  const heading = `### 1. Data at risk\n\n${items.length ? `${headerRows(['', 'Environments', 'Where', 'Resource', 'What happens', 'Why, and what happens to its data'])}\n` : 'Nothing that holds data, the host or its address is replaced, deleted, moved or left unmanaged.\n'}`;
  return { priority: 1, heading, items, joiner: '\n', noun: 'data-at-risk rows', footer: `\n${gateParagraph(r.gated, ack)}` };
}

const CATEGORY_TITLES: Readonly<Record<SecurityCategory, string>> = {
  IAM: 'IAM statements and managed policies',
  Network: 'Security-group rules',
  Kubernetes: 'Kubernetes (pod security, network policies, disruption budgets, autoscaling, RBAC)',
  Acknowledgements: 'cdk-nag and template-validation acknowledgements (with their reasons)',
};

function securityParts(r: Review, app: string, bounded: (text: string) => string): Part[] {
  const parts: Part[] = [];
  const severityOrder = (s?: Severity) => (s === 'block' ? 0 : s === 'warn' ? 1 : s === 'info' ? 2 : 3);
  for (const category of ['IAM', 'Network', 'Kubernetes', 'Acknowledgements'] as const) {
    const findings = r.security.filter((f) => f.category === category).sort((a, b) => severityOrder(a.severity) - severityOrder(b.severity));
    if (findings.length === 0) continue;
    const groups = grouped<SecurityFinding>(findings, app, (f) => `${f.severity}|${f.unit}|${f.subject}|${f.change}|${f.reason}`);
    const items = groups.map((g) =>
      row([
        g.item.severity ? SEVERITY_MARK[g.item.severity] : '',
        where(g.environments),
        unitOf(g, app),
        textOf(g, app, g.item.subject),
        textOf(g, app, g.item.change),
        g.item.reason ? textOf(g, app, g.item.reason) : '',
      ]),
    );
    parts.push({
      priority: 2,
      heading: `#### ${CATEGORY_TITLES[category]}\n\n${headerRows(['', 'Environments', 'Where', 'Who or what', 'Change', 'Judgment'])}\n`,
      items,
      joiner: '\n',
      noun: `${category === 'Acknowledgements' ? 'acknowledgement' : category} rows`,
    });
  }
  const k8s = r.manifests.flatMap((m) => m.changes.filter((c) => c.security));
  if (k8s.length) {
    const groups = grouped(k8s, app, (c) => `${c.unit}|${c.subject}|${c.kind}|${c.patch ? patchBody(c.patch) : ''}`);
    parts.push({
      priority: 4,
      heading: '#### Kubernetes security-relevant objects, as diffs\n\n',
      items: groups.map((g) => {
        const title = `**${where(g.environments)}** \`${textOf(g, app, g.item.subject)}\``;
        return bounded(g.item.patch ? `${title}\n\`\`\`diff\n${textOf(g, app, patchBody(g.item.patch))}\`\`\`` : `${title} ${g.item.kind}`);
      }),
      joiner: '\n\n',
      noun: 'Kubernetes diffs',
    });
  }
  if (r.scripts.length) {
    const groups = grouped(r.scripts, app, (s) => `${s.stack}|${s.document}|${patchBody(s.patch)}`);
    parts.push({
      priority: 4,
      heading: '#### Host scripts (SSM documents)\n\n',
      items: groups.map((g) =>
        bounded(`**${where(g.environments)}** \`${textOf(g, app, g.item.document)}\`\n\`\`\`diff\n${textOf(g, app, patchBody(g.item.patch))}\`\`\``),
      ),
      joiner: '\n\n',
      noun: 'host-script diffs',
    });
  }
  const intro = parts.length ? '' : 'No IAM, network, Kubernetes security, acknowledgement or host-script changes.\n';
  return [{ priority: 2, heading: `### 2. Security\n\n${intro}`, items: [], joiner: '', noun: '' }, ...parts];
}

function costParts(r: Review): Part[] {
  const base = r.baseCost;
  const head = r.headCost;
  const removed = new Set(r.removedEnvironments);
  const envs = [...new Set([...environmentsOf(head.lines), ...environmentsOf(base.lines)])];
  const rows = envs.map((e) => {
    const b = totalUsd(base.lines, e);
    if (removed.has(e)) return row([e, usd(b), '—', 'no longer deployed by this pipeline, stacks stay until destroyed (not a saving)']);
    const h = totalUsd(head.lines, e);
    return row([e, usd(b), usd(h), signed(h - b)]);
  });
  const { change, stillDeployed } = costChange(r);
  rows.push(
    row([
      '**total**',
      `**${usd(totalUsd(base.lines))}**`,
      `**${usd(totalUsd(head.lines))}**`,
      `**${signed(change)}**${stillDeployed ? ` (not counting USD ${usd(stillDeployed)} of environments no longer deployed, still billed until destroyed)` : ''}`,
    ]),
  );
  const budgets = [...head.budgets].map(([account, budget]) => {
    const envsOfAccount = head.accounts.get(account) ?? [];
    const spend = totalUsd(head.lines.filter((l) => envsOfAccount.includes(l.environment) || (l.environment === 'account' && l.key.includes(account))));
    return spend > budget
      ? `⚠ Account ${account}: the estimate USD ${usd(spend)} exceeds the monthly budget of USD ${usd(budget)} (costGuardrails.monthlyBudgetUsd).`
      : `Account ${account}: USD ${usd(spend)} of the monthly budget of USD ${usd(budget)}.`;
  });
  const parts: Part[] = [
    {
      priority: 3,
      heading: `### 3. Cost (USD a month, ${PRICES_HEADING})\n\n${headerRows(['Environment', 'base', 'head', 'change'])}\n`,
      items: rows,
      joiner: '\n',
      noun: 'cost rows',
      footer: budgets.length ? `\n${budgets.join('\n')}\n` : '',
    },
  ];
  const byKey = (lines: typeof base.lines) => new Map(lines.map((l) => [l.key, l]));
  const b = byKey(base.lines);
  const h = byKey(head.lines);
  const changed = [...new Set([...b.keys(), ...h.keys()])]
    .filter((k) => b.get(k)?.usd !== h.get(k)?.usd || b.get(k)?.item !== h.get(k)?.item)
    .filter((k) => !removed.has((b.get(k) ?? h.get(k))?.environment ?? ''))
    .map((k) => {
      const was = b.get(k);
      const now = h.get(k);
      return row([
        (now ?? was)?.environment ?? '',
        was ? `${was.item} (${was.basis})` : '—',
        now ? `${now.item} (${now.basis})` : '—',
        signed((now?.usd ?? 0) - (was?.usd ?? 0)),
      ]);
    });
  if (changed.length)
    parts.push({
      priority: 5,
      heading: `\nLines that changed:\n\n${headerRows(['Environment', 'base', 'head', 'change'])}\n`,
      items: changed,
      joiner: '\n',
      noun: 'changed cost lines',
    });
  const missing = formatNotEstimated(head.notEstimated);
  if (missing) {
    const [first, ...lines] = missing.split('\n');
    parts.push({ priority: 6, heading: `\n${first}\n`, items: lines, joiner: '\n', noun: 'resources not estimated' });
  }
  return parts;
}

function otherParts(r: Review, app: string, bounded: (text: string) => string): Part[] {
  const entries: { environment: string; unit: string; title: string; body: string }[] = [];
  for (const s of r.stacks.filter((x) => x.other.length > 0)) {
    entries.push({
      environment: s.environment,
      unit: s.stack,
      title: `${s.stack}${s.status === 'added' ? ' (new stack)' : ''}: ${plural(s.other.length, 'change')}`,
      body: `\`\`\`\n${s.other.join('\n')}\n\`\`\``,
    });
  }
  for (const m of r.manifests) {
    const rest = m.changes.filter((c) => !c.security);
    if (rest.length === 0) continue;
    entries.push({
      environment: m.environment,
      unit: m.unit,
      title: `${m.unit}: ${plural(rest.length, 'object change')}`,
      body: `\`\`\`diff\n${rest.map((c) => (c.patch ? `~ ${c.subject}\n${patchBody(c.patch)}` : `${c.kind === 'added' ? '+' : '-'} ${c.subject}`)).join('\n')}\n\`\`\``,
    });
  }
  const groups = grouped(entries, app, (e) => `${e.title}|${e.body}`);
  const unchanged = r.stacks.filter((s) => s.status === 'unchanged').length;
  return [
    {
      priority: 7,
      heading: '### 4. Everything else\n\n',
      items: groups.map((g) => {
        const envs = g.environments.length > 1 ? ` (${where(g.environments)})` : '';
        return bounded(`<details><summary>${textOf(g, app, g.item.title)}${envs}</summary>\n\n${textOf(g, app, g.item.body)}\n</details>`);
      }),
      joiner: '\n',
      noun: 'collapsed stack and manifest details',
      footer: `\n${plural(unchanged, 'stack')} unchanged. Filtered out: ${plural(r.noise, 'change')} that deploy nothing (CDK metadata, asset hashes).\n`,
    },
  ];
}

/**
 * The comment as Markdown. With `maxChars`, every section stays with a bounded head of its
 * entries and the count of what was left out, room given by importance; without it, the full report.
 */
export function renderComment(
  r: Review,
  options: { readonly acknowledgement?: Acknowledgement; readonly labels?: ReviewLabels; readonly maxChars?: number } = {},
): string {
  const app = r.head.app;
  environmentOrder = [...r.head.environments, ...r.base.environments.filter((e) => !r.head.environments.includes(e))];
  const ack = options.acknowledgement ?? { acknowledged: false };
  const top = summary(r, options.labels ?? {});
  const bounded = boundedTo(options.maxChars);
  const parts = [statePart(r, app, ack), ...securityParts(r, app, bounded), ...costParts(r), ...otherParts(r, app, bounded)];
  const all = parts.map((p) => p.items.length);
  const limit = options.maxChars;
  const note = (shown: readonly number[]) => {
    const cut = parts.map((p, i) => ({ p, left: p.items.length - shown[i] })).filter((x) => x.left > 0);
    if (cut.length === 0) return '';
    return `\n---\n✂ **Shortened to fit GitHub's comment limit**: ${cut.map((x) => `${x.left} ${x.p.noun}`).join(', ')} left out. Every section is here with the head of its entries; the full report is the \`${FULL_REPORT_ARTIFACT}\` artifact and the job summary of this workflow run (or \`npm run review -- BASE HEAD --full report.md\` locally).\n`;
  };
  const render = (shown: readonly number[]) => `${top}\n${parts.map((p, i) => renderPart(p, shown[i])).join('\n')}${note(shown)}`;
  if (limit === undefined) return render(all);
  const full = render(all);
  if (full.length <= limit) return full;
  // Room for the summary and the closing note first; the parts share the rest.
  const shown = entriesThatFit(parts, limit - top.length - 1 - 700);
  return render(shown);
}

/** Rows of data at risk, for tests and the publisher. */
export function blockingRows(r: Review): readonly StateChange[] {
  return r.state.filter((s) => s.severity === 'block');
}
