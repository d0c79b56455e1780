#!/usr/bin/env node
/*
 * `npm run review:cost -- [synth-dir]`: the monthly cost estimate of a synth output as Markdown.
 * A thin command line over lib/cost/estimate.ts (the estimate the review comment and synth's budget
 * check also use).
 */
import { parseArgs } from 'node:util';
import { estimateMonthlyCost, formatMarkdown, PRICES_HEADING } from '../../lib/cost/estimate';
import { ReviewUsageError, readSynthOutput } from './synth-output';

export function main(argv: readonly string[]): number {
  const usage =
    'usage: npm run review:cost -- [synth-dir]   (a directory written by `npm run synth -- --out DIR`; default: the repository, after `npm run synth`)';
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}. ${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(usage);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    console.error(`expected at most one synth directory, got ${parsed.positionals.length}. ${usage}`);
    return 2;
  }
  try {
    const estimate = estimateMonthlyCost(readSynthOutput(parsed.positionals[0] ?? '.', 'synth'));
    console.log(`### Estimated monthly cost (${PRICES_HEADING})\n`);
    console.log(formatMarkdown(estimate));
    return 0;
  } catch (error) {
    if (error instanceof ReviewUsageError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
