#!/usr/bin/env node
/*
 * `npm run review -- <base-synth-dir> <head-synth-dir>`: the pull-request comment on stdout.
 * Both directories are written by `npm run synth -- --out DIR` on the base and head commits.
 * Exit codes: 0 the comment is printed and nothing blocks; 3 the comment is printed and the change
 * replaces or deletes state without `--acknowledged` (the gate); 2 a usage error (one line).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MAX_COMMENT_CHARS, renderComment, review } from './comment';
import { ReviewUsageError, readSynthOutput } from './synth-output';

const USAGE = `usage: npm run review -- <base-synth-dir> <head-synth-dir> [--full FILE] [--acknowledged] [--max-chars N]

  Prints the pull-request review comment (at most ${MAX_COMMENT_CHARS} characters) for two outputs of
  \`npm run synth -- --out DIR\`.
  --full FILE      also write the whole report, nothing cut
  --acknowledged   the pull request acknowledges replacing or deleting state (the workflow passes it
                   when the pull request has the acknowledge-state-change label)
  --max-chars N    the size bound (default ${MAX_COMMENT_CHARS})
Exit codes: 0 ok; 3 state replaced or deleted without --acknowledged (comment still printed); 2 usage.`;

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export function runReview(argv: readonly string[], io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): number {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: [...argv],
      options: { full: { type: 'string' }, acknowledged: { type: 'boolean' }, 'max-chars': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  try {
    parsed = parse();
  } catch (error) {
    io.err(`${(error as Error).message.split('\n')[0]} (see npm run review -- --help)\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 2) {
    io.err(`expected <base-synth-dir> <head-synth-dir>, got ${positionals.length} argument(s) (see npm run review -- --help)\n`);
    return 2;
  }
  const maxChars = values['max-chars'] === undefined ? MAX_COMMENT_CHARS : Number(values['max-chars']);
  if (!Number.isInteger(maxChars) || maxChars < 2000) {
    io.err(`--max-chars "${values['max-chars']}" must be a whole number of at least 2000\n`);
    return 2;
  }
  try {
    const base = readSynthOutput(positionals[0], 'base');
    const head = readSynthOutput(positionals[1], 'head');
    const result = review(base, head);
    const acknowledged = values.acknowledged === true;
    if (values.full) writeFileSync(values.full, renderComment(result, { acknowledged }));
    io.out(renderComment(result, { acknowledged, maxChars }));
    return result.gated && !acknowledged ? 3 : 0;
  } catch (error) {
    if (error instanceof ReviewUsageError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) process.exitCode = runReview(process.argv.slice(2));
