import { resolve } from 'node:path';
import { type NginxStartSettings, nginxDropIn } from '../../lib/host-runtime/nginx';
import { hostScriptsDir, runCommand, type ScriptResult } from './host-scripts';
import type { Nginx } from './nginx';

/*
 * nginx started as systemd starts it on the host: the pre-start step of the drop-in the first
 * boot writes (lib/host-runtime/nginx.ts), read back from the drop-in's own text, then nginx. The
 * drop-in is built for this test host's paths and the reviewed script in scripts/host/.
 */

/** The drop-in's `Environment=` settings and its `ExecStartPre=` command. */
export interface PreStart {
  readonly command: string;
  readonly env: Record<string, string>;
}

/** Reads the pre-start step out of a drop-in's text. */
export function preStartOf(dropIn: string): PreStart {
  const env: Record<string, string> = {};
  let command = '';
  for (const line of dropIn.split('\n')) {
    const setting = /^Environment=([A-Z_]+)=(.*)$/.exec(line);
    if (setting) env[setting[1]] = setting[2];
    const pre = /^ExecStartPre=(.+)$/.exec(line);
    if (pre) command = pre[1];
  }
  if (command === '') throw new Error(`no ExecStartPre= in the drop-in:\n${dropIn}`);
  return { command, env };
}

/** The pre-start step of the drop-in for a test host (the state file and include given, the script of scripts/host/). */
export function testPreStart(settings: Omit<NginxStartSettings, 'scriptPath'>): PreStart {
  return preStartOf(nginxDropIn({ ...settings, scriptPath: resolve(hostScriptsDir, 'nginx-upstream.sh') }));
}

/**
 * Starts `nginx` as systemd would: the pre-start step with only the drop-in's environment (and
 * PATH), then nginx, unless the step failed (systemd then does not start it). Returns the step's run.
 */
export async function startAsSystemd(nginx: Nginx, preStart: PreStart): Promise<ScriptResult> {
  // The installed copy is executable (chmod 0755 at first boot); the reviewed file runs with bash.
  const env = Object.entries(preStart.env).map(([k, v]) => `${k}=${v}`);
  const step = await runCommand('env', ['-i', `PATH=${process.env.PATH}`, ...env, 'bash', preStart.command]);
  if (step.code === 0) nginx.start();
  return step;
}
