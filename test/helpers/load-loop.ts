import { get } from 'node:http';

/*
 * A bounded request loop on loopback: a few concurrent clients, each a fresh connection per
 * request (no keep-alive, so an nginx reload cannot hand a client a connection it is closing),
 * until `stop()` is called, `maxRequests` were sent or `maxMs` passed, whichever comes first.
 */

export interface LoadResult {
  readonly requests: number;
  readonly failed: number;
  /** The first few failures (status or error), for the test's message. */
  readonly failures: readonly string[];
  /** Ms from the first failed request's answer to the last one's (0 when none or one failed): the outage seen. */
  readonly outageMs: number;
}

export interface LoadLoop {
  /** Stops sending and resolves when every request in flight has answered. */
  stop(): Promise<LoadResult>;
  /** Requests answered so far. */
  count(): number;
  /** Ms from the first to the last failed answer between `from` and `to` (Date.now() values); 0 when fewer than two. */
  outageBetween(from: number, to: number): number;
}

export interface LoadOptions {
  readonly url: string;
  /** @default 4 */
  readonly concurrency?: number;
  /** @default 20000 */
  readonly maxRequests?: number;
  /** @default 120000 */
  readonly maxMs?: number;
  /** Ms between one client's requests. @default 0 */
  readonly pauseMs?: number;
}

function once(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 10000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200 ? undefined : `HTTP ${response.statusCode}`));
      response.on('error', (error) => resolve(error.message));
    });
    request.on('timeout', () => request.destroy(new Error('timed out after 10 s')));
    request.on('error', (error) => resolve(error.message));
  });
}

export function startLoadLoop(options: LoadOptions): LoadLoop {
  const maxRequests = options.maxRequests ?? 20000;
  const deadline = Date.now() + (options.maxMs ?? 120000);
  let stopped = false;
  let sent = 0;
  let answered = 0;
  const failures: string[] = [];
  let failed = 0;
  let firstFailure = 0;
  let lastFailure = 0;
  // Answer times of failures (bounded by maxRequests), for outageBetween.
  const failureTimes: number[] = [];
  const client = async () => {
    while (!stopped && sent < maxRequests && Date.now() < deadline) {
      sent++;
      const failure = await once(options.url);
      answered++;
      if (failure !== undefined) {
        failed++;
        lastFailure = Date.now();
        if (firstFailure === 0) firstFailure = lastFailure;
        failureTimes.push(lastFailure);
        if (failures.length < 5) failures.push(failure);
      }
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };
  const clients = Promise.all(Array.from({ length: options.concurrency ?? 4 }, client));
  return {
    count: () => answered,
    outageBetween(from, to) {
      const inside = failureTimes.filter((t) => t >= from && t <= to);
      return inside.length < 2 ? 0 : inside[inside.length - 1] - inside[0];
    },
    async stop() {
      stopped = true;
      await clients;
      return { requests: answered, failed, failures, outageMs: lastFailure - firstFailure };
    },
  };
}
