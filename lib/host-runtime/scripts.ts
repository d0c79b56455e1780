import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The reviewed programs in `scripts/host/` that SSM documents and the first boot carry to the instance:
 * shell, and the Python programs the shell runs (`python3 "$HOST_SCRIPT_DIR/x.py"`), kept in files of
 * their own so they are linted and tested directly (test/host/python-lint.test.ts).
 */
export const HOST_SCRIPT_NAMES = [
  'lib.sh',
  'state_file.py',
  'subcommands.py',
  'release.sh',
  'backup-lib.sh',
  'backup_objects.py',
  'backup_archive.py',
  'deploy.sh',
  'rollback.sh',
  'status.sh',
  'status_report.py',
  'backup.sh',
  'restore-drill.sh',
  'tls.sh',
  'firewall.sh',
  'secrets.sh',
  'secrets-lib.sh',
  'render_env_file.py',
  'data-volume.sh',
  'backup-metric.sh',
  'restore.sh',
  'smoke.sh',
  'smoke.py',
  'switch.sh',
  'nginx-upstream.sh',
  'lifecycle-lib.sh',
  'host-boot.sh',
  'recorded_commit.py',
  'host-stop.sh',
  'interruption-watch.sh',
] as const;

export type HostScriptName = (typeof HOST_SCRIPT_NAMES)[number];

const texts = new Map<HostScriptName, string>();

/**
 * The text of one host script, read once from this package's own `scripts/host/` (a path fixed
 * relative to this file, never user input), so a document always carries the merged script.
 */
export function hostScript(name: HostScriptName): string {
  let text = texts.get(name);
  if (text === undefined) {
    text = readFileSync(join(__dirname, '../../scripts/host', name), 'utf8');
    texts.set(name, text);
  }
  return text;
}

/**
 * A host script without its comment-only lines (the shebang and shellcheck directives stay;
 * here-documents are kept whole, as data): what the first boot writes into the user data, which
 * EC2 caps at 16 KB, and what `scriptsUsedBy` reads a script's uses from, so a use named in a
 * comment does not count. The SSM documents ship each reviewed file whole (./documents.ts).
 */
export function shippedScript(name: HostScriptName): string {
  return withoutCommentLines(hostScript(name));
}

/** Shell text without its comment-only lines, here-documents kept whole (`shippedScript`). */
export function withoutCommentLines(text: string): string {
  const out: string[] = [];
  let heredocEnd: string | undefined;
  for (const line of text.split('\n')) {
    if (heredocEnd !== undefined) {
      out.push(line);
      if (line.replace(/^\t+/, '') === heredocEnd) heredocEnd = undefined;
      continue;
    }
    if (/^\s*#/.test(line) && !line.startsWith('#!') && !/^\s*# shellcheck /.test(line)) continue;
    out.push(line);
    heredocEnd = /<<-?\s*'?([A-Za-z_][A-Za-z0-9_]*)'?(?:\s|$)/.exec(line.replace(/<<</g, ''))?.[1];
  }
  return out.join('\n');
}

/**
 * A code line's use of another script beside it: sourced (`. "$HOST_SCRIPT_DIR/x.sh"`, or lib.sh
 * through `$(dirname "${BASH_SOURCE[0]}")`) or run (`bash "$HOST_SCRIPT_DIR/x.sh"`,
 * `python3 "$HOST_SCRIPT_DIR/smoke.py"`).
 */
const SCRIPT_USE = /(?:^|[\s;&|(])(?:\.|source|bash|python3)\s+"(?:\$HOST_SCRIPT_DIR|\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\))\/([^"]+)"/g;

/**
 * A Python program's import of a module (`import subcommands`, `from x import y`): a module of the
 * host scripts' own (x.py in HOST_SCRIPT_NAMES) is found beside the program, so it ships with it.
 */
const PYTHON_IMPORT = /^(?:import|from)\s+(\w+)/gm;

const isHostScriptName = (name: string): name is HostScriptName => (HOST_SCRIPT_NAMES as readonly string[]).includes(name);

/** The scripts one script sources or runs from its own directory (a Python program: imports from it), as its code lines say. */
export function scriptsUsedBy(name: HostScriptName): HostScriptName[] {
  const used: HostScriptName[] = [];
  const text = shippedScript(name);
  for (const [, other] of text.matchAll(SCRIPT_USE)) {
    if (!isHostScriptName(other)) throw new Error(`scripts/host/${name} uses ${other}, which is not a host script (HOST_SCRIPT_NAMES)`);
    if (!used.includes(other)) used.push(other);
  }
  if (name.endsWith('.py')) {
    for (const [, module] of text.matchAll(PYTHON_IMPORT)) {
      const other = `${module}.py`;
      if (isHostScriptName(other) && !used.includes(other)) used.push(other);
    }
  }
  return used;
}

/**
 * What must be installed beside `main` for it to run: `main` first, then every script it sources
 * or runs, and theirs in turn. Read from the scripts themselves, so a new `. "$HOST_SCRIPT_DIR/x.sh"`
 * line ships `x.sh` with every document that needs it, and no document carries one it never uses.
 */
export function scriptsCarriedWith(main: HostScriptName): HostScriptName[] {
  const carried: HostScriptName[] = [];
  const visit = (name: HostScriptName) => {
    if (carried.includes(name)) return;
    carried.push(name);
    for (const other of scriptsUsedBy(name)) visit(other);
  };
  visit(main);
  return carried;
}
