import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { COMPLETION_FILE, type SynthCompletion, writeSynthCompletion } from '../../lib/synth-output/completion';
import type { CfnTemplate, K8sObject } from '../../scripts/review/synth-output';
import { sharedSynthDir } from '../helpers/synth';

/*
 * Scenario fixtures: a copy of the shipped synth output (written once by the global setup),
 * changed the way a pull request changes it, in a fresh temporary directory. After each change
 * the completion record is written again, as the synth of that pull request would write it.
 */

// biome-ignore lint/suspicious/noExplicitAny: templates are edited freely by scenarios
export type AnyTemplate = CfnTemplate & { Resources: Record<string, { Type: string; Properties: any; [k: string]: any }> };

export interface Scenario {
  readonly dir: string;
  /** Edits `cdk.out/<stack>.template.json` in place. */
  template(stack: string, edit: (template: AnyTemplate) => void): void;
  /** Edits `cdk.out/<stack>.metadata.json` (construct path → metadata entries) in place. */
  // biome-ignore lint/suspicious/noExplicitAny: metadata is edited freely by scenarios
  metadata(stack: string, edit: (metadata: Record<string, any[]>) => void): void;
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
  /** Gives a resource a new logical id (every reference to it follows), as renaming its construct does. */
  renameResource(stack: string, from: string, to: string): void;
  /** Removes a stack from the assembly (template and manifest artifact). */
  removeStack(name: string): void;
  /** Sets the environments the completion record names (as the config of the pull request would). */
  environments(names: readonly string[]): void;
  /** Runs many changes and writes the completion record once, at the end. */
  batch(changes: () => void): void;
  /** Removes a file or directory after the completion record was written: a partial output. */
  damage(relativePath: string): void;
}

/** A fresh copy of a synth output (by default the shipped one). */
export function scenario(from: string = sharedSynthDir): Scenario {
  const dir = mkdtempSync(join(tmpdir(), 'review-scenario-'));
  cpSync(from, dir, { recursive: true });
  const cdkOut = join(dir, 'cdk.out');
  const templatePath = (stack: string) => join(cdkOut, `${stack}.template.json`);
  const read = (stack: string) => JSON.parse(readFileSync(templatePath(stack), 'utf8')) as AnyTemplate;
  const record = () => JSON.parse(readFileSync(join(cdkOut, COMPLETION_FILE), 'utf8')) as SynthCompletion;
  let environments = [...record().environments];
  const app = record().app;
  let batching = false;
  const resign = () => {
    if (!batching) writeSynthCompletion({ cdkOut, dist: join(dir, 'dist') }, app, environments);
  };
  const manifestPath = join(cdkOut, 'manifest.json');
  const editManifest = (edit: (manifest: { artifacts: Record<string, { properties: { templateFile: string } }> }) => void) => {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    edit(manifest);
    writeFileSync(manifestPath, JSON.stringify(manifest));
  };
  return {
    dir,
    template(stack, edit) {
      const template = read(stack);
      edit(template);
      writeFileSync(templatePath(stack), JSON.stringify(template, null, 1));
      resign();
    },
    metadata(stack, edit) {
      const path = join(cdkOut, `${stack}.metadata.json`);
      const metadata = JSON.parse(readFileSync(path, 'utf8'));
      edit(metadata);
      writeFileSync(path, JSON.stringify(metadata, null, 1));
      resign();
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
      resign();
    },
    renameStack(from, to) {
      editManifest((manifest) => {
        const artifact = manifest.artifacts[from];
        delete manifest.artifacts[from];
        artifact.properties.templateFile = `${to}.template.json`;
        manifest.artifacts[to] = artifact;
      });
      writeFileSync(templatePath(to), readFileSync(templatePath(from)));
      rmSync(templatePath(from));
      resign();
    },
    copyStack(from, to, env) {
      editManifest((manifest) => {
        const artifact = manifest.artifacts[from] as { properties: { templateFile: string }; additionalMetadataFile?: string };
        manifest.artifacts[to] = { ...artifact, properties: { ...artifact.properties, templateFile: `${to}.template.json` } };
        if (artifact.additionalMetadataFile) {
          (manifest.artifacts[to] as { additionalMetadataFile?: string }).additionalMetadataFile = `${to}.metadata.json`;
          const metadata = readFileSync(join(cdkOut, artifact.additionalMetadataFile), 'utf8')
            .split(`/${from}/`)
            .join(`/${to}/`)
            .split(`"/${from}"`)
            .join(`"/${to}"`);
          writeFileSync(join(cdkOut, `${to}.metadata.json`), metadata);
        }
      });
      const text = readFileSync(templatePath(from), 'utf8').replace(/("Key": ?"env",\s*"Value": ?)"[^"]*"/g, `$1"${env}"`);
      writeFileSync(templatePath(to), text);
      if (!environments.includes(env)) environments.push(env);
      resign();
    },
    copyManifests(from, to) {
      cpSync(join(dir, 'dist', from), join(dir, 'dist', to), { recursive: true });
      resign();
    },
    renameResource(stack, from, to) {
      writeFileSync(templatePath(stack), readFileSync(templatePath(stack), 'utf8').split(`"${from}"`).join(`"${to}"`));
      resign();
    },
    removeStack(name) {
      editManifest((manifest) => {
        delete manifest.artifacts[name];
      });
      rmSync(templatePath(name));
      resign();
    },
    environments(names) {
      environments = [...names];
      resign();
    },
    batch(changes) {
      batching = true;
      try {
        changes();
      } finally {
        batching = false;
      }
      resign();
    },
    damage(relativePath) {
      rmSync(join(dir, relativePath), { recursive: true, force: true });
    },
  };
}
