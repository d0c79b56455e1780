import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { type K8sObject, readManifestDir } from './manifests';
import { sharedCdkOut, sharedDist, sharedValidationRuns } from './paths';
import type { ValidationRun } from './validation-runs';

// Also here for the files that import everything from one helper; a file needing only these is a unit test.
export { shippedConfig } from './config-fixtures';
export { findOne, type K8sObject, readManifestDir } from './manifests';
/** The global setup's output directories: a test reads them through this module, which puts it in the synth tier (test/tiers.ts). */
export { sharedCdkOut, sharedDist, sharedSynthDir } from './paths';

/*
 * Read access to the output the global setup synthesized once for the shipped config.
 * Nothing here synthesizes: a test that needs a variant composes its own small app.
 */

const templates = new Map<string, Template>();
/** The synthesized template of a stack by its name (see `lib/names.ts`). */
export function shippedTemplate(stackName: string): Template {
  let template = templates.get(stackName);
  if (!template) {
    template = Template.fromJSON(JSON.parse(readFileSync(join(sharedCdkOut, `${stackName}.template.json`), 'utf8')));
    templates.set(stackName, template);
  }
  return template;
}

/** Names of every stack in the shared cloud assembly. */
export function shippedStackNames(): string[] {
  return readdirSync(sharedCdkOut)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => f.replace(/\.template\.json$/, ''))
    .sort();
}

/** The cloud assembly manifest (artifacts, environments, dependencies). */
export function shippedAssemblyManifest(): {
  artifacts: Record<string, { type: string; environment?: string; properties?: Record<string, unknown>; dependencies?: string[] }>;
} {
  return JSON.parse(readFileSync(join(sharedCdkOut, 'manifest.json'), 'utf8'));
}

/** The validation plugins registered on the shipped app and each run of them during the global synth (test/helpers/global-setup.ts). */
export function shippedValidationRuns(): { registered: string[]; runs: ValidationRun[] } {
  return JSON.parse(readFileSync(sharedValidationRuns, 'utf8'));
}

/** CDK's policy validation report, where cdk-nag v3 writes its findings. */
export function shippedValidationReport(): {
  pluginReports: { pluginName: string; conclusion: string; violations: unknown[]; suppressedViolations?: { ruleName: string }[] }[];
} {
  return JSON.parse(readFileSync(join(sharedCdkOut, 'validation-report.json'), 'utf8'));
}

const manifests = new Map<string, K8sObject[]>();
/** Every object in `dist/<env>/*.yaml` for the shipped config, parsed. */
export function shippedManifests(env: string): K8sObject[] {
  let objects = manifests.get(env);
  if (!objects) {
    objects = readManifestDir(join(sharedDist, env));
    manifests.set(env, objects);
  }
  return objects;
}
