#!/usr/bin/env node
/*
 * `npm run bench`: how long synthesis takes on this machine. Prints numbers as it goes and says which
 * goals it missed (exit code 1 then); timing belongs here, never in tests.
 *
 *   1. wall time of `npm run synth` as a user runs it (npm, node start, swc transpile, config, CDK +
 *      cdk-nag + template validation, cdk8s, write), after one run that fills the template validation
 *      cache: the everyday synth, where only changed templates are validated
 *   2. in-process construct + synth of the shipped environments, modules already loaded, every
 *      template validated (no cache)
 *   3. both, for 2 versus 20 generated environments
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { synthesizeAll } from '../../bin/synth-all';
import { parseCommandLine, runMain, UsageError } from '../../lib/cli/command-line';
import type { ProjectConfig } from '../../lib/config';
import { cdkJsonContext, configPath, isConfigProblem, projectRoot, readConfig } from '../../lib/config/config-file';
import { generatedConfig } from './generated-config';
import { RATIO_GOAL, SHIPPED_WALL_GOAL_MS } from './goals';

export const BENCH_USAGE = `usage: npm run bench -- [--runs N]

Times synthesis on this machine and checks the goals (median \`npm run synth\` of the shipped config
at most ${SHIPPED_WALL_GOAL_MS / 1000} s; 20 environments under ${RATIO_GOAL} times 2). Prints each number as it is measured; exits 1 when
a goal is missed.

options:
  --runs N   runs per measurement, the median is reported (default 5, or $BENCH_RUNS)
  --help     print this help`;

/** Runs per measurement (`--runs`), set once by `main`. */
let RUNS = 5;

/** Progress on stderr, so the table on stdout stays clean. */
function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeMs(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** One run of `npm run synth` as a user runs it, for a config file, into a scratch directory. */
interface SynthRun {
  /** Wall time, what the user waits for. */
  readonly wallMs: number;
  /** CPU time (user + system) of npm and every process under it: what wall time tends to on an idle machine. */
  readonly cpuMs: number;
}

function fullSynth(configFile: string): SynthRun {
  const out = mkdtempSync(join(tmpdir(), 'bench-wall-'));
  try {
    let times = '';
    // bash's `times` prints the CPU time of the shell's finished children (second line: user, system).
    const wallMs = timeMs(() => {
      times = execFileSync('bash', ['-c', 'npm run --silent synth -- --out "$1" >/dev/null && times', 'bench', out], {
        cwd: projectRoot,
        env: { ...process.env, APP_CONFIG: configFile },
        encoding: 'utf8',
      });
    });
    const [user, system] = [
      ...times
        .trim()
        .split('\n')[1]
        .matchAll(/(\d+)m([\d.]+)s/g),
    ].map((m) => Number(m[1]) * 60_000 + Number(m[2]) * 1000);
    return { wallMs, cpuMs: user + system };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** `npm run synth` once to fill the validation cache, then `RUNS` timed runs, each reported as it ends. */
function everydaySynthRuns(label: string, configFile: string): { wall: number; cpu: number } {
  progress(`${label}: warm-up npm run synth (validates templates not seen before) ...`);
  progress(`${label}: warm-up took ${seconds(fullSynth(configFile).wallMs)}`);
  const runs = Array.from({ length: RUNS }, (_, i) => {
    const run = fullSynth(configFile);
    progress(`${label}: npm run synth ${i + 1}/${RUNS}: ${seconds(run.wallMs)} wall, ${seconds(run.cpuMs)} CPU`);
    return run;
  });
  return { wall: median(runs.map((r) => r.wallMs)), cpu: median(runs.map((r) => r.cpuMs)) };
}

/** In-process synth `RUNS` times, each reported as it ends. */
function inProcessSynthTimes(label: string, config: ProjectConfig, context: Record<string, unknown>): number[] {
  return Array.from({ length: RUNS }, (_, i) => {
    const ms = inProcessSynth(config, context);
    progress(`${label}: in-process synth ${i + 1}/${RUNS}: ${seconds(ms)}`);
    return ms;
  });
}

function writeConfigFile(config: ProjectConfig): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-config-')), 'environments.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

function inProcessSynth(config: ProjectConfig, context: Record<string, unknown>): number {
  const dir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  try {
    return timeMs(() => synthesizeAll(config, { cdkOut: join(dir, 'cdk.out'), dist: join(dir, 'dist') }, context));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runsFrom(text: string | undefined): number {
  const value = text ?? process.env.BENCH_RUNS ?? '5';
  if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`bench: --runs "${value}" is not a positive whole number`);
  return Number(value);
}

function main(argv: readonly string[]): number {
  const { values } = parseCommandLine(argv, { name: 'bench', options: { runs: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(BENCH_USAGE);
    return 0;
  }
  RUNS = runsFrom(values.runs as string | undefined);
  const shipped = readConfig(configPath());
  const context = cdkJsonContext();
  const rows: [string, string][] = [];
  const missed: string[] = [];

  const { wall, cpu } = everydaySynthRuns('shipped', configPath());
  rows.push([
    `npm run synth, wall time, shipped ${Object.keys(shipped.environments).length} envs (median of ${RUNS}; goal: at most ${seconds(SHIPPED_WALL_GOAL_MS)})`,
    seconds(wall),
  ]);
  rows.push([' npm run synth, CPU time (user + system), shipped envs (median; about the wall time of an idle machine)', seconds(cpu)]);
  if (wall > SHIPPED_WALL_GOAL_MS)
    missed.push(`npm run synth for the shipped config took ${seconds(wall)} (median), goal at most ${seconds(SHIPPED_WALL_GOAL_MS)}`);

  const wallTwo = everydaySynthRuns('2 generated envs', writeConfigFile(generatedConfig(shipped, 2))).wall;
  const wallTwenty = everydaySynthRuns('20 generated envs', writeConfigFile(generatedConfig(shipped, 20))).wall;
  rows.push([' npm run synth, wall time, 2 generated envs', seconds(wallTwo)]);
  rows.push([' npm run synth, wall time, 20 generated envs', seconds(wallTwenty)]);
  rows.push([` wall time ratio 20 / 2 (goal: under ${RATIO_GOAL})`, (wallTwenty / wallTwo).toFixed(2)]);
  if (wallTwenty / wallTwo >= RATIO_GOAL)
    missed.push(`npm run synth for 20 environments took ${(wallTwenty / wallTwo).toFixed(2)}× the time for 2, goal under ${RATIO_GOAL}×`);

  progress('in-process: warm-up (module loading and JIT are not synthesis) ...');
  inProcessSynth(shipped, context);
  rows.push([
    `in-process construct+synth, every template validated, shipped envs (median of ${RUNS})`,
    seconds(median(inProcessSynthTimes('shipped', shipped, context))),
  ]);

  const two = median(inProcessSynthTimes('2 generated envs', generatedConfig(shipped, 2), context));
  const twenty = median(inProcessSynthTimes('20 generated envs', generatedConfig(shipped, 20), context));
  rows.push([' in-process construct+synth, 2 generated envs', seconds(two)]);
  rows.push([' in-process construct+synth, 20 generated envs', seconds(twenty)]);
  rows.push([' in-process ratio 20 / 2 (the part that grows with environments)', (twenty / two).toFixed(2)]);

  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(
    `synth benchmark on ${process.platform}/${process.arch}, node ${process.version}, ${require('node:os').cpus().length} cores, load average ${require('node:os').loadavg()[0].toFixed(1)}`,
  );
  for (const [label, value] of rows) console.log(`${label.trim().padEnd(width)}  ${value}`);
  for (const line of missed) console.log(`GOAL MISSED: ${line}`);
  return missed.length > 0 ? 1 : 0;
}

if (require.main === module) runMain(() => main(process.argv.slice(2)), isConfigProblem);
