#!/usr/bin/env node
/*
 * `npm run bench`: how long synthesis takes on this machine. Prints numbers, asserts nothing
 * (timing belongs here, never in tests).
 *
 *   1. wall time of `npm run synth`'s program (node start, swc transpile, config, CDK + cdk-nag, cdk8s, write)
 *   2. in-process construct + synth of the shipped environments, modules already loaded
 *   3. both, for 2 versus 20 generated environments
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cdkJsonContext, configPath, projectRoot } from '../../bin/config-file';
import { synthesizeAll } from '../../bin/synth-all';
import { loadConfigFile, type ProjectConfig } from '../../lib/config';
import { generatedConfig } from './generated-config';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

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

function main(): void {
  const shipped = loadConfigFile(configPath());
  const context = cdkJsonContext();
  const rows: [string, string][] = [];

  const wall = Array.from({ length: RUNS }, () => fullSynthWallTime(configPath()));
  rows.push([`full synth, wall time, shipped ${Object.keys(shipped.environments).length} envs (median of ${RUNS}; goal: under 5 s)`, seconds(median(wall))]);

  const wallTwo = median(Array.from({ length: RUNS }, () => fullSynthWallTime(writeConfigFile(generatedConfig(shipped, 2)))));
  const wallTwenty = median(Array.from({ length: RUNS }, () => fullSynthWallTime(writeConfigFile(generatedConfig(shipped, 20)))));
  rows.push([' full synth, wall time, 2 generated envs', seconds(wallTwo)]);
  rows.push([' full synth, wall time, 20 generated envs', seconds(wallTwenty)]);
  rows.push([' wall time ratio 20 / 2 (goal: under 3)', (wallTwenty / wallTwo).toFixed(2)]);

  inProcessSynth(shipped, context); // warm-up: module loading and JIT are not synthesis
  const shippedRuns = Array.from({ length: RUNS }, () => inProcessSynth(shipped, context));
  rows.push([`in-process construct+synth, shipped envs (median of ${RUNS})`, seconds(median(shippedRuns))]);

  const two = median(Array.from({ length: RUNS }, () => inProcessSynth(generatedConfig(shipped, 2), context)));
  const twenty = median(Array.from({ length: RUNS }, () => inProcessSynth(generatedConfig(shipped, 20), context)));
  rows.push([' in-process construct+synth, 2 generated envs', seconds(two)]);
  rows.push([' in-process construct+synth, 20 generated envs', seconds(twenty)]);
  rows.push([' in-process ratio 20 / 2 (the part that grows with environments)', (twenty / two).toFixed(2)]);

  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`synth benchmark on ${process.platform}/${process.arch}, node ${process.version}, ${require('node:os').cpus().length} cores`);
  for (const [label, value] of rows) console.log(`${label.trim().padEnd(width)}  ${value}`);
}

main();
