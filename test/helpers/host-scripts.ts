import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { projectRoot } from './paths';

/** Where the reviewed host scripts live. */
export const hostScriptsDir = resolve(projectRoot, 'scripts/host');

/** Outcome of one script run. */
export interface ScriptResult {
  readonly code: number | null;
  /** The process id of the command (a host script's own `pid=` in its audit lines). */
  readonly pid?: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr, for asserting on messages wherever they were printed. */
  readonly output: string;
}

/**
 * Runs a command asynchronously (servers started in the test process keep answering meanwhile),
 * with `env` added to the test's environment. Never rejects on a non-zero exit: tests assert it.
 */
export function runCommand(command: string, args: readonly string[], env: Readonly<Record<string, string>> = {}, cwd?: string): Promise<ScriptResult> {
  return new Promise((resolvePromise, reject) => {
    const child = track(spawn(command, [...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, pid: child.pid, stdout, stderr, output: `${stdout}\n${stderr}` }));
  });
}

/** Commands started by this module that have not ended yet. */
const running = new Set<ChildProcess>();

function track<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once('close', () => running.delete(child));
  return child;
}

/**
 * Kills (SIGKILL) the commands this module started that are still running, and waits for them to
 * end: after a test that failed or timed out, its script must not go on changing the host under the
 * next test (one failure, not a cascade of them). Returns how many were still running.
 */
export async function stopStrayCommands(): Promise<number> {
  const stray = [...running];
  await Promise.all(
    stray.map(
      (child) =>
        new Promise<void>((done) => {
          child.once('close', () => done());
          child.kill('SIGKILL');
        }),
    ),
  );
  return stray.length;
}

/** Runs `scripts/host/<name>` with bash. */
export function runHostScript(name: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<ScriptResult> {
  return runCommand('bash', [resolve(hostScriptsDir, name), ...args], env);
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 60_000): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The body of an HTTP GET, or the error's message (so a test can assert what is served). */
export async function httpBody(url: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    return `${response.status} ${(await response.text()).trim()}`;
  } catch (error) {
    return `error ${(error as Error).message}`;
  }
}

/** A small executable that appends its arguments (one line per call) to `logFile`, then runs `body`. */
export function recorderScript(logFile: string, body = 'exit 0'): string {
  return `#!/usr/bin/env bash\nprintf '%s\\n' "$(basename "$0") $*" >> '${logFile}'\n${body}\n`;
}

/** A command started in the background: its pid (to kill -9 it) and its outcome. */
export interface StartedCommand {
  readonly pid: number;
  readonly done: Promise<ScriptResult>;
}

/** Starts a command like `runCommand` without waiting for it. */
export function startCommand(command: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): StartedCommand {
  const child = track(spawn(command, [...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<ScriptResult>((resolvePromise, reject) => {
    child.on('error', reject);
    const result = (code: number | null, signal: NodeJS.Signals | null) => ({
      code: code ?? (signal ? -1 : null),
      pid: child.pid,
      stdout,
      stderr,
      output: `${stdout}\n${stderr}`,
    });
    // A killed script's orphaned children (a compose call held by a fault) may keep its pipes open
    // until the test releases them, so a kill is done when the process exits, not when pipes close.
    child.on('exit', (code, signal) => {
      if (signal) resolvePromise(result(code, signal));
    });
    child.on('close', (code, signal) => resolvePromise(result(code, signal)));
  });
  return { pid: child.pid as number, done };
}

/** Resolves once `path` exists, or rejects after `timeoutMs` (for a step of a script to be reached). */
export async function waitForFile(path: string, timeoutMs = 600_000): Promise<void> {
  const { existsSync } = await import('node:fs');
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
