import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Nginx } from './nginx';
import type { PreStart } from './nginx-boot';

/*
 * Faults at the steps of a blue/green switch (scripts/host/switch.sh), injected by wrapping what
 * the switch runs at each step: the new colour's health poll (curl, ahead on PATH), the smoke
 * through nginx (python3 running smoke.py, ahead on PATH), the check and the reload of nginx (NGINX_TEST_CMD, NGINX_RELOAD_CMD), and the
 * old colour's stop after the release was recorded (COMPOSE_CMD). A step is armed with an action
 * by a file in the fault directory; it fires once, the first time the switch reaches the step:
 * - `die`: nginx dies (SIGKILL to its master and workers) and stays dead;
 * - `restart`: nginx dies and systemd starts it again (the drop-in's pre-start step, then nginx);
 * - `hold`: touch `held` and wait while the step stays armed (the test kills or signals the script).
 */

/** The steps of a switch, in the order a deploy reaches them. */
export const SWITCH_STEPS = [
  /** The new colour is up, its health is being polled on its own port: nginx still on the old colour. */
  'colour-health',
  /** The include names the new colour; `nginx -t` is about to check it. */
  'include-written',
  /** Checked; the graceful reload is about to be sent. */
  'before-reload',
  /** Reloaded: nginx sends new connections to the new colour. */
  'after-reload',
  /** The smoke through nginx (smoke.py) is about to send its first request. */
  'public-smoke',
  /** The release and its colour are recorded; the old colour is about to be stopped. */
  'after-record',
] as const;
export type SwitchStep = (typeof SWITCH_STEPS)[number];
export type SwitchFault = 'die' | 'restart' | 'hold';

export interface SwitchFaults {
  /** Settings that put the wrappers in front of the host's own (add them to the script's env). */
  readonly env: Record<string, string>;
  arm(step: SwitchStep, fault: SwitchFault): void;
  /** Whether an armed step was reached (and its fault injected). */
  fired(step: SwitchStep): boolean;
  /** Lets a held step go on. */
  release(step: SwitchStep): void;
  /** The file a `hold` touches when reached. */
  readonly heldFile: string;
  clear(): void;
}

/**
 * Writes the wrappers under `dir` for a host whose nginx is `nginx`, whose settings are `env`
 * (NGINX_TEST_CMD, NGINX_RELOAD_CMD, COMPOSE_CMD, the colour ports, PUBLIC_SMOKE_URL) and whose
 * nginx starts through `preStart` on the host.
 */
export function switchFaults(dir: string, nginx: Nginx, env: Record<string, string>, preStart: PreStart): SwitchFaults {
  const faults = join(dir, 'faults');
  const bin = join(dir, 'bin');
  mkdirSync(faults, { recursive: true });
  mkdirSync(bin, { recursive: true });
  const realCurl = execFileSync('sh', ['-c', 'command -v curl']).toString().trim();
  const preStartEnv = Object.entries(preStart.env)
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
  // at STEP: inject the fault armed for STEP (once), from inside the wrapped command.
  const at = join(dir, 'at');
  writeFileSync(
    at,
    [
      '#!/usr/bin/env bash',
      `faults='${faults}'`,
      'step=$1',
      '[ -f "$faults/$step" ] || exit 0',
      'fault=$(cat "$faults/$step")',
      'touch "$faults/$step.fired"',
      'case $fault in',
      `  die) ${nginx.killCommand}; rm -f "$faults/$step" ;;`,
      `  restart) ${nginx.killCommand}; env -i PATH="$PATH" ${preStartEnv} bash '${preStart.command}' && ${nginx.startCommand}; rm -f "$faults/$step" ;;`,
      '  hold) touch "$faults/held"; while [ -f "$faults/$step" ]; do sleep 0.05; done ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const wrapper = (name: string, body: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, ['#!/usr/bin/env bash', ...body, ''].join('\n'), { mode: 0o755 });
    return path;
  };
  const colourPorts = `${env.BLUE_PORT}|${env.GREEN_PORT}`;
  writeFileSync(
    join(bin, 'curl'),
    [
      '#!/usr/bin/env bash',
      'for arg in "$@"; do',
      '  case $arg in',
      '    http://127.0.0.1:*)',
      `      port=\${arg#http://127.0.0.1:}; port=\${port%%/*}`,
      `      case $port in ${colourPorts}) '${at}' colour-health ;; esac ;;`,
      '  esac',
      'done',
      `exec '${realCurl}' "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  // The smoke through nginx is smoke.py (smoke.sh execs python3 with the base URL as its last argument).
  const realPython = execFileSync('sh', ['-c', 'command -v python3']).toString().trim();
  writeFileSync(
    join(bin, 'python3'),
    [
      '#!/usr/bin/env bash',
      `case \${@: -1} in '${env.PUBLIC_SMOKE_URL}' | '${env.PUBLIC_SMOKE_URL}'/*) '${at}' public-smoke ;; esac`,
      `exec '${realPython}' "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const test = wrapper('nginx-test', [`'${at}' include-written`, `exec ${env.NGINX_TEST_CMD}`]);
  const reload = wrapper('nginx-reload', [`'${at}' before-reload`, `${env.NGINX_RELOAD_CMD} || exit $?`, `'${at}' after-reload`]);
  const compose = wrapper('compose', [`case " $* " in *" down "*) '${at}' after-record ;; esac`, `exec '${env.COMPOSE_CMD}' "$@"`]);
  return {
    env: { PATH: `${bin}:${process.env.PATH}`, NGINX_TEST_CMD: test, NGINX_RELOAD_CMD: reload, COMPOSE_CMD: compose },
    arm(step, fault) {
      writeFileSync(join(faults, step), fault);
    },
    fired: (step) => existsSync(join(faults, `${step}.fired`)),
    release(step) {
      rmSync(join(faults, step), { force: true });
    },
    heldFile: join(faults, 'held'),
    clear() {
      for (const name of readdirSync(faults)) rmSync(join(faults, name), { force: true });
    },
  };
}
