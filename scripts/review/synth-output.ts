/*
 * Reads what `npm run synth -- --out DIR` wrote: the cloud assembly (DIR/cdk.out) and the
 * Kubernetes manifests (DIR/dist/<env>/*.yaml). The review compares two of these.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type CfnTemplate, type SynthStack, synthStack } from '../../lib/synth-output/stacks';

export type { CfnResource, CfnTemplate, SynthStack } from '../../lib/synth-output/stacks';

/** A user error of the review commands: printed as one line, exit code 2. */
export class ReviewUsageError extends Error {}

/** A parsed Kubernetes object. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface SynthOutput {
  readonly dir: string;
  /** Stacks by name. */
  readonly stacks: ReadonlyMap<string, SynthStack>;
  /** Objects of `dist/<dir>/*.yaml` by directory (an environment, or `argocd`). */
  readonly manifests: ReadonlyMap<string, readonly K8sObject[]>;
}

interface AssemblyManifest {
  artifacts?: Record<string, { type: string; environment?: string; properties?: { templateFile?: string } }>;
}

/** Reads one synth output directory; a missing directory or assembly is a ReviewUsageError. */
export function readSynthOutput(dir: string, role: string): SynthOutput {
  const manifestPath = join(dir, 'cdk.out', 'manifest.json');
  if (!existsSync(dir))
    throw new ReviewUsageError(`${role} directory ${dir} does not exist: run \`npm run synth -- --out ${dir}\` on the ${role} commit first`);
  if (!existsSync(manifestPath))
    throw new ReviewUsageError(`${role} directory ${dir} has no cdk.out/manifest.json: run \`npm run synth -- --out ${dir}\` on the ${role} commit first`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as AssemblyManifest;
  const stacks = new Map<string, SynthStack>();
  for (const [name, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(readFileSync(join(dir, 'cdk.out', artifact.properties.templateFile), 'utf8')) as CfnTemplate;
    const account = /^aws:\/\/([^/]+)\//.exec(artifact.environment ?? '')?.[1] ?? 'unknown';
    stacks.set(name, synthStack(name, account, template));
  }
  const manifests = new Map<string, K8sObject[]>();
  const dist = join(dir, 'dist');
  if (existsSync(dist)) {
    for (const entry of readdirSync(dist, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const files = readdirSync(join(dist, entry.name))
        .filter((f) => f.endsWith('.yaml'))
        .sort();
      manifests.set(
        entry.name,
        files.flatMap((f) => parseAllDocuments(readFileSync(join(dist, entry.name, f), 'utf8')).map((d) => d.toJS() as K8sObject)).filter((o) => o !== null),
      );
    }
  }
  return { dir, stacks, manifests };
}
