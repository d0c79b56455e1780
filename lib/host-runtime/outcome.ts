/**
 * How a host document reports its outcome without `ssm:GetCommandInvocation` (which IAM cannot
 * scope to one instance, docs/aws.md): the document's shell prints, as the very last line of its
 * standard output, `OUTCOME_MARKER <exit code>`, and the ops CLI reads it back from the
 * environment's command log group. Defined once here for the documents, ops and the tests.
 */

/** Starts the last stdout line of every host document; no script prints it itself. */
export const OUTCOME_MARKER = '__ops_host_exit__';

/**
 * Shell lines (POSIX sh, as `aws:runShellScript` runs them) that come first in every document:
 * the EXIT trap prints the marker with the shell's exit status, whatever ended it (`exit N`,
 * `set -e`, the last command), and TERM/INT/HUP (an operator's kill, a shutdown) end the shell
 * through `exit` so the trap still reports 128+signal. SSM's timeout and cancel SIGKILL the step's
 * process group, which cannot be trapped: then no marker comes and ops says so instead of guessing.
 */
export const OUTCOME_PROLOGUE: readonly string[] = [
  `trap 'ops_status=$?; trap - EXIT; printf "\\n%s %s\\n" "${OUTCOME_MARKER}" "$ops_status"' EXIT`,
  "trap 'exit 143' TERM",
  "trap 'exit 130' INT",
  "trap 'exit 129' HUP",
];

/** A document's stdout split into what the script printed and the exit code its marker reported. */
export interface Outcome {
  /** Standard output without the marker line (and the blank line the trap adds before it). */
  readonly output: string;
  /** From the marker; undefined when no marker arrived (still running, or killed without a trap). */
  readonly exitCode?: number;
}

const MARKER_LINE = new RegExp(`(^|\\n)${OUTCOME_MARKER} (\\d{1,3})\\n*$`);

/** Reads the marker off the end of `stdout`: only a marker on the last line counts. */
export function parseOutcome(stdout: string): Outcome {
  const match = MARKER_LINE.exec(stdout);
  if (!match) return { output: stdout };
  // What precedes the trap's own newline is the script's output; lines come back newline-ended
  // (CloudWatch Logs keeps lines, not the newline after the last one).
  const output = stdout.slice(0, match.index);
  return { output: output === '' || output.endsWith('\n') ? output : `${output}\n`, exitCode: Number(match[2]) };
}
