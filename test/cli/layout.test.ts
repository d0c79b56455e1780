import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { projectRoot } from '../helpers/paths';

/*
 * The floors of the repository (README, "Layout"): lib/ and charts/ are the ground floor, imported by
 * bin/ and scripts/; bin/ composes; scripts/ are thin CLIs. Shared code lives where everyone imports
 * it downward: scripts/ never reaches up into bin/ (the command-line layer lives in lib/cli/), and
 * lib/ and charts/ import neither.
 */

function sources(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(join(projectRoot, d), { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
      else if (entry.name.endsWith('.ts')) found.push(join(d, entry.name));
    }
  };
  walk(dir);
  return found.sort();
}

/** `from './x'` targets of a file, relative to the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(projectRoot, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)\b[^;'"]*?['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) =>
    relative(projectRoot, resolve(projectRoot, dirname(file), m[1])),
  );
}

/** Imports of files under `from` that reach into any of `into`, as `file -> target`. */
function upward(from: string, into: readonly string[]): string[] {
  return sources(from).flatMap((file) =>
    importsOf(file)
      .filter((t) => into.some((d) => t.startsWith(`${d}/`)))
      .map((t) => `${file} -> ${t}`),
  );
}

/**
 * The synth benchmark times bin/'s synth in-process (modules loaded, no npm): it imports the function
 * it measures. Moving bin/build-apps.ts and bin/synth-all.ts down to lib/ would end this exception.
 */
const MEASURES_BIN = ['scripts/bench/synth-bench.ts -> bin/synth-all'];

test('scripts/ never imports bin/ (but the benchmark of bin/ itself)', () => {
  expect(upward('scripts', ['bin'])).toEqual(MEASURES_BIN);
});

test('lib/ and charts/ import neither bin/ nor scripts/', () => {
  expect([...upward('lib', ['bin', 'scripts']), ...upward('charts', ['bin', 'scripts'])]).toEqual([]);
});

test('the command-line layer is in lib/cli/, used by bin/ and scripts/ alike', () => {
  const users = [...sources('bin'), ...sources('scripts')].filter((f) => importsOf(f).includes('lib/cli/command-line'));
  expect(users).toEqual(expect.arrayContaining(['bin/synth.ts', 'scripts/ops/cli.ts', 'scripts/bench/synth-bench.ts', 'scripts/bootstrap/cli.ts']));
  // Positive control: the scan sees an import into bin/ where one is.
  expect(importsOf('scripts/bench/synth-bench.ts')).toContain('bin/synth-all');
});
