import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_OUTCOMES, type OutcomeOperation, outcomeTable } from '../../lib/host-runtime/outcomes';
import { hostScriptsDir } from '../helpers/host-scripts';
import { projectRoot } from '../helpers/paths';

/*
 * One definition of how each host operation ends (lib/host-runtime/outcomes.ts): docs/host-runtime.md
 * shows exactly its tables, each script's header names its codes, and every row is exercised by a
 * host test that runs the real script and asserts the code and the audit line
 * (expectOutcome, test/helpers/outcomes.ts).
 */

const operations = Object.keys(HOST_OUTCOMES) as OutcomeOperation[];
const doc = readFileSync(join(projectRoot, 'docs/host-runtime.md'), 'utf8');

test.each(operations)('docs/host-runtime.md shows the outcomes of %s as defined', (operation) => {
  const block = new RegExp(`<!-- outcomes:${operation} -->\\n([\\s\\S]*?)\\n<!-- /outcomes:${operation} -->`).exec(doc);
  if (!block) throw new Error(`docs/host-runtime.md has no <!-- outcomes:${operation} --> block; put this there:\n${outcomeTable(operation)}`);
  expect(block[1]).toBe(outcomeTable(operation));
});

/** The (operation, code) pairs the host tests assert with expectOutcome, read from their source. */
function exercised(): Set<string> {
  const found = new Set<string>();
  const dir = join(projectRoot, 'test/host');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.ts'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const [, operation, code] of source.matchAll(/expectOutcome\(\s*'([^']+)',\s*(\d+)\s*,/g)) found.add(`${operation}|${code}`);
  }
  return found;
}

test.each(operations)('every documented outcome of %s is exercised by a host test that runs the script', (operation) => {
  const seen = exercised();
  const missing = HOST_OUTCOMES[operation].rows.filter((row) => !row.codes.some((code) => seen.has(`${operation}|${code}`))).map((row) => row.codes.join('/'));
  expect({ operation, missing }).toEqual({ operation, missing: [] });
});

test('the host tests assert only documented outcomes (a code outside the table fails expectOutcome itself; here: operation names)', () => {
  for (const pair of exercised()) expect(operations).toContain(pair.split('|')[0]);
});

/** Each script's leading comment block: where it documents its exit codes for a reader of the file. */
const header = (script: string) => {
  const lines = readFileSync(join(hostScriptsDir, script), 'utf8').split('\n');
  const end = lines.findIndex((line, i) => i > 0 && !line.startsWith('#'));
  return lines.slice(0, end).join('\n');
};

test.each(operations)("the header of %s's script names each of its exit codes", (operation) => {
  const script = HOST_OUTCOMES[operation].run.split(' ')[0];
  const text = header(script);
  const unnamed = HOST_OUTCOMES[operation].rows.flatMap((row) => row.codes).filter((code) => !new RegExp(`(^|[^0-9])${code}([^0-9]|$)`).test(text));
  expect({ script, unnamed }).toEqual({ script, unnamed: [] });
});
