import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostScriptsDir, runCommand } from '../helpers/host-scripts';

/*
 * The host's Python programs (scripts/host/*.py, shipped in the SSM documents beside the shell
 * scripts) get what shellcheck gives the shell: a syntax check (python3 -m py_compile, with
 * bytecode written to a temporary prefix, not beside the sources) and pyflakes (Debian's pyflakes3,
 * installed by scripts/ci/ensure-system-packages.sh: unused imports and names, undefined names).
 * Offline, with Debian's packages only. The planted files show both checks can fail.
 */

const programs = readdirSync(hostScriptsDir)
  .filter((f) => f.endsWith('.py'))
  .map((f) => join(hostScriptsDir, f));
const planted = mkdtempSync('/tmp/python-lint-');
afterAll(() => rmSync(planted, { recursive: true, force: true }));

/** Both checks on `files`; the first that fails, with its output, or 'clean'. */
async function lint(files: readonly string[]): Promise<string> {
  const compiled = await runCommand('python3', ['-m', 'py_compile', ...files], { PYTHONPYCACHEPREFIX: join(planted, 'pycache') });
  if (compiled.code !== 0) return `py_compile: ${compiled.output.trim()}`;
  const flakes = await runCommand('pyflakes3', [...files]);
  if (flakes.code !== 0) return `pyflakes3: ${flakes.output.trim()}`;
  return 'clean';
}

test('every host Python program compiles and is pyflakes-clean', async () => {
  expect(programs).toContain(join(hostScriptsDir, 'smoke.py'));
  expect(await lint(programs)).toBe('clean');
});

test('positive controls: a syntax error and an undefined name are each reported', async () => {
  const broken = join(planted, 'broken.py');
  writeFileSync(broken, 'def f(:\n    pass\n');
  expect(await lint([broken])).toMatch(/^py_compile: .*SyntaxError/s);
  const sloppy = join(planted, 'sloppy.py');
  writeFileSync(sloppy, 'import os\n\n\ndef f():\n    return undefined_name\n');
  const result = await lint([sloppy]);
  expect(result).toMatch(/^pyflakes3: /);
  expect(result).toContain("'os' imported but unused");
  expect(result).toContain("undefined name 'undefined_name'");
});
