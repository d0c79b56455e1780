import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as cxapi from 'aws-cdk-lib/cx-api';
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

/**
 * Synthesizes every environment in-process: CloudFormation into `cdkOut`, manifests into `dist`.
 * Used by `npm run synth`, the test suite's global setup and the benchmark. Stale output is
 * removed first so a deleted environment cannot linger in `dist/`.
 */
/** Synthesizes everything; returns the CloudFormation assembly (for the budget check). */
export function synthesizeAll(config: ProjectConfig, out: SynthOutput, context: Record<string, unknown>): cxapi.CloudAssembly {
  rmSync(out.dist, { recursive: true, force: true });
  rmSync(out.cdkOut, { recursive: true, force: true });
  const assembly = buildAwsApp(config, { outdir: out.cdkOut, context, templateValidationCache: out.templateValidationCache }).synth();
  for (const app of buildKubernetesApps(config, out.dist).values()) app.synth();
  // Last: the record the review checks before it compares (lib/synth-output/completion.ts).
  writeSynthCompletion(
    out,
    config.app.name,
    environmentsOf(config).map((e) => e.name),
  );
  return assembly;
}
