import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { CfnTemplate, K8sObject } from '../../scripts/review/synth-output';
import { sharedSynthDir } from '../helpers/synth';

/*
 * Scenario fixtures: a copy of the shipped synth output (written once by the global setup),
 * changed the way a pull request changes it, in a fresh temporary directory.
 */

// biome-ignore lint/suspicious/noExplicitAny: templates are edited freely by scenarios
export type AnyTemplate = CfnTemplate & { Resources: Record<string, { Type: string; Properties: any; [k: string]: any }> };

export interface Scenario {
  readonly dir: string;
  /** Edits `cdk.out/<stack>.template.json` in place. */
  template(stack: string, edit: (template: AnyTemplate) => void): void;
  /** The logical id of the only resource of a type in a stack. */
  logicalId(stack: string, type: string): string;
  /** Edits every object of `dist/<env>/` in place. */
  // biome-ignore lint/suspicious/noExplicitAny: manifests are edited freely by scenarios
  manifests(env: string, edit: (objects: any[]) => void): void;
  /** Renames a stack in the assembly: template file and manifest artifact. */
  renameStack(from: string, to: string): void;
  /** Adds a copy of a stack under another name, its `env` tags set to `env`. */
  copyStack(from: string, to: string, env: string): void;
  /** Adds a copy of a manifest directory (`dist/<from>` → `dist/<to>`). */
  copyManifests(from: string, to: string): void;
}

/** A fresh copy of the shipped synth output. */
export function scenario(from: string = sharedSynthDir): Scenario {
  const dir = mkdtempSync(join(tmpdir(), 'review-scenario-'));
  cpSync(from, dir, { recursive: true });
  const templatePath = (stack: string) => join(dir, 'cdk.out', `${stack}.template.json`);
  const read = (stack: string) => JSON.parse(readFileSync(templatePath(stack), 'utf8')) as AnyTemplate;
  return {
    dir,
    template(stack, edit) {
      const template = read(stack);
      edit(template);
      writeFileSync(templatePath(stack), JSON.stringify(template, null, 1));
    },
    logicalId(stack, type) {
      const ids = Object.entries(read(stack).Resources)
        .filter(([, r]) => r.Type === type)
        .map(([id]) => id);
      if (ids.length !== 1) throw new Error(`expected one ${type} in ${stack}, found ${ids.length}`);
      return ids[0];
    },
    manifests(env, edit) {
      const envDir = join(dir, 'dist', env);
      const files = readdirSync(envDir).filter((f) => f.endsWith('.yaml'));
      const objects = files.flatMap((f) => parseAllDocuments(readFileSync(join(envDir, f), 'utf8')).map((d) => d.toJS() as K8sObject));
      edit(objects);
      for (const f of files) rmSync(join(envDir, f));
      writeFileSync(join(envDir, 'all.k8s.yaml'), objects.map((o) => stringify(o)).join('---\n'));
    },
    renameStack(from, to) {
      const manifestPath = join(dir, 'cdk.out', 'manifest.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      const artifact = manifest.artifacts[from];
      delete manifest.artifacts[from];
      artifact.properties.templateFile = `${to}.template.json`;
      manifest.artifacts[to] = artifact;
      writeFileSync(manifestPath, JSON.stringify(manifest));
      writeFileSync(templatePath(to), readFileSync(templatePath(from)));
      rmSync(templatePath(from));
    },
    copyStack(from, to, env) {
      const manifestPath = join(dir, 'cdk.out', 'manifest.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      manifest.artifacts[to] = { ...manifest.artifacts[from], properties: { ...manifest.artifacts[from].properties, templateFile: `${to}.template.json` } };
      writeFileSync(manifestPath, JSON.stringify(manifest));
      const text = readFileSync(templatePath(from), 'utf8').replace(/("Key": ?"env",\s*"Value": ?)"[^"]*"/g, `$1"${env}"`);
      writeFileSync(templatePath(to), text);
    },
    copyManifests(from, to) {
      cpSync(join(dir, 'dist', from), join(dir, 'dist', to), { recursive: true });
    },
  };
}
