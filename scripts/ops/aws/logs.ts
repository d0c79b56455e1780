import {
  type CloudWatchLogsClient,
  type FilteredLogEvent,
  type FilterLogEventsCommandInput,
  paginateFilterLogEvents,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { filterInput, formatEvent } from '../commands/logs';

/** What `readLogs` reports on stderr while it pages. */
export type Progress = (message: string) => void;

export interface ReadLogsOptions {
  readonly groups: readonly string[];
  readonly startTime: number;
  readonly grep?: string;
  /** Poll for new events until `stop()` says so. @default false */
  readonly follow?: boolean;
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Checked between polls when following. @default - never stops */
  readonly stop?: () => boolean;
  /** Caps events per group and pass, so a wide window cannot page forever. @default 10000 */
  readonly maxEvents?: number;
}

/**
 * The events of one FilterLogEvents query, a page at a time, following nextToken with the SDK
 * paginator: the one paging loop of `ops logs` and of host command output (./run-command.ts).
 */
export async function* filterEventPages(client: CloudWatchLogsClient, input: FilterLogEventsCommandInput): AsyncGenerator<FilteredLogEvent[]> {
  for await (const page of paginateFilterLogEvents({ client }, input)) yield page.events ?? [];
}

/**
 * Reads every group from `startTime` with FilterLogEvents (the SDK paginator follows nextToken),
 * prints events oldest first through `print`, reports pages on `progress`, and with `follow` polls
 * again from just after the newest event seen. A missing group is reported, not fatal.
 */
export async function readLogs(client: CloudWatchLogsClient, options: ReadLogsOptions, print: (line: string) => void, progress: Progress): Promise<number> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const maxEvents = options.maxEvents ?? 10_000;
  const since = new Map(options.groups.map((g) => [g, options.startTime]));
  const seen = new Set<string>();
  let printed = 0;
  for (;;) {
    const batch: { group: string; event: FilteredLogEvent }[] = [];
    for (const group of options.groups) {
      let pages = 0;
      let count = 0;
      try {
        for await (const events of filterEventPages(client, filterInput(group, since.get(group) as number, options.grep))) {
          pages++;
          for (const event of events) {
            // A poll restarts at the newest timestamp, so events at that millisecond come twice.
            if (event.eventId && seen.has(event.eventId)) continue;
            if (event.eventId) seen.add(event.eventId);
            batch.push({ group, event });
            count++;
          }
          progress(`${group}: page ${pages}, ${count} events`);
          if (count >= maxEvents) {
            progress(`${group}: stopped at ${maxEvents} events; narrow the window with --since or --grep`);
            break;
          }
        }
      } catch (error) {
        if (error instanceof ResourceNotFoundException) {
          progress(`${group}: no such log group (is the data stack deployed in this region?)`);
          continue;
        }
        throw error;
      }
    }
    batch.sort((a, b) => (a.event.timestamp ?? 0) - (b.event.timestamp ?? 0));
    for (const { group, event } of batch) {
      print(formatEvent(group, event));
      printed++;
      since.set(group, Math.max(since.get(group) as number, event.timestamp ?? 0));
    }
    if (!options.follow || options.stop?.()) return printed;
    await sleep(options.pollMs ?? 5000);
    if (options.stop?.()) return printed;
  }
}
