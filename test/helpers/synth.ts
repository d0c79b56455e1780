import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { parseAllDocuments } from 'yaml';
import { loadConfigFile, type ProjectConfig } from '../../lib/config';
import { sharedCdkOut, sharedDist, shippedConfigPath } from './paths';

/*
 * Read access to the output the global setup synthesized once for the shipped config.
 * Nothing here synthesizes: a test that needs a variant composes its own small app.
 */

let config: ProjectConfig | undefined;
/** The shipped config, validated. */
export function shippedConfig(): ProjectConfig {
  config ??= loadConfigFile(shippedConfigPath);
  return config;
}

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

/** CDK's policy validation report, where cdk-nag v3 writes its findings. */
export function shippedValidationReport(): { pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[] } {
  return JSON.parse(readFileSync(join(sharedCdkOut, 'validation-report.json'), 'utf8'));
}

/** A parsed Kubernetes object. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field by the tests
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: ConfigMap data and other kinds' top-level fields
  [field: string]: any;
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

/** Parses every YAML document of every `.yaml` file in a directory. */
export function readManifestDir(dir: string): K8sObject[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((doc) => doc.toJS() as K8sObject))
    .filter((o) => o !== null);
}

/** The only object of a kind (and name, when given); throws if there is not exactly one. */
export function findOne(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0];
}
