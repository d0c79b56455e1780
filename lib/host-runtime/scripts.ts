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
