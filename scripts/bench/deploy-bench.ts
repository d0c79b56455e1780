#!/usr/bin/env node
/*
 * `npm run bench:deploy [-- --in-place]`: real deploys of a small real app (busybox httpd, built
 * and run by podman-compose) behind Debian's nginx on this machine, while a bounded request loop
 * (loopback only; at most MAX_REQUESTS requests and MAX_MS per run) sends requests through nginx.
 *
 * Two runs, each printing one result line:
 *   good release:    deploy v2 beside v1, then `rollback.sh` back to v1, both under the loop;
 *                    switch = nginx's switch of the deploy, rollback = nginx's switch of the rollback
 *   failing release: deploy a release whose smoke fails through nginx after the switch;
 *                    switch = nginx's switch to it, rollback = nginx's switch back to the old colour
 * The times are the audit log's switchMs / switchBackMs (upstream file written, `nginx -t`,
 * reload, new workers running). The last line is the failing release's. Exit 1 when a blue/green
 * run failed a request, sent fewer than MIN_REQUESTS, or a script exited other than expected.
 *
 * --in-place: the same two runs on the old path (BLUE_GREEN=false: Compose recreates the release
 * on the port nginx serves). There the switch and rollback times are the outage the loop saw: from
 * the first failed request to the last one during the deploy, resp. the rollback (0 when none
 * failed; for the failing release both are its deploy's). It reports, and exits 0 whatever
 * failed: it is the baseline the README compares with.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseCommandLine, runMain } from '../../lib/cli/command-line';
import { type BlueGreenHost, setUpBlueGreenHost } from '../../test/helpers/blue-green-host';
import type { ScriptResult } from '../../test/helpers/host-scripts';
import { type LoadResult, startLoadLoop } from '../../test/helpers/load-loop';

const MIN_REQUESTS = 2000;
const MAX_REQUESTS = 100000;
const MAX_MS = 600000;

interface RunResult {
  readonly label: string;
  readonly load: LoadResult;
  readonly switchMs: number;
  readonly rollbackMs: number;
  readonly problems: readonly string[];
}

const progress = (message: string) => console.log(`[bench:deploy] ${message}`);

/** Resident memory (kB) of a process and its children (busybox httpd forks per request; nginx's workers). */
function treeRssKb(pid: string): number {
  let kb = 0;
  try {
    kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    for (const child of children) kb += treeRssKb(child);
  } catch {
    // the process ended between the listing and the read
  }
  return kb;
}

/** Peak memory seen while releases switch: the app containers of both colours (or the in-place one) and nginx. */
class MemorySampler {
  peakAppKb = 0;
  peakContainers = 0;
  peakNginxKb = 0;
  constructor(private readonly host: BlueGreenHost) {}

  sample(): void {
    let pids: string[] = [];
    try {
      // Container names start with their project's name (<project>[-colour]_web_1).
      const args = ['ps', '--format', '{{.Pid}}', '--filter', `name=^${this.host.project}`];
      pids = execFileSync('podman', args, { env: { ...process.env, CONTAINERS_CONF: this.host.env.CONTAINERS_CONF }, stdio: 'pipe' })
        .toString()
        .split('\n')
        .filter((p) => /^[1-9]\d*$/.test(p));
    } catch {
      return;
    }
    const appKb = pids.reduce((sum, pid) => sum + treeRssKb(pid), 0);
    this.peakAppKb = Math.max(this.peakAppKb, appKb);
    this.peakContainers = Math.max(this.peakContainers, pids.length);
    const master = readFileSync(this.host.env.NGINX_PID_FILE, 'utf8').trim();
    this.peakNginxKb = Math.max(this.peakNginxKb, treeRssKb(master));
  }

  summary(): string {
    const mb = (kb: number) => (kb / 1024).toFixed(1);
    return `peak memory during the runs: ${mb(this.peakAppKb)} MB RSS in the app containers (${this.peakContainers} at once), nginx ${mb(this.peakNginxKb)} MB`;
  }
}

function lastAuditField(host: BlueGreenHost, op: string, field: string): number | undefined {
  const lines = readFileSync(host.auditLog, 'utf8').trim().split('\n');
  const line = lines.reverse().find((l) => l.includes(` op=${op} `) && /result=(ok|failed) /.test(l));
  const value = line && new RegExp(` ${field}=(\\d+)`).exec(line)?.[1];
  return value ? Number(value) : undefined;
}

/** Runs the steps under one bounded load loop; keeps the loop going until MIN_REQUESTS answered. */
/** Outage windows the loop saw, by step, for the in-place path. */
type Outage = (from: number, to: number) => number;

async function underLoad(host: BlueGreenHost, steps: (outage: Outage) => Promise<void>): Promise<LoadResult> {
  const started = Date.now();
  const loop = startLoadLoop({ url: `${host.nginx.url}/healthz`, concurrency: 4, maxRequests: MAX_REQUESTS, maxMs: MAX_MS, pauseMs: 5 });
  const ticker = setInterval(() => progress(`  ${loop.count()} requests answered so far`), 10000);
  const sampler = setInterval(() => memory?.sample(), 2000);
  try {
    await steps((from, to) => loop.outageBetween(from, to));
    while (loop.count() < MIN_REQUESTS && Date.now() - started < MAX_MS) await new Promise((r) => setTimeout(r, 200));
  } finally {
    clearInterval(ticker);
    clearInterval(sampler);
  }
  return loop.stop();
}

function expectCode(result: ScriptResult, code: number, what: string, problems: string[]): void {
  if (result.code === code) return;
  problems.push(`${what} exited ${result.code}, expected ${code}`);
  console.error(result.stderr.split('\n').slice(-15).join('\n'));
}

async function goodRelease(host: BlueGreenHost, inPlace: boolean): Promise<RunResult> {
  const problems: string[] = [];
  progress('good release: deploy v2 beside v1, then roll back to v1, under load');
  let deployOutage = 0;
  let rollbackOutage = 0;
  let deploySwitch: number | undefined;
  const load = await underLoad(host, async (outage) => {
    const t0 = Date.now();
    expectCode(await host.deploy('v2'), 0, 'deploy v2', problems);
    deploySwitch = lastAuditField(host, 'deploy', 'switchMs');
    progress(`  deploy v2 done in ${Date.now() - t0} ms`);
    const t1 = Date.now();
    expectCode(await host.rollback(), 0, 'rollback to v1', problems);
    progress(`  rollback done in ${Date.now() - t1} ms`);
    deployOutage = outage(t0, t1);
    rollbackOutage = outage(t1, Date.now());
  });
  return {
    label: 'good release',
    load,
    switchMs: inPlace ? deployOutage : (deploySwitch ?? -1),
    rollbackMs: inPlace ? rollbackOutage : (lastAuditField(host, 'rollback', 'switchMs') ?? -1),
    problems,
  };
}

async function failingRelease(host: BlueGreenHost, inPlace: boolean): Promise<RunResult> {
  const problems: string[] = [];
  progress('failing release: deploy a release whose smoke fails through nginx, under load');
  const load = await underLoad(host, async () => {
    const t0 = Date.now();
    expectCode(await host.deploy('public-fails'), 1, 'deploy public-fails', problems);
    progress(`  deploy public-fails refused in ${Date.now() - t0} ms`);
  });
  // In place there is no switch and switch back to time apart: both are the outage of the deploy.
  return {
    label: 'failing release',
    load,
    switchMs: inPlace ? load.outageMs : (lastAuditField(host, 'deploy', 'switchMs') ?? -1),
    rollbackMs: inPlace ? load.outageMs : (lastAuditField(host, 'deploy', 'switchBackMs') ?? -1),
    problems,
  };
}

let memory: MemorySampler | undefined;

const line = (r: RunResult) => `deploy under load: ${r.load.requests} requests, ${r.load.failed} failed, switch ${r.switchMs} ms, rollback ${r.rollbackMs} ms`;

export const DEPLOY_BENCH_USAGE = `usage: npm run bench:deploy [-- --in-place]

Real deploys of a small app (podman + Debian's nginx on this machine) under a bounded request loop
through nginx: a good release (deploy, then rollback) and one whose smoke fails after the switch.
The last two lines are \`deploy under load: N requests, F failed, switch S ms, rollback R ms\`;
exits 1 when a blue/green run failed a request.

options:
  --in-place   the old restart-in-place path (BLUE_GREEN=false), for comparison; reports, exits 0
  --help       print this help`;

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandLine(argv, { name: 'bench:deploy', options: { 'in-place': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(DEPLOY_BENCH_USAGE);
    return 0;
  }
  const inPlace = values['in-place'] === true;
  progress(
    `${inPlace ? 'in-place restart (BLUE_GREEN=false)' : 'blue/green'}; podman + nginx on this machine; load ${MIN_REQUESTS}-${MAX_REQUESTS} requests, at most ${MAX_MS / 1000} s a run`,
  );
  const host = await setUpBlueGreenHost({ inPlace, name: 'benchdeploy' });
  memory = new MemorySampler(host);
  try {
    progress('first deploy of v1 (no load)');
    const first = await host.deploy('v1');
    if (first.code !== 0) {
      console.error(first.stderr.split('\n').slice(-15).join('\n'));
      throw new Error(`the first deploy exited ${first.code}`);
    }
    const results = [await goodRelease(host, inPlace), await failingRelease(host, inPlace)];
    let ok = true;
    for (const r of results) {
      const problems = [...r.problems];
      if (r.load.requests < MIN_REQUESTS) problems.push(`only ${r.load.requests} requests (at least ${MIN_REQUESTS} wanted)`);
      if (r.load.failed > 0) problems.push(`${r.load.failed} failed requests, e.g. ${r.load.failures.join('; ')}`);
      if (problems.length > 0) progress(`${r.label}: ${problems.join('; ')}`);
      if (!inPlace && problems.length > 0) ok = false;
    }
    progress(memory.summary());
    for (const r of results) console.log(line(r));
    return ok ? 0 : 1;
  } finally {
    host.remove();
  }
}

if (require.main === module) {
  runMain(
    () => main(process.argv.slice(2)),
    // A failure of the run itself (a deploy that did not start): one line, as before.
    (error) => {
      (error as Error).message = `bench:deploy: ${(error as Error).message}`;
      return true;
    },
  );
}
