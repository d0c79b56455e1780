import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The reviewed shell programs in `scripts/host/` that SSM documents carry to the instance. */
export type HostScriptName =
  | 'lib.sh'
  | 'deploy.sh'
  | 'rollback.sh'
  | 'status.sh'
  | 'backup.sh'
  | 'restore-drill.sh'
  | 'tls.sh'
  | 'firewall.sh'
  | 'secrets.sh'
  | 'data-volume.sh'
  | 'backup-metric.sh'
  | 'restore.sh'
  | 'smoke.sh'
  | 'switch.sh';

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
 * The text a document ships of a host script: the reviewed file without its comment-only lines
 * (the shebang and shellcheck directives stay; here-documents are kept whole, as data). SSM takes
 * at most 64 KB per document, and deploy carries lib.sh, secrets.sh, smoke.sh and switch.sh; the
 * comments are for reviewers of scripts/host/, who read the files themselves. Code lines are
 * unchanged, so a line that fails names the same command (its number differs from the file's).
 */
export function shippedScript(name: HostScriptName): string {
  const out: string[] = [];
  let heredocEnd: string | undefined;
  for (const line of hostScript(name).split('\n')) {
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
