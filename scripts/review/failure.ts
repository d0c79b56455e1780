/*
 * The comment when there is no review to show: a synth or the review itself failed. It replaces
 * the previous review (same marker), which would otherwise stay in place and be false, and says
 * what failed, the end of its output and the next thing to run.
 */
import { GATE_END, GATE_START, REVIEW_MARKER } from './comment';

/** What failed, as the workflow knows it. */
export interface Failure {
  /** e.g. `synth of the head commit`. */
  readonly stage: string;
  /** The failing step's output (its end is shown). @default - none */
  readonly log?: string;
  /** The command that reproduces it locally. */
  readonly next: string;
  /** Link to the workflow run. @default - not linked */
  readonly runUrl?: string;
  /** The head commit. @default - not named */
  readonly head?: string;
}

/** Lines of the log shown at most, and characters. */
const LOG_LINES = 40;
const LOG_CHARS = 6_000;
// Colour codes and GitHub's own workflow commands would garble the comment.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');

/** The last lines of a log, without colour codes and with code fences defused. */
export function logTail(log: string): string {
  const lines = log.replace(ANSI, '').replace(/```/g, "'''").trimEnd().split('\n');
  const tail = lines.slice(-LOG_LINES).join('\n');
  return tail.length > LOG_CHARS ? `…${tail.slice(-LOG_CHARS)}` : tail;
}

/** The failure comment, with the review's marker so it replaces the previous review. */
export function failureComment(failure: Failure): string {
  const log = failure.log?.trim() ? `\n\nThe end of its output:\n\n\`\`\`\n${logTail(failure.log)}\n\`\`\`` : '';
  const run = failure.runUrl ? ` ([workflow run](${failure.runUrl}))` : '';
  return `${REVIEW_MARKER}
## What this pull request does to each environment

⛔ **No review: the ${failure.stage} failed**${failure.head ? ` for \`${failure.head}\`` : ''}${run}. Nothing below is a review of this pull request; an earlier review of it, if any, no longer applies.${log}

Next: \`${failure.next}\`, fix what it reports, and push again.

${GATE_START}
⛔ **The check fails** until a review of this head exists.
${GATE_END}
`;
}
