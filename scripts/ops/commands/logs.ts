import type { FilterLogEventsCommandInput } from '@aws-sdk/client-cloudwatch-logs';

/*
 * `ops logs --env E [--since 15m] [--follow] [--grep TEXT]`: the environment's CloudWatch log
 * groups (containers and system, lib/names.ts) read with FilterLogEvents. Options and help live
 * here, beside the pure builders; the paging loop is scripts/ops/aws/logs.ts.
 */

export const LOGS_HELP = `usage: ops logs --env <name> [--since <15m|2h|1d>] [--follow] [--grep <text>]

Prints the environment's container and system logs (CloudWatch log groups /<app>/<env>/containers
and /<app>/<env>/system), oldest first, one line per event: time, group, stream, message.
Progress (pages, events) goes to stderr, so the output can be piped.

options:
  --since <N>[smhd]  how far back to start (default 15m)
  --follow           keep polling for new events every 5 s (stop with Ctrl-C)
  --grep <text>      only events containing this text (a CloudWatch filter pattern term)`;

export interface LogsArgs {
  /** Milliseconds back from now. @default 900000 (15 minutes) */
  readonly sinceMs: number;
  /** @default false */
  readonly follow: boolean;
  /** @default - every event */
  readonly grep?: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `15m` → 900000; throws the usage problem otherwise. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text);
  if (!match || Number(match[1]) === 0) throw new Error(`--since "${text}" is not a duration such as 30s, 15m, 2h or 1d`);
  return Number(match[1]) * UNIT_MS[match[2]];
}

/** Parses logs' own options out of `rest`; returns the others untouched. */
export function parseLogsArgs(rest: readonly string[]): { logs: LogsArgs; rest: string[] } {
  if (rest.includes('--help') || rest.includes('-h')) throw new Error(LOGS_HELP);
  const others: string[] = [];
  let sinceMs = 15 * 60_000;
  let follow = false;
  let grep: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--since' || arg === '--grep') {
      const value = rest[++i];
      if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`);
      if (arg === '--since') sinceMs = parseDuration(value);
      else grep = value;
    } else if (arg === '--follow') follow = true;
    else others.push(arg);
  }
  return { logs: { sinceMs, follow, ...(grep === undefined ? {} : { grep }) }, rest: others };
}

/** A FilterLogEvents term matching `text` literally (quoted; inner quotes escaped). */
export function literalFilterPattern(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The FilterLogEvents input for one group from `startTime` (ms since the epoch). */
export function filterInput(logGroupName: string, startTime: number, grep?: string): FilterLogEventsCommandInput {
  return { logGroupName, startTime, ...(grep === undefined ? {} : { filterPattern: literalFilterPattern(grep) }) };
}

/** One printed line per event. */
export function formatEvent(group: string, event: { timestamp?: number; logStreamName?: string; message?: string }): string {
  const time = new Date(event.timestamp ?? 0).toISOString();
  return `${time} ${group} ${event.logStreamName ?? '-'} ${(event.message ?? '').trimEnd()}`;
}
