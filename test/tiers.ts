import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/*
 * Which jest project (tier) each test file runs in, derived from the files themselves so the
 * lists cannot drift from what the tests do (jest.config.ts builds its projects from this):
 *   host   files under test/host/, and any file whose imports reach a test helper that starts
 *          programs (git, podman, nginx, PostgreSQL, s3rver...: the helpers importing
 *          node:child_process); they need the Debian packages of scripts/ci/ensure-system-packages.sh
 *   synth  files whose imports reach test/helpers/synth.ts, the reader of the output the global
 *          setup synthesizes once (test/helpers/global-setup.ts), and files that synthesize the
 *          whole app themselves (they import bin/synth-all.ts, or buildAwsApp from bin/build-apps.ts)
 *   unit   everything else: no global synth, no system packages; what a developer runs while editing
 * test/tiers.test.ts checks every unit file against the rules of its tier.
 */

/** The jest projects, in the order `npm test` lists them. */
export const TIERS = ['unit', 'synth', 'host'] as const;
export type Tier = (typeof TIERS)[number];

/** Reads a file's text (a parameter so the rules can be tested on made-up sources). */
export type ReadSource = (path: string) => string;

const readDisk: ReadSource = (path) => readFileSync(path, 'utf8');
const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;

/** Test root, the synth-output reader and the directory of host tests, as absolute paths. */
export interface TierLayout {
  readonly testRoot: string;
}

const defaultLayout: TierLayout = { testRoot: __dirname };

function synthHelper(layout: TierLayout): string {
  return join(layout.testRoot, 'helpers', 'synth.ts');
}

function hostDir(layout: TierLayout): string {
  return join(layout.testRoot, 'host') + sep;
}

/**
 * Relative module specifiers of a TypeScript source's import and export statements (at the start
 * of a line, so code quoted inside strings does not count): `import … from './x'`, `import './x'`,
 * `export … from './x'`.
 */
export function relativeImports(source: string): string[] {
  const specifiers = [...source.matchAll(/^(?:import|export)\b[^;'"]*?['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]);
  return [...new Set(specifiers)];
}

/** `./x` from `file` as a path, trying the extensions TypeScript would. */
function resolveImport(file: string, specifier: string, exists: (path: string) => boolean): string | undefined {
  const base = resolve(dirname(file), specifier);
  return [`${base}.ts`, base, join(base, 'index.ts')].find(exists);
}

/**
 * Every file under the test root that `file` reaches through relative imports, itself included.
 * Imports leaving the test root (lib/, bin/, scripts/...) are not followed: production code never
 * imports test helpers.
 */
export function testImportClosure(file: string, layout: TierLayout = defaultLayout, read: ReadSource = readDisk, exists = isFile): Set<string> {
  const seen = new Set<string>();
  const pending = [file];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const specifier of relativeImports(read(current))) {
      const target = resolveImport(current, specifier, exists);
      if (target && !relative(layout.testRoot, target).startsWith('..')) pending.push(target);
    }
  }
  return seen;
}

/** A test helper that starts programs of its own (it imports node:child_process). */
function startsPrograms(file: string, layout: TierLayout, read: ReadSource): boolean {
  return dirname(file) === join(layout.testRoot, 'helpers') && /['"](node:)?child_process['"]/.test(read(file));
}

/**
 * A file that synthesizes the whole app itself: it imports `synthesizeAll` (bin/synth-all.ts) or
 * `buildAwsApp` (bin/build-apps.ts). Seconds of CDK, cdk-nag and validation per test: not a unit test.
 */
function synthesizesWholeApp(file: string, layout: TierLayout, read: ReadSource): boolean {
  const bin = join(dirname(layout.testRoot), 'bin');
  for (const statement of read(file).matchAll(/^(?:import|export)\b([^;'"]*?)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    const target = resolve(dirname(file), statement[2]).replace(/\.ts$/, '');
    if (target === join(bin, 'synth-all')) return true;
    if (target === join(bin, 'build-apps') && /\bbuildAwsApp\b/.test(statement[1])) return true;
  }
  return false;
}

/** The tier of one test file (an absolute path). */
export function tierOf(file: string, layout: TierLayout = defaultLayout, read: ReadSource = readDisk, exists = isFile): Tier {
  if (file.startsWith(hostDir(layout))) return 'host';
  const closure = testImportClosure(file, layout, read, exists);
  if ([...closure].some((f) => f !== file && startsPrograms(f, layout, read))) return 'host';
  if (closure.has(synthHelper(layout)) || [...closure].some((f) => synthesizesWholeApp(f, layout, read))) return 'synth';
  return 'unit';
}

/** Every `*.test.ts` file under the test root, sorted. */
export function testFiles(layout: TierLayout = defaultLayout): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.test.ts')) found.push(path);
    }
  };
  walk(layout.testRoot);
  return found.sort();
}

/** The test files of each tier. */
export function testTiers(layout: TierLayout = defaultLayout): Record<Tier, string[]> {
  const tiers: Record<Tier, string[]> = { unit: [], synth: [], host: [] };
  for (const file of testFiles(layout)) tiers[tierOf(file, layout)].push(file);
  return tiers;
}

/** Whether any of `files` reads the output of the global synth (so its project needs the global setup). */
export function needsGlobalSynth(files: readonly string[], layout: TierLayout = defaultLayout): boolean {
  return files.some((file) => testImportClosure(file, layout).has(synthHelper(layout)));
}

/**
 * Programs a unit test may start: Node itself (the CLIs run through ts-node) and a POSIX shell
 * (for scripts/ci/ensure-system-packages.sh run against stand-ins). Anything else (git, podman,
 * nginx, psql, aws, nft, dot, shellcheck, systemd-analyze...) is a system package: host tier.
 */
export const UNIT_PROGRAMS: readonly string[] = ['process.execPath', 'node', 'npm', 'npx', 'sh', 'bash', '/bin/sh', '/bin/bash'];

/**
 * Why `file` (assigned to the unit tier) would not run on a machine without the global synth and
 * the system packages, one line per reason; [] when it is fit for the unit tier.
 */
export function unitTierProblems(file: string, layout: TierLayout = defaultLayout, read: ReadSource = readDisk, exists = isFile): string[] {
  const problems: string[] = [];
  const name = relative(layout.testRoot, file);
  for (const reached of testImportClosure(file, layout, read, exists)) {
    const via = reached === file ? '' : ` (through ${relative(layout.testRoot, reached)})`;
    if (reached === synthHelper(layout)) problems.push(`${name} imports the synth helper${via}: it belongs to the synth tier`);
    const source = read(reached);
    const definesThem = [synthHelper(layout), join(layout.testRoot, 'helpers', 'paths.ts'), join(layout.testRoot, 'helpers', 'global-setup.ts')];
    if (/\bshared(CdkOut|Dist|SynthDir|ValidationRuns)\b/.test(source) && !definesThem.includes(reached)) {
      problems.push(`${name} reads the global synth's output directory${via}: import it through test/helpers/synth.ts`);
    }
    if (reached !== file && startsPrograms(reached, layout, read)) problems.push(`${name} uses a helper that starts programs${via}: host tier`);
    if (synthesizesWholeApp(reached, layout, read)) problems.push(`${name} synthesizes the whole app${via}: synth tier`);
    // The first argument of each child_process call: a quoted program name, or an expression such as process.execPath.
    for (const call of source.matchAll(/(?<![\w.$])(?:spawn|spawnSync|exec|execSync|execFile|execFileSync|fork)\s*\(\s*([^,)]+)/g)) {
      const program = call[1].trim().replace(/^['"`](.*)['"`]$/, '$1');
      if (!UNIT_PROGRAMS.includes(program)) problems.push(`${name} starts ${program}${via}: only ${UNIT_PROGRAMS.join(', ')} are allowed in the unit tier`);
    }
  }
  return problems;
}
