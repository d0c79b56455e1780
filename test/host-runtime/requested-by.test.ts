import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentsOf } from '../../lib/config';
import type { HostDocumentSpec } from '../../lib/host-runtime/document-spec';
import { hostDocumentSpecs, REQUESTED_BY_PATTERN } from '../../lib/host-runtime/documents';
import { shippedConfig } from '../helpers/config-fixtures';
import { renderedDocument } from '../helpers/documents';

/*
 * `requestedBy` is typed by whoever runs ops (or a workflow's actor) and SSM substitutes it, as
 * text, into `DEPLOY_ACTOR='{{ requestedBy }}'`. Its allowedPattern is the only thing between that
 * text and the host's root shell: a `'` would close the quoting. Shown two ways: the pattern
 * refuses every shell-significant character, and the documents rendered with the worst value the
 * pattern accepts run for real (bash), the value arriving as one word, nothing else executed.
 */

const pattern = new RegExp(REQUESTED_BY_PATTERN);
const config = shippedConfig();
const prod = environmentsOf(config).find((e) => e.name === 'prod')!;
const specs = hostDocumentSpecs(config.app, prod, { backupBucketName: 'auraxis-prod-backups' });
const withRequestedBy = specs.filter((s) => 'requestedBy' in s.parameters);

/** Every printable ASCII character, tab and newline. */
const CHARACTERS = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), '\t', '\n', '\r'];

/** Characters a POSIX shell treats specially somewhere (quoting, expansion, control, globbing, words). */
const SHELL_SIGNIFICANT = ["'", '"', '`', '$', '\\', ';', '&', '|', '<', '>', '(', ')', '{', '}', '[', ']', '*', '?', '!', '#', '~', ' ', '\t', '\n', '\r'];

test('the documents that record an actor all take requestedBy with the shared pattern', () => {
  expect(withRequestedBy.map((s) => s.operation).sort()).toEqual(['deploy', 'restore', 'rollback', 'secrets']);
  for (const s of withRequestedBy) expect(s.parameters.requestedBy.allowedPattern).toBe(REQUESTED_BY_PATTERN);
});

test.each(SHELL_SIGNIFICANT.map((c) => [JSON.stringify(c), c]))('the pattern refuses %s anywhere in the value', (_, c) => {
  expect(pattern.test(`ana${c}x`)).toBe(false);
  expect(pattern.test(`${c}ana`)).toBe(false);
  expect(pattern.test(`ana${c}`)).toBe(false);
});

/**
 * The nastiest value the pattern lets through: one of every character it accepts after the first
 * position, padded to the longest length it accepts. Derived from the pattern, so widening it
 * (a `'` added to the class) changes this value and the shell runs below.
 */
function worstAccepted(): string {
  const accepted = CHARACTERS.filter((c) => pattern.test(`A${c}`));
  let value = `A${accepted.join('')}`;
  while (pattern.test(`${value}z`)) value += 'z';
  expect(pattern.test(value)).toBe(true);
  return value;
}

/**
 * Runs the lines of a document that come after the scripts are installed (its invoke lines), as
 * SSM would after substituting `values`, with `$dir` holding stand-ins for the operation's scripts
 * that record DEPLOY_ACTOR and their arguments. Returns what they recorded and the files created.
 */
function runInvoke(spec: HostDocumentSpec, values: Record<string, string>) {
  const lines = renderedDocument(spec, values).split('\n');
  const installed = lines.findIndex((l) => l.includes('does not match its checksum'));
  expect(installed).toBeGreaterThan(0);
  const dir = mkdtempSync(join(tmpdir(), 'requested-by-'));
  const script = `${spec.operation === 'restore-drill' ? 'restore-drill' : spec.operation}.sh`;
  writeFileSync(join(dir, script), `printf '%s' "$DEPLOY_ACTOR" > "$(dirname "$0")/actor"\nprintf '%s\\n' "$@" > "$(dirname "$0")/args"\n`);
  chmodSync(join(dir, script), 0o755);
  const result = spawnSync('/bin/bash', ['-c', ['set -eu', `dir='${dir}'`, ...lines.slice(installed + 1)].join('\n')], { encoding: 'utf8', cwd: dir });
  return {
    status: result.status,
    actor: existsSync(join(dir, 'actor')) ? readFileSync(join(dir, 'actor'), 'utf8') : undefined,
    files: readdirSync(dir).sort(),
  };
}

test.each(withRequestedBy.map((s) => [s.operation, s]))('%s: the worst accepted requestedBy reaches the script as one word, nothing else runs', (_, spec) => {
  const worst = worstAccepted();
  const values: Record<string, string> = { requestedBy: worst, backup: 'latest', confirm: 'prod' };
  const result = runInvoke(spec as HostDocumentSpec, values);
  expect(result.status).toBe(0);
  expect(result.actor).toBe(worst);
  expect(result.files).toEqual([`${(spec as HostDocumentSpec).operation}.sh`, 'actor', 'args'].sort());
});

test('positive control: a value with a quote (refused by the pattern) would break out of the quoting', () => {
  const breakout = 'ana\'; touch "$dir/injected"; : \'';
  expect(pattern.test(breakout)).toBe(false);
  const rollback = withRequestedBy.find((s) => s.operation === 'rollback')!;
  const result = runInvoke(rollback, { requestedBy: breakout });
  expect(result.files).toContain('injected');
  expect(result.actor).not.toBe(breakout);
});
