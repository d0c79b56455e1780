import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../helpers/paths';

/*
 * `npm test`'s pretest step, run for real with stand-ins for dpkg-query, id, sudo and apt-get:
 * it installs what is missing when it can, and otherwise stops at once with one line.
 */

const script = join(projectRoot, 'scripts/ci/ensure-system-packages.sh');
const TOOLS = ['awk', 'grep', 'mktemp', 'env', 'rm', 'head', 'tail', 'cat'];

function toolPath(tool: string): string {
  const found = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${tool} not found`);
  return found;
}

/** A PATH whose dpkg-query knows `installed` only; `uid` is what id -u says; apt-get records its arguments. */
function machine(options: { installed: string[]; uid: number; sudo?: boolean; aptFails?: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'ensure-pkgs-'));
  const calls = join(dir, 'calls');
  writeFileSync(calls, '');
  const stub = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  stub('dpkg-query', `shift 2; for p in "$@"; do case " ${options.installed.join(' ')} " in *" $p "*) echo "$p install ok installed";; esac; done`);
  stub('id', `echo ${options.uid}`);
  stub('apt-get', `echo "apt-get $*" >> '${calls}'; ${options.aptFails ? 'echo "E: Unable to locate package podman" >&2; exit 100' : 'exit 0'}`);
  if (options.sudo) stub('sudo', `[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; echo "sudo $*" >> '${calls}'; "$@"`);
  // Only the stand-ins and the plain tools the script uses: no real sudo, apt-get or dpkg-query.
  for (const tool of TOOLS) symlinkSync(toolPath(tool), join(dir, tool));
  const result = spawnSync('/bin/bash', [script], { env: { PATH: dir }, encoding: 'utf8' });
  return { ...result, calls: readFileSync(calls, 'utf8') };
}

const ALL = [
  'git',
  'podman',
  'runc',
  'podman-compose',
  'busybox-static',
  'postgresql',
  'postgresql-client',
  'awscli',
  'shellcheck',
  'nftables',
  'nginx',
  'util-linux',
  'graphviz',
  'ca-certificates',
];
const withoutPodman = ALL.filter((p) => p !== 'podman' && p !== 'busybox-static');

test('does nothing when every package is installed', () => {
  const result = machine({ installed: ALL, uid: 1000 });
  expect(result.status).toBe(0);
  expect(result.stderr).toBe('');
  expect(result.calls).toBe('');
});

test('without root or sudo, stops at once with one line naming the packages', () => {
  const result = machine({ installed: withoutPodman, uid: 1000 });
  expect(result.status).toBe(1);
  expect(result.stderr).toBe(
    'npm test: the host tests need Debian packages that are not installed: podman busybox-static; install them with: sudo apt-get install -y podman busybox-static\n',
  );
  expect(result.calls).toBe('');
});

test('as root, installs exactly the missing packages', () => {
  const result = machine({ installed: withoutPodman, uid: 0 });
  expect(result.status).toBe(0);
  expect(result.calls).toBe('apt-get update -qq\napt-get install -y -qq --no-install-recommends podman busybox-static\n');
});

test('with passwordless sudo, installs through sudo', () => {
  const result = machine({ installed: withoutPodman, uid: 1000, sudo: true });
  expect(result.status).toBe(0);
  expect(result.calls).toContain('apt-get install -y -qq --no-install-recommends podman busybox-static');
  expect(result.calls).toContain('sudo env DEBIAN_FRONTEND=noninteractive apt-get install');
});

test("a failed install is one line with apt's own error", () => {
  const result = machine({ installed: withoutPodman, uid: 0, aptFails: true });
  expect(result.status).toBe(1);
  expect(result.stderr.trimEnd().split('\n')).toEqual([
    'npm test: installing the Debian packages the host tests need: podman busybox-static',
    'npm test: apt-get could not install podman busybox-static: E: Unable to locate package podman',
  ]);
});
