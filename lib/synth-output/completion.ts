/*
 * The completion record of a synth output: written by synth last, after the cloud assembly and
 * every manifest directory, and read by the review before it compares anything. It names the app,
 * the environments and every file synth wrote with its SHA-256, so an output cut short (a synth
 * that failed half-way, an artifact that lost a directory, a truncated template) is refused
 * instead of being read as "everything deleted".
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** File name of the record, inside the cloud assembly directory (`cdk.out/`), which the CDK CLI ignores. */
export const COMPLETION_FILE = 'synth-complete.json';

/** Version of the record's shape; a reader refuses another. */
export const COMPLETION_VERSION = 1;

export interface SynthCompletion {
  readonly version: typeof COMPLETION_VERSION;
  /** `app.name` of the config. */
  readonly app: string;
  /** Environment names of the config, in config order. */
  readonly environments: readonly string[];
  /** SHA-256 of each file written, by path relative to the output root (`cdk.out/...`, `dist/...`), `/`-separated. */
  readonly files: Readonly<Record<string, string>>;
}

export interface SynthOutputDirs {
  /** Cloud assembly directory. */
  readonly cdkOut: string;
  /** Manifest directory with one folder per environment. */
  readonly dist: string;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every regular file under `dir`, depth first, sorted. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

/** The common parent of `cdk.out` and `dist` when they sit side by side (`--out DIR`, or the repository). */
function rootOf(dirs: SynthOutputDirs): string {
  return join(dirs.cdkOut, '..');
}

const relativeKey = (root: string, path: string) => relative(root, path).split(sep).join('/');

/** Writes the record: call it after everything else of the synth is on disk. */
export function writeSynthCompletion(dirs: SynthOutputDirs, app: string, environments: readonly string[]): SynthCompletion {
  const root = rootOf(dirs);
  const files: Record<string, string> = {};
  for (const path of [...filesUnder(dirs.cdkOut), ...filesUnder(dirs.dist)]) {
    const key = relativeKey(root, path);
    if (key === `${relativeKey(root, dirs.cdkOut)}/${COMPLETION_FILE}`) continue;
    files[key] = sha256(path);
  }
  const record: SynthCompletion = { version: COMPLETION_VERSION, app, environments: [...environments], files };
  writeFileSync(join(dirs.cdkOut, COMPLETION_FILE), `${JSON.stringify(record, null, 1)}\n`);
  return record;
}

/** The record of a synth output root (`DIR` of `--out DIR`), or the reasons it cannot be trusted. */
export function checkSynthCompletion(root: string): { readonly record: SynthCompletion } | { readonly problems: readonly string[] } {
  const path = join(root, 'cdk.out', COMPLETION_FILE);
  if (!existsSync(path)) return { problems: [`no cdk.out/${COMPLETION_FILE}: the synth that wrote it did not finish`] };
  let record: SynthCompletion;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as SynthCompletion;
  } catch {
    return { problems: [`cdk.out/${COMPLETION_FILE} is not JSON: the synth that wrote it did not finish`] };
  }
  if (record?.version !== COMPLETION_VERSION || typeof record.files !== 'object' || !Array.isArray(record.environments))
    return { problems: [`cdk.out/${COMPLETION_FILE} is not a version ${COMPLETION_VERSION} record: synthesize it again with this version`] };
  const problems: string[] = [];
  for (const env of record.environments) {
    if (!existsSync(join(root, 'dist', env))) problems.push(`dist/${env} is missing`);
  }
  for (const [file, hash] of Object.entries(record.files)) {
    const at = join(root, ...file.split('/'));
    if (!existsSync(at)) problems.push(`${file} is missing`);
    else if (sha256(at) !== hash) problems.push(`${file} differs from what synth wrote`);
  }
  return problems.length ? { problems } : { record };
}
