import { existsSync, readFileSync } from 'node:fs';
import { HOST_OUTCOMES, type OutcomeOperation } from '../../lib/host-runtime/outcomes';
import type { ScriptResult } from './host-scripts';

/**
 * Asserts that a run ended as one of the documented outcomes of `operation`
 * (lib/host-runtime/outcomes.ts, the tables of docs/host-runtime.md): it exited `code`, a code of a
 * row, and its last audit line (its own `pid=`, the operation's `op=`; in the log, or on its stderr
 * when the log could not be written) carries one of that row's results (`none`: it wrote no line). Called with a literal operation and code:
 * test/host/outcomes.test.ts reads those calls to check that every row is exercised.
 */
export function expectOutcome(operation: OutcomeOperation, code: number, result: ScriptResult, auditLog: string): void {
  const { auditOp, rows } = HOST_OUTCOMES[operation];
  const row = rows.find((r) => (r.codes as readonly number[]).includes(code));
  if (!row) throw new Error(`${operation}: exit ${code} is not a documented outcome (lib/host-runtime/outcomes.ts)`);
  expect({ operation, code: result.code }).toEqual({ operation, code });
  // An audit line the script could not append (state directory full) is printed on its stderr instead.
  const unwritten = [...result.stderr.matchAll(/could not append to the audit log .*; the line was: (.*)$/gm)].map((m) => m[1]);
  const lines = [...(existsSync(auditLog) ? readFileSync(auditLog, 'utf8').trim().split('\n') : []), ...unwritten];
  const own = lines.filter((line) => line.includes(` op=${auditOp} `) && line.includes(` pid=${result.pid} `));
  const audited = /result=(\S+)/.exec(own.at(-1) ?? '')?.[1] ?? 'none';
  expect({ operation, code, audited, documented: (row.audit as readonly string[]).includes(audited) }).toEqual({ operation, code, audited, documented: true });
}
