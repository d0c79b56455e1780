import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Errors } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { environmentsOf, type ProjectConfig } from '../lib/config';
import { writeSynthCompletion } from '../lib/synth-output/completion';
import { buildAwsApp, buildKubernetesApps } from './build-apps';

/**
 * Where synth keeps CloudFormation validation findings per template content, so an unchanged template
 * is not validated again (about half of the synth time). Deleting it only makes the next synth slower.
 */
export const TEMPLATE_VALIDATION_CACHE = resolve(__dirname, '../node_modules/.cache/cfn-validate');

export interface SynthOutput {
  /** Cloud assembly directory with one template per stack. */
  readonly cdkOut: string;
  /** Manifest directory with one folder per environment. */
  readonly dist: string;
  /** Where template validation caches its findings per template. @default - no cache: validate every template */
  readonly templateValidationCache?: string;
}

/** `<dir>.tmp-<pid>`: where a synth writes before its output replaces `dir`. */
export const stagingDir = (dir: string, pid: number = process.pid) => `${dir}.tmp-${pid}`;
/** `<dir>.old-<pid>`: where the previous output waits, for the moment of the swap. */
const retiredDir = (dir: string, pid: number = process.pid) => `${dir}.old-${pid}`;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the staging and retired copies of `dir` left by synths that were killed (their process is gone). */
function sweepAbandoned(dir: string): void {
  const parent = dirname(dir);
  if (!existsSync(parent)) return;
  const pattern = new RegExp(`^${basename(dir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(tmp|old)-(\\d+)$`);
  for (const entry of readdirSync(parent)) {
    const match = pattern.exec(entry);
    if (match && Number(match[2]) !== process.pid && !isRunning(Number(match[2]))) rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

/**
 * Puts `staged` in the place of `dir`: the previous `dir` is renamed aside, the staged one renamed
 * in, the previous one removed. Renames within one directory: no reader ever sees a half-written
 * output, only the old one or the new one.
 */
function swapInto(staged: string, dir: string): void {
  const retired = retiredDir(dir);
  rmSync(retired, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, retired);
  renameSync(staged, dir);
  rmSync(retired, { recursive: true, force: true });
}

/**
 * Synthesizes every environment in-process: CloudFormation into `cdkOut`, manifests into `dist`.
 * Used by `npm run synth`, the test suite's global setup and the benchmark.
 *
 * Both are written beside their place (`cdk.out.tmp-<pid>`, `dist.tmp-<pid>`) and renamed into it
 * only when everything synthesized: a failure at any point (a cdk-nag finding, a construct that
 * throws) leaves the previous output exactly as it was and no staging directory behind. The new
 * output replaces the old whole, so a deleted environment cannot linger in `dist/`.
 * Returns the CloudFormation assembly, read from its final place (for the budget check).
 */
export function synthesizeAll(config: ProjectConfig, out: SynthOutput, context: Record<string, unknown>): cxapi.CloudAssembly {
  const cdkOut = resolve(out.cdkOut);
  const dist = resolve(out.dist);
  const staged = { cdkOut: stagingDir(cdkOut), dist: stagingDir(dist) };
  for (const dir of [cdkOut, dist]) {
    sweepAbandoned(dir);
    mkdirSync(dirname(dir), { recursive: true });
  }
  try {
    for (const dir of Object.values(staged)) rmSync(dir, { recursive: true, force: true });
    buildAwsApp(config, { outdir: staged.cdkOut, context, templateValidationCache: out.templateValidationCache }).synth();
    for (const app of buildKubernetesApps(config, staged.dist).values()) app.synth();
    mkdirSync(staged.dist, { recursive: true }); // a config without environments writes no manifests
  } catch (error) {
    for (const dir of Object.values(staged)) rmSync(dir, { recursive: true, force: true });
    // CDK points at the report inside the staging directory, which is gone: say what is true instead.
    // It prints that path relative to the working directory when it can, so match the directory's
    // own name (`cdk.out.tmp-<pid>`), not its absolute path.
    if (error instanceof Error && error.message.includes(basename(staged.cdkOut))) {
      error.message = error.message.replace(
        /A copy of this report can be found in: \S+/,
        'The previous output was left as it was; fix the findings above and synthesize again.',
      );
    }
    throw error;
  }
  swapInto(staged.cdkOut, cdkOut);
  swapInto(staged.dist, dist);
  // Last, in place: the record the review checks before it compares (lib/synth-output/completion.ts).
  writeSynthCompletion(
    { cdkOut, dist },
    config.app.name,
    environmentsOf(config).map((e) => e.name),
  );
  return new cxapi.CloudAssembly(cdkOut);
}

/** A synth stopped by a validation plugin (cdk-nag, CloudFormation validation): the findings are printed, no stack trace needed. */
export function isValidationFailure(error: unknown): error is Error {
  return Errors.isValidationError(error) && (error as Error).name === 'ValidationFailed';
}
