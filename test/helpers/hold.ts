import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostScriptsDir, type ScriptResult, startCommand, waitForFile } from './host-scripts';

/*
 * A step of a host script held open, so a test can act on the script while it is there (signal it,
 * kill it): a command the script runs (python3, aws, curl...) shadowed on PATH by a wrapper that,
 * while the hold is armed, touches `reached` and waits until it is released, then runs the real one.
 */

export interface HeldCommand {
  /** PATH with the wrapper ahead (add it to the script's env). */
  readonly env: Record<string, string>;
  /** Touched when the script reaches the held command. */
  readonly reached: string;
  /** Arms the hold: the next call of the command waits. */
  hold(): void;
  /** Lets a waiting call go on, and later ones run at once. */
  release(): void;
}

/**
 * Shadows `name` with a wrapper in `dir/bin` that runs `real` (default: the `name` found on PATH
 * now); with `when` (a shell pattern), only a call whose arguments match it is held.
 */
export function heldCommand(dir: string, name: string, real?: string, when = '*'): HeldCommand {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const target =
    real ??
    execFileSync('sh', ['-c', `command -v ${name}`])
      .toString()
      .trim();
  const armed = join(dir, `${name}.hold`);
  const reached = join(dir, `${name}.reached`);
  writeFileSync(
    join(bin, name),
    [
      '#!/bin/sh',
      `if [ -e '${armed}' ]; then case "$*" in ${when}) touch '${reached}'; while [ -e '${armed}' ]; do sleep 0.05; done ;; esac; fi`,
      `exec '${target}' "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return {
    env: { PATH: `${bin}:${process.env.PATH}` },
    reached,
    hold() {
      rmSync(reached, { force: true });
      writeFileSync(armed, '');
    },
    release() {
      rmSync(armed, { force: true });
    },
  };
}

/**
 * Runs scripts/host/`script` until it reaches the held command, sends it SIGTERM there, lets the
 * command go on (bash runs its trap once the command it waits for ends), and returns the run.
 */
export async function terminatedAt(held: HeldCommand, script: string, args: readonly string[], env: Record<string, string>): Promise<ScriptResult> {
  held.hold();
  const started = startCommand('bash', [join(hostScriptsDir, script), ...args], { ...env, ...held.env });
  try {
    await Promise.race([waitForFile(held.reached, 600_000), started.done]);
    if (!existsSync(held.reached)) throw new Error(`${script} ended before it reached the held command: ${(await started.done).stderr}`);
    process.kill(started.pid, 'SIGTERM');
  } finally {
    held.release();
  }
  return started.done;
}

/**
 * The lock `lock` held (flock, as the host scripts take it) by a live process whose record is
 * `record` (`op=... key=...`, after its pid); resolves once the record is there. `release` ends it.
 */
export async function lockHeldBy(lock: string, record: string): Promise<{ release(): Promise<void> }> {
  // flock -o: only flock itself holds the lock (its command does not inherit it), so killing flock
  // releases it; the command execs into the sleep whose pid the record names (alive while held).
  const holder = startCommand('flock', ['-o', lock, 'sh', '-c', `echo "pid=$$ ${record}" > '${lock}'; exec sleep 600`]);
  const deadline = Date.now() + 60_000;
  while (!(existsSync(lock) && readFileSync(lock, 'utf8').includes(record))) {
    if (Date.now() > deadline) throw new Error(`flock did not take ${lock} within 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async release() {
      const sleeper = Number(/pid=(\d+)/.exec(readFileSync(lock, 'utf8'))?.[1]);
      process.kill(holder.pid, 'SIGKILL');
      await holder.done;
      if (sleeper) {
        try {
          process.kill(sleeper, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
}
