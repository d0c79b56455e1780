import type { FilterLogEventsCommandInput } from '@aws-sdk/client-cloudwatch-logs';
import { UsageError } from '../../../lib/cli/command-line';

/*
 * `ops logs --env E [--since 15m] [--follow] [--grep TEXT]`: the environment's CloudWatch log
 * groups (containers, system and host command output, lib/names.ts) read with FilterLogEvents. Its options are an entry
 * of the command table (parse-args.ts); the pure builders live here, the paging loop in aws/logs.ts.
 */

export interface LogsArgs {
  /** Milliseconds back from now. @default 900000 (15 minutes) */
  readonly sinceMs: number;
  /** @default false */
  readonly follow: boolean;
  /** @default - every event */
  readonly grep?: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `15m` → 900000; a usage error naming --since otherwise. */
export function parseDuration(text: string, command = 'ops logs'): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text);
  if (!match || Number(match[1]) === 0) throw new UsageError(`${command}: --since "${text}" is not a duration such as 30s, 15m, 2h or 1d`);
  return Number(match[1]) * UNIT_MS[match[2]];
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
