#!/usr/bin/env node
/*
 * `npm run review -- <base-synth-dir> <head-synth-dir>`: the pull-request comment on stdout.
 * Both directories are written by `npm run synth -- --out DIR` on the base and head commits.
 * `npm run review -- --failed <stage> --next <command> [--log FILE]`: the comment that replaces
 * the review when a synth or the review failed.
 * Exit codes: 0 the comment is printed and nothing blocks; 3 the comment is printed and it has a ⛔
 * finding without `--acknowledged` (the gate); 2 a usage error or an incomplete synth output (one
 * line); 1 the review itself failed (one line).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AssemblyError, assemblyHash } from './assembly-hash';
import { MAX_COMMENT_CHARS, type ReviewLabels, renderComment } from './comment';
import { failureComment } from './failure';
import { embedResult } from './publish';
import { review } from './review';
import { ReviewUsageError, readSynthOutput } from './synth-output';

const USAGE = `usage: npm run review -- <base-synth-dir> <head-synth-dir> [--full FILE] [--result FILE] [--acknowledged]
                        [--base-ref REF] [--head-ref REF] [--pr N] [--max-chars N]
       npm run review -- --failed <stage> --next <command> [--log FILE] [--head-ref REF] [--pr N] [--run-url URL]

  Prints the pull-request review comment (at most ${MAX_COMMENT_CHARS} characters, every section kept) for
  two outputs of \`npm run synth -- --out DIR\`; an incomplete output is refused, not compared.
  --full FILE      also write the whole report, nothing left out
  --result FILE    also write {"gated", "exitCode", "headRef", "assemblyHash"} as JSON (for the workflow)
  --acknowledged   the ⛔ findings are acknowledged (the workflow's publisher decides this by the
                   acknowledge-state-change label given for the head commit)
  --base-ref REF, --head-ref REF   the commits, as the comment names them
  --max-chars N    the size bound (default ${MAX_COMMENT_CHARS})
  --pr N           the pull request: with a 40-hex --head-ref, the comment carries the result the
                   publisher (npm run review:publish) and the gate read
  --failed STAGE   print the comment that says the review could not be made (with --next, the
                   command to run next, and --log, the failing step's output)
Exit codes: 0 ok; 3 a ⛔ finding without --acknowledged (comment still printed); 2 usage or an
incomplete synth output; 1 the review failed.`;

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const OPTIONS = {
  full: { type: 'string' },
  result: { type: 'string' },
  acknowledged: { type: 'boolean' },
  'max-chars': { type: 'string' },
  'base-ref': { type: 'string' },
  'head-ref': { type: 'string' },
  failed: { type: 'string' },
  next: { type: 'string' },
  log: { type: 'string' },
  'run-url': { type: 'string' },
  pr: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function runReview(argv: readonly string[], io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): number {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.err(`${(error as Error).message.split('\n')[0]} (see npm run review -- --help)\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const pr = values.pr === undefined ? undefined : Number(values.pr);
  if (pr !== undefined && (!Number.isInteger(pr) || pr < 1 || !/^[0-9a-f]{40}$/.test(values['head-ref'] ?? ''))) {
    io.err('--pr needs a pull request number and --head-ref the 40-hex head commit (see npm run review -- --help)\n');
    return 2;
  }
  /** The comment with its result for the publisher, when the pull request and head are given. */
  const withResult = (body: string, status: 'reviewed' | 'failed', gated: boolean) =>
    pr === undefined ? body : embedResult(body, { pr, head: values['head-ref'] as string, status, gated });
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (values.failed !== undefined) {
    if (!values.next || positionals.length > 0) {
      io.err('--failed needs --next <command> and no synth directories (see npm run review -- --help)\n');
      return 2;
    }
    const log = values.log && existsSync(values.log) ? readFileSync(values.log, 'utf8') : undefined;
    io.out(withResult(failureComment({ stage: values.failed, next: values.next, log, runUrl: values['run-url'], head: values['head-ref'] }), 'failed', true));
    return 0;
  }
  if (positionals.length !== 2) {
    io.err(`expected <base-synth-dir> <head-synth-dir>, got ${positionals.length} argument(s) (see npm run review -- --help)\n`);
    return 2;
  }
  const maxChars = values['max-chars'] === undefined ? MAX_COMMENT_CHARS : Number(values['max-chars']);
  if (!Number.isInteger(maxChars) || maxChars < 4000) {
    io.err(`--max-chars "${values['max-chars']}" must be a whole number of at least 4000\n`);
    return 2;
  }
  try {
    const base = readSynthOutput(positionals[0], 'base');
    const head = readSynthOutput(positionals[1], 'head');
    const result = review(base, head);
    const labels: ReviewLabels = { base: values['base-ref'], head: values['head-ref'], assemblyHash: assemblyHash(join(positionals[1], 'cdk.out')) };
    const acknowledgement = { acknowledged: values.acknowledged === true };
    const exitCode = result.gated && !acknowledgement.acknowledged ? 3 : 0;
    if (values.full) writeFileSync(values.full, renderComment(result, { acknowledgement, labels }));
    if (values.result)
      writeFileSync(
        values.result,
        `${JSON.stringify({ gated: result.gated, exitCode, headRef: values['head-ref'] ?? null, assemblyHash: labels.assemblyHash }, null, 1)}\n`,
      );
    io.out(withResult(renderComment(result, { acknowledgement, labels, maxChars }), 'reviewed', result.gated));
    return exitCode;
  } catch (error) {
    if (error instanceof ReviewUsageError || error instanceof AssemblyError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    io.err(
      `review failed: ${(error as Error).message ?? String(error)} (run \`npm run review -- ${positionals.join(' ')}\` locally to see it; please report it with both synth outputs)\n`,
    );
    return 1;
  }
}

if (require.main === module) process.exitCode = runReview(process.argv.slice(2));
