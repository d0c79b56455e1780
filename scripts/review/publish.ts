/*
 * Publishing the review on the pull request, apart from making it: the review job runs the pull
 * request's code with a read-only token and leaves the comment as an artifact; a job of its own
 * (`workflow_run`, the default branch's code, a write token, never the pull request's code) posts
 * it as the one sticky comment and sets the gate status. The gate is a commit status of the head
 * commit: it passes when nothing is ⛔, or when the acknowledge-state-change label was added for
 * that very commit (recorded as a status of its own on that commit, so a new push needs a new
 * acknowledgement).
 */
import { ACKNOWLEDGE_LABEL, type Acknowledgement, GATE_END, GATE_START, gateParagraph, REVIEW_MARKER } from './comment';

/** The commit status that is the review's gate: a required check (docs/first-deploy.md). */
export const GATE_CONTEXT = 'gitops-stack/review-gate';
/** The commit status recording that the label was added (or removed) for that commit. */
export const ACKNOWLEDGEMENT_CONTEXT = 'gitops-stack/acknowledgement';
/** The author of the sticky comment: the workflow's token. A comment by anyone else is never edited. */
export const COMMENT_AUTHOR = 'github-actions[bot]';

const RESULT_PREFIX = '<!-- gitops-stack:result ';
const RESULT_SUFFIX = ' -->';

/** What the review job found, carried in the comment (hidden) and in its artifact. */
export interface ReviewResult {
  readonly pr: number;
  /** The head commit the review is of. */
  readonly head: string;
  /** `failed`: no review (a synth or the review failed); the gate fails. */
  readonly status: 'reviewed' | 'failed';
  /** A ⛔ finding needs the acknowledgement. */
  readonly gated: boolean;
}

/** The comment with the result hidden on its second line (after the marker). */
export function embedResult(body: string, result: ReviewResult): string {
  const line = `${RESULT_PREFIX}${JSON.stringify(result)}${RESULT_SUFFIX}`;
  return body.startsWith(REVIEW_MARKER) ? `${REVIEW_MARKER}\n${line}${body.slice(REVIEW_MARKER.length)}` : `${REVIEW_MARKER}\n${line}\n${body}`;
}

/** The result hidden in a comment, if it holds a well-formed one. */
export function resultOf(body: string): ReviewResult | undefined {
  const start = body.indexOf(RESULT_PREFIX);
  if (start < 0) return undefined;
  const end = body.indexOf(RESULT_SUFFIX, start + RESULT_PREFIX.length);
  try {
    const value = JSON.parse(body.slice(start + RESULT_PREFIX.length, end)) as ReviewResult;
    const ok =
      Number.isInteger(value.pr) &&
      /^[0-9a-f]{40}$/.test(value.head) &&
      (value.status === 'reviewed' || value.status === 'failed') &&
      typeof value.gated === 'boolean';
    return ok ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The comment with its gate paragraph stating this acknowledgement. */
export function withAcknowledgement(body: string, result: ReviewResult, ack: Acknowledgement): string {
  const start = body.indexOf(GATE_START);
  const end = body.indexOf(GATE_END, start);
  if (start < 0 || end < 0 || result.status === 'failed') return body;
  return `${body.slice(0, start)}${gateParagraph(result.gated, ack).trimEnd()}${body.slice(end + GATE_END.length)}`;
}

export interface CommitStatus {
  readonly context: string;
  readonly state: 'success' | 'failure' | 'pending' | 'error';
  readonly description?: string | null;
}

/**
 * The acknowledgement of a head commit: the label on the pull request and, on that commit, the
 * newest acknowledgement status a success. The label alone (added for an earlier commit) is not one.
 */
export function acknowledgementOf(labels: readonly string[], statuses: readonly CommitStatus[]): Acknowledgement {
  const labelled = labels.includes(ACKNOWLEDGE_LABEL);
  // GitHub lists a commit's statuses newest first.
  const latest = statuses.find((s) => s.context === ACKNOWLEDGEMENT_CONTEXT);
  if (labelled && latest?.state === 'success') return { acknowledged: true, by: /@([\w-]+(?:\[bot\])?)/.exec(latest.description ?? '')?.[1] };
  if (labelled) return { acknowledged: false, staleFor: 'an earlier commit' };
  return { acknowledged: false };
}

/** The gate status of a head commit. */
export function gateStatus(result: ReviewResult, ack: Acknowledgement): { readonly state: 'success' | 'failure'; readonly description: string } {
  if (result.status === 'failed') return { state: 'failure', description: 'No review: a synth or the review failed (see the comment)' };
  if (!result.gated) return { state: 'success', description: 'Nothing destroys data or opens access without a judgment' };
  if (ack.acknowledged) return { state: 'success', description: `⛔ findings acknowledged${ack.by ? ` by @${ack.by}` : ''} for this commit` };
  return { state: 'failure', description: `⛔ findings: add the ${ACKNOWLEDGE_LABEL} label for this commit to acknowledge` };
}

/** The sticky comment: the first by the workflow's token that starts with the review marker. */
export function findReviewComment(
  comments: readonly { readonly id: number; readonly body?: string | null; readonly user?: { readonly login?: string } | null }[],
) {
  return comments.find((c) => c.user?.login === COMMENT_AUTHOR && (c.body ?? '').startsWith(REVIEW_MARKER));
}

/** The part of GitHub's REST API publishing needs (scripts/review/github.ts, or a fake in tests). */
export interface GithubApi {
  pull(pr: number): Promise<{ readonly headSha: string; readonly labels: readonly string[] }>;
  statuses(sha: string): Promise<readonly CommitStatus[]>;
  setStatus(sha: string, context: string, state: 'success' | 'failure', description: string): Promise<void>;
  comments(pr: number): Promise<readonly { readonly id: number; readonly body?: string | null; readonly user?: { readonly login?: string } | null }[]>;
  createComment(pr: number, body: string): Promise<void>;
  updateComment(id: number, body: string): Promise<void>;
}

export interface PublishOutcome {
  /** What happened, one line for the log. */
  readonly line: string;
  readonly gate?: 'success' | 'failure';
}

/**
 * Posts (or updates) the sticky comment of the review of `head` and sets the gate. `head` comes from
 * the trusted event (`workflow_run.head_sha`), never from the artifact: a result for another commit
 * or a pull request whose head moved on is not published.
 */
export async function publishReview(api: GithubApi, head: string, body: string): Promise<PublishOutcome> {
  const result = resultOf(body);
  if (!result) throw new Error('the review artifact has no result line: it was not written by npm run review (refusing to post it)');
  if (result.head !== head) throw new Error(`the review artifact is of commit ${result.head}, not of the workflow run's head ${head} (refusing to post it)`);
  const pull = await api.pull(result.pr);
  if (pull.headSha !== head)
    return { line: `pull request #${result.pr} has moved on to ${pull.headSha}: the review of ${head} is not posted (its own run posts the newer one)` };
  const ack = acknowledgementOf(pull.labels, await api.statuses(head));
  const text = withAcknowledgement(body, result, ack);
  const existing = findReviewComment(await api.comments(result.pr));
  if (existing) await api.updateComment(existing.id, text);
  else await api.createComment(result.pr, text);
  const gate = gateStatus(result, ack);
  await api.setStatus(head, GATE_CONTEXT, gate.state, gate.description);
  return { line: `review of ${head} ${existing ? 'updated in' : 'posted to'} pull request #${result.pr}; gate: ${gate.state}`, gate: gate.state };
}

/**
 * The acknowledge-state-change label added (or removed) by `actor` while the pull request's head is
 * `head`: recorded on that commit, then the comment and gate of that commit's review follow.
 */
export async function acknowledge(api: GithubApi, pr: number, head: string, actor: string, added: boolean): Promise<PublishOutcome> {
  await api.setStatus(head, ACKNOWLEDGEMENT_CONTEXT, added ? 'success' : 'failure', added ? `acknowledged by @${actor}` : `withdrawn by @${actor}`);
  const pull = await api.pull(pr);
  if (pull.headSha !== head) return { line: `pull request #${pr} has moved on to ${pull.headSha}: the acknowledgement applies to ${head} only` };
  const existing = findReviewComment(await api.comments(pr));
  const result = existing ? resultOf(existing.body ?? '') : undefined;
  if (!existing || !result || result.head !== head)
    return { line: `acknowledgement of ${head} recorded; its review is not posted yet (it applies when it is)` };
  const ack = acknowledgementOf(pull.labels, await api.statuses(head));
  await api.updateComment(existing.id, withAcknowledgement(existing.body ?? '', result, ack));
  const gate = gateStatus(result, ack);
  await api.setStatus(head, GATE_CONTEXT, gate.state, gate.description);
  return { line: `acknowledgement of ${head} ${added ? 'recorded' : 'withdrawn'}; gate: ${gate.state}`, gate: gate.state };
}
