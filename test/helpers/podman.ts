import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Real containers without a Docker engine: podman with runc (the default crun fails on this
 * machine's rlimits and cgroups) and images built locally FROM scratch, since no registry answers.
 */

/** Writes a containers.conf selecting runc with no default ulimits; returns the env podman needs. */
export function podmanEnv(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n');
  return { CONTAINERS_CONF: conf };
}

/**
 * Builds `tag`: a FROM-scratch image holding only Debian's static busybox at /bin/busybox.
 * App images layer a web root and `busybox httpd` on top of it, so their builds take a second.
 */
export function buildBusyboxImage(tag: string, dir: string, env: Record<string, string>): void {
  const context = join(dir, 'busybox-context');
  mkdirSync(join(context, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(context, 'bin/busybox'));
  writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY bin /bin\n');
  execFileSync('podman', ['build', '-q', '-t', tag, '-f', join(context, 'Containerfile'), context], { env: { ...process.env, ...env }, stdio: 'pipe' });
}

/** Removes every container of a compose project (by label) and the given images; ignores absent ones. */
export function removePodmanProject(project: string, images: readonly string[], env: Record<string, string>): void {
  const options = { env: { ...process.env, ...env }, stdio: 'pipe' as const };
  const ids = execFileSync('podman', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`], options)
    .toString()
    .split('\n')
    .filter(Boolean);
  if (ids.length > 0) execFileSync('podman', ['rm', '-f', '-t', '0', ...ids], options);
  try {
    execFileSync('podman', ['network', 'rm', '-f', `${project}_default`], options);
  } catch {
    // no network left behind
  }
  for (const image of images) {
    try {
      execFileSync('podman', ['rmi', '-f', image], options);
    } catch {
      // already gone
    }
  }
}

/**
 * Writes an executable that runs podman-compose and, for `build`, fails when podman did.
 * podman-compose 1.0 (Debian bookworm) prints "exit code: N" for each podman call it makes but
 * exits 0 even when `podman build` failed; `docker compose` on the host fails properly.
 * `run` likewise exits 0 whatever its container did: the wrapper exits with that container's code.
 * Returns its path, for COMPOSE_CMD.
 */
export function strictPodmanCompose(dir: string): string {
  const path = join(dir, 'podman-compose-strict');
  writeFileSync(
    path,
    [
      '#!/usr/bin/env bash',
      'case " $* " in',
      '  *" build "*)',
      '    out=$(mktemp)',
      '    podman-compose "$@" >"$out" 2>&1; rc=$?',
      '    cat "$out" >&2',
      '    if [ "$rc" -eq 0 ] && grep -Eq "^exit code: [1-9]" "$out"; then rc=1; fi',
      '    rm -f "$out"; exit "$rc" ;;',
      // `run` (the one-shot migration) exits 0 too; the one-shot container is its last podman call.
      '  *" run "*)',
      '    out=$(mktemp)',
      '    podman-compose "$@" >"$out" 2>&1; rc=$?',
      '    cat "$out"',
      '    last=$(grep -E "^exit code: [0-9]+" "$out" | tail -n 1)',
      '    if [ "$rc" -eq 0 ] && [ -n "$last" ] && [ "$last" != "exit code: 0" ]; then rc=$(printf %s "$last" | tr -dc 0-9); fi',
      '    rm -f "$out"; exit "$rc" ;;',
      '  *) exec podman-compose "$@" ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return path;
}
