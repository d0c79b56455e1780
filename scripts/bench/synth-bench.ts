#!/usr/bin/env node
/*
 * `npm run bench`: how long synthesis takes on this machine. Prints numbers, asserts nothing
 * (timing belongs here, never in tests).
 *
 *   1. wall time of `npm run synth`'s program (node start, swc transpile, config, CDK + cdk-nag, cdk8s, write)
 *   2. in-process construct + synth of the shipped environments, modules already loaded
 *   3. both, for 2 versus 20 generated environments
 *
 * Each measurement is printed as it finishes; at the end each goal is checked and a missed goal
 * is said plainly and makes the exit code 1 (the numbers are still printed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseCommandLine, runMain, UsageError } from '../../bin/command-line';
import { cdkJsonContext, configPath, isConfigProblem, projectRoot, readConfig } from '../../bin/config-file';
import { synthesizeAll } from '../../bin/synth-all';
import type { ProjectConfig } from '../../lib/config';
import { generatedConfig } from './generated-config';


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

/** Wall time of the synth program as a user runs it, for a config file, into a scratch directory. */
function fullSynthWallTime(configFile: string): number {
  const out = mkdtempSync(join(tmpdir(), 'bench-wall-'));
  try {
    return timeMs(() => {
      execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'bin/synth.ts', '--out', out], {
        cwd: projectRoot,
        env: { ...process.env, TS_NODE_SWC: 'true', APP_CONFIG: configFile },
        stdio: 'ignore',
      });
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
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

export const BENCH_USAGE = `usage: npm run bench -- [--runs N]

Times synthesis on this machine and checks the goals (full synth under 5 s; 20 environments
under 3 times 2). Prints each number as it is measured; exits 1 when a goal is missed.

options:
  --runs N   runs per measurement, the median is reported (default 3, or $BENCH_RUNS)
  --help     print this help`;

/** The goals the README states, checked at the end of every run. */
export const GOALS = {
  fullSynthSeconds: 5,
  twentyToTwoRatio: 3,
} as const;

function runsFrom(text: string | undefined): number {
  const value = text ?? process.env.BENCH_RUNS ?? '3';
  if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`bench: --runs "${value}" is not a positive whole number`);
  return Number(value);
}

function main(argv: readonly string[]): number {
  const { values } = parseCommandLine(argv, { name: 'bench', options: { runs: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(BENCH_USAGE);
    return 0;
  }
  const runs = runsFrom(values.runs as string | undefined);
  const shipped = readConfig(configPath());
  const context = cdkJsonContext();
  const envCount = Object.keys(shipped.environments).length;
  console.log(`synth benchmark on ${process.platform}/${process.arch}, node ${process.version}, ${require('node:os').cpus().length} cores, median of ${runs}`);
  const report = (label: string, value: string) => console.log(`${label.padEnd(62)}  ${value}`);
  /** Runs `measure` `runs` times, saying which run it is on (on stderr, so stdout stays the table). */
  const medianOf = (label: string, measure: () => number): number => {
    const samples: number[] = [];
    for (let i = 1; i <= runs; i++) {
      process.stderr.write(`  ${label}: run ${i}/${runs}...\n`);
      samples.push(measure());
    }
    return median(samples);
  };

  const wall = medianOf('full synth, shipped', () => fullSynthWallTime(configPath()));
  report(`full synth, wall time, shipped ${envCount} envs (goal: under ${GOALS.fullSynthSeconds} s)`, seconds(wall));
  const twoFile = writeConfigFile(generatedConfig(shipped, 2));
  const twentyFile = writeConfigFile(generatedConfig(shipped, 20));
  const wallTwo = medianOf('full synth, 2 generated envs', () => fullSynthWallTime(twoFile));
  report('full synth, wall time, 2 generated envs', seconds(wallTwo));
  const wallTwenty = medianOf('full synth, 20 generated envs', () => fullSynthWallTime(twentyFile));
  report('full synth, wall time, 20 generated envs', seconds(wallTwenty));
  const ratio = wallTwenty / wallTwo;
  report(`wall time ratio 20 / 2 (goal: under ${GOALS.twentyToTwoRatio})`, ratio.toFixed(2));

  process.stderr.write('  in-process: warm-up...\n');
  inProcessSynth(shipped, context); // module loading and JIT are not synthesis
  report('in-process construct+synth, shipped envs', seconds(medianOf('in-process, shipped', () => inProcessSynth(shipped, context))));
  const two = medianOf('in-process, 2 generated envs', () => inProcessSynth(generatedConfig(shipped, 2), context));
  report('in-process construct+synth, 2 generated envs', seconds(two));
  const twenty = medianOf('in-process, 20 generated envs', () => inProcessSynth(generatedConfig(shipped, 20), context));
  report('in-process construct+synth, 20 generated envs', seconds(twenty));
  report('in-process ratio 20 / 2 (the part that grows with environments)', (twenty / two).toFixed(2));

  const missed: string[] = [];
  if (wall / 1000 >= GOALS.fullSynthSeconds) missed.push(`full synth took ${seconds(wall)}, goal under ${GOALS.fullSynthSeconds} s`);
  if (ratio >= GOALS.twentyToTwoRatio) missed.push(`20 / 2 environments ratio is ${ratio.toFixed(2)}, goal under ${GOALS.twentyToTwoRatio}`);
  for (const line of missed) console.log(`MISSED GOAL: ${line}`);
  console.log(missed.length === 0 ? 'All goals met.' : `${missed.length} goal(s) missed (a busy machine slows every number: compare with the README's figures).`);
  return missed.length === 0 ? 0 : 1;
}

if (require.main === module) runMain(() => main(process.argv.slice(2)), isConfigProblem);
