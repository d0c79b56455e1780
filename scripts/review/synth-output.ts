/*
 * Reads what `npm run synth -- --out DIR` wrote: the cloud assembly (DIR/cdk.out) and the
 * Kubernetes manifests (DIR/dist/<env>/*.yaml). The review compares two of these, and only
 * complete ones: an output without synth's completion record, or with a file missing or changed
 * since synth wrote it, is refused (lib/synth-output/completion.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { checkSynthCompletion } from '../../lib/synth-output/completion';
import { type CfnTemplate, type SynthStack, synthStack } from '../../lib/synth-output/stacks';

export type { CfnResource, CfnTemplate, SynthStack } from '../../lib/synth-output/stacks';

/** A user error of the review commands: printed as one line, exit code 2. */
export class ReviewUsageError extends Error {}

/** A parsed Kubernetes object. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [field: string]: unknown };
  [field: string]: unknown;
}

/** cdk-nag (and template validation) acknowledgements of a stack: reason by rule id, by construct path. */
export type Acknowledgements = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** A stack as read from disk: its template, and the acknowledgements recorded in its metadata. */
export interface ReviewStack extends SynthStack {
  readonly acknowledgements: Acknowledgements;
}

export interface SynthOutput {
  readonly dir: string;
  /** `app.name` of the config it was synthesized from. */
  readonly app: string;
  /** Environment names of that config. */
  readonly environments: readonly string[];
  /** Stacks by name. */
  readonly stacks: ReadonlyMap<string, ReviewStack>;
  /** Objects of `dist/<dir>/*.yaml` by directory (an environment, or `argocd`). */
  readonly manifests: ReadonlyMap<string, readonly K8sObject[]>;
}

interface AssemblyManifest {
  artifacts?: Record<
    string,
    { type: string; environment?: string; additionalMetadataFile?: string; metadata?: Record<string, MetadataEntry[]>; properties?: { templateFile?: string } }
  >;
}

interface MetadataEntry {
  readonly type: string;
  readonly data?: unknown;
}

/** The `aws:cdk:acknowledged-rules` entries (written by `Validations.of(x).acknowledge`) of a stack's metadata. */
export function acknowledgementsOf(metadata: Record<string, readonly MetadataEntry[]>): Map<string, Map<string, string>> {
  const result = new Map<string, Map<string, string>>();
  for (const [path, entries] of Object.entries(metadata)) {
    for (const entry of entries) {
      if (entry.type !== 'aws:cdk:acknowledged-rules' || !entry.data || typeof entry.data !== 'object') continue;
      const rules = result.get(path) ?? new Map<string, string>();
      for (const [rule, reason] of Object.entries(entry.data as Record<string, unknown>)) rules.set(rule, String(reason));
      result.set(path, rules);
    }
  }
  return result;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/**
 * Reads one synth output directory. A missing directory, a missing assembly, or an output synth did
 * not finish (no completion record, a file missing or changed, an environment's manifests missing)
 * is a ReviewUsageError naming what is wrong and the command that writes a complete one.
 */
export function readSynthOutput(dir: string, role: string): SynthOutput {
  const again = `run \`npm run synth -- --out ${dir}\` on the ${role} commit`;
  if (!existsSync(dir)) throw new ReviewUsageError(`${role} directory ${dir} does not exist: ${again} first`);
  if (!existsSync(join(dir, 'cdk.out', 'manifest.json'))) throw new ReviewUsageError(`${role} directory ${dir} has no cdk.out/manifest.json: ${again} first`);
  const completion = checkSynthCompletion(dir);
  if ('problems' in completion) {
    const [first, ...rest] = completion.problems;
    throw new ReviewUsageError(
      `${role} directory ${dir} is not a complete synth output (${first}${rest.length ? `, and ${rest.length} more` : ''}): refused rather than compared; ${again} again`,
    );
  }
  const manifest = readJson<AssemblyManifest>(join(dir, 'cdk.out', 'manifest.json'));
  const stacks = new Map<string, ReviewStack>();
  for (const [name, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template = readJson<CfnTemplate>(join(dir, 'cdk.out', artifact.properties.templateFile));
    const account = /^aws:\/\/([^/]+)\//.exec(artifact.environment ?? '')?.[1] ?? 'unknown';
    const metadata = artifact.additionalMetadataFile
      ? readJson<Record<string, MetadataEntry[]>>(join(dir, 'cdk.out', artifact.additionalMetadataFile))
      : (artifact.metadata ?? {});
    stacks.set(name, { ...synthStack(name, account, template), acknowledgements: acknowledgementsOf(metadata) });
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
  return { dir, app: completion.record.app, environments: completion.record.environments, stacks, manifests };
}

/** Stacks of an in-memory assembly or a test, without acknowledgements. */
export function withoutAcknowledgements(stack: SynthStack): ReviewStack {
  return { ...stack, acknowledgements: new Map() };
}
