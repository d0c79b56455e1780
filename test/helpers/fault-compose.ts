import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a COMPOSE_CMD that runs `inner` (e.g. strictPodmanCompose) and injects faults named by
 * files in `faultDir`, so a test can break a deploy at a chosen step of the real flow:
 * - `fail-up`: every `up` fails before touching a container;
 * - `hold-after-up`: after a real `up`, touch `held` and wait while `hold-after-up` exists;
 * every real `up` touches `up-done` when it finished. Returns its path.
 */
export function faultCompose(dir: string, inner: string, faultDir: string): string {
  const path = join(dir, 'compose-with-faults');
  writeFileSync(
    path,
    [
      '#!/usr/bin/env bash',
      `faults='${faultDir}'`,
      'case " $* " in',
      '  *" up "*)',
      '    if [ -e "$faults/fail-up" ]; then echo "injected fault: compose up fails" >&2; exit 1; fi',
      `    '${inner}' "$@" || exit $?`,
      '    touch "$faults/up-done"',
      '    if [ -e "$faults/hold-after-up" ]; then',
      '      touch "$faults/held"',
      '      while [ -e "$faults/hold-after-up" ]; do sleep 0.05; done',
      '    fi ;;',
      `  *) exec '${inner}' "$@" ;;`,
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return path;
}
