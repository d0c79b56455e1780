import { runReview } from '../../scripts/review/cli';
import { sharedSynthDir } from '../helpers/synth';
import type { Scenario } from './scenario';

/** The review command as the workflow runs it, its output captured. */
export function run(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runReview(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** The review of the shipped output (base) against a scenario (head). */
export const reviewOf = (s: Scenario, ...flags: string[]) => run([sharedSynthDir, s.dir, ...flags]);

/** The text of section `n` (1 data at risk, 2 security, 3 cost, 4 everything else). */
export function section(comment: string, n: 1 | 2 | 3 | 4): string {
  const start = comment.indexOf(`### ${n}. `);
  const end = n === 4 ? comment.length : comment.indexOf(`### ${n + 1}. `);
  if (start < 0 || end < 0) throw new Error(`section ${n} is missing from the comment:\n${comment.slice(0, 2000)}`);
  return comment.slice(start, end);
}

/** The rows of a Markdown table in `text` whose cells match, as arrays of cells. */
export function rows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---'))
    .map((l) =>
      l
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((c) => c.trim()),
    );
}

export const PROD_HOST = 'auraxis-prod-host';
export const PROD_DATA = 'auraxis-prod-data';
