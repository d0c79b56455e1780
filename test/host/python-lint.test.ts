import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_SCRIPT_NAMES } from '../../lib/host-runtime/scripts';
import { hostScriptsDir, runCommand } from '../helpers/host-scripts';

/*
 * The host's Python programs (scripts/host/*.py, shipped in the SSM documents beside the shell
 * scripts) get what shellcheck gives the shell: a syntax check (python3 -m py_compile, with
 * bytecode written to a temporary prefix, not beside the sources) and pyflakes (Debian's pyflakes3,
 * installed by scripts/ci/ensure-system-packages.sh: unused imports and names, undefined names).
 * Offline, with Debian's packages only. The planted files show both checks can fail.
 * Programs are files of their own: a shell script that hands python3 a here-document or a
 * multi-line -c program is refused here, so none escapes these checks.
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

test('every host Python program compiles and is pyflakes-clean, and every one is shipped (HOST_SCRIPT_NAMES)', async () => {
  expect(programs).toContain(join(hostScriptsDir, 'smoke.py'));
  expect(programs.map((p) => p.slice(hostScriptsDir.length + 1)).sort()).toEqual(HOST_SCRIPT_NAMES.filter((n) => n.endsWith('.py')).sort());
  expect(await lint(programs)).toBe('clean');
});

/**
 * Where a shell text runs a Python program it carries inside itself: python3 reading its program
 * from stdin (`python3 - ... <<'PY'`) or a `python3 -c '...'` spanning lines. One-line -c
 * expressions stay: there is nothing in them to lint apart.
 */
function embeddedPrograms(text: string): string[] {
  return [...text.matchAll(/python3\s+-(?=\s)[^\n]*|python3\s+-c\s+'[^']*\n[^']*'/g)].map((m) => m[0].split('\n')[0]);
}

// nginx-upstream.sh keeps its few lines: the first boot also installs it alone (nginx's pre-start step), with nothing beside it.
test('no host shell script embeds a Python program (a here-document or a multi-line -c), but nginx-upstream.sh', () => {
  const shell = readdirSync(hostScriptsDir).filter((f) => f.endsWith('.sh'));
  expect(shell).toEqual(expect.arrayContaining(['lib.sh', 'status.sh', 'backup.sh', 'secrets-lib.sh']));
  const found = shell.flatMap((f) => embeddedPrograms(readFileSync(join(hostScriptsDir, f), 'utf8')).map((line) => `${f}: ${line}`));
  expect(found).toEqual(["nginx-upstream.sh: python3 -c '"]);
  // Positive controls: each form is found; a one-line -c and a program file are not.
  expect(embeddedPrograms(`x=$(python3 - "$a" <<'PY'\nprint(1)\nPY\n)`)).toEqual([`python3 - "$a" <<'PY'`]);
  expect(embeddedPrograms(`python3 -c '\nimport sys\nprint(sys.argv[1])\n' "$f"`)).toEqual([`python3 -c '`]);
  expect(embeddedPrograms(`python3 -c 'import sys; print(1)' "$f"\npython3 "$HOST_SCRIPT_DIR/state_file.py" get "$f" x`)).toEqual([]);
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
