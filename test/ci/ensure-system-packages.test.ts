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
const TOOLS = ['awk', 'grep', 'mktemp', 'env', 'rm', 'head', 'tail', 'cat', 'sed', 'sleep'];

function toolPath(tool: string): string {
  const found = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${tool} not found`);
  return found;
}

/**
 * A PATH whose dpkg-query knows `installed` only; `uid` is what id -u says; apt-get records its
 * arguments. `lockedFor` apt-get calls fail first as when another apt-get holds the lock.
 */
function machine(options: { installed: string[]; uid: number; sudo?: boolean; aptFails?: boolean; lockedFor?: number; lockWaitSeconds?: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'ensure-pkgs-'));
  const calls = join(dir, 'calls');
  writeFileSync(calls, '');
  const stub = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  stub('dpkg-query', `shift 2; for p in "$@"; do case " ${options.installed.join(' ')} " in *" $p "*) echo "$p install ok installed";; esac; done`);
  stub('id', `echo ${options.uid}`);
  const locked = join(dir, 'locked');
  writeFileSync(locked, `${options.lockedFor ?? 0}`);
  stub(
    'apt-get',
    [
      `echo "apt-get $*" >> '${calls}'`,
      // Exactly apt's message when another process holds the lists lock (apt 2.6).
      `n=$(cat '${locked}'); if [ "$n" -gt 0 ]; then echo $((n - 1)) > '${locked}'; echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2; exit 100; fi`,
      options.aptFails ? 'echo "E: Unable to locate package podman" >&2; exit 100' : 'exit 0',
    ].join('\n'),
  );
  if (options.sudo) stub('sudo', `[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; echo "sudo $*" >> '${calls}'; "$@"`);
  // Only the stand-ins and the plain tools the script uses: no real sudo, apt-get or dpkg-query.
  for (const tool of TOOLS) symlinkSync(toolPath(tool), join(dir, tool));
  const env = { PATH: dir, APT_LOCK_RETRY_SECONDS: '0', APT_LOCK_WAIT_SECONDS: `${options.lockWaitSeconds ?? 600}` };
  const result = spawnSync('/bin/bash', [script], { env, encoding: 'utf8' });
  return { ...result, calls: readFileSync(calls, 'utf8') };
}

/** The script's own list (one list, read from the script, so adding a package needs no edit here). */
const ALL = (/^PACKAGES=\(([^)]*)\)$/m.exec(readFileSync(script, 'utf8'))?.[1] ?? '').split(/\s+/).filter(Boolean);

test('the list is read from the script (a parse that found nothing would make the tests below vacuous)', () => {
  expect(ALL).toEqual(expect.arrayContaining(['git', 'podman', 'busybox-static', 'postgresql', 'nginx', 'graphviz']));
});
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
  expect(result.calls).toBe(
    'apt-get -o DPkg::Lock::Timeout=600 update -qq\napt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends podman busybox-static\n',
  );
});

test('with passwordless sudo, installs through sudo', () => {
  const result = machine({ installed: withoutPodman, uid: 1000, sudo: true });
  expect(result.status).toBe(0);
  expect(result.calls).toContain('apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends podman busybox-static');
  expect(result.calls).toContain('sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install');
});

test("a failed install is one line with apt's own error", () => {
  const result = machine({ installed: withoutPodman, uid: 0, aptFails: true });
  expect(result.status).toBe(1);
  expect(result.stderr.trimEnd().split('\n')).toEqual([
    'npm test: installing the Debian packages the host tests need: podman busybox-static',
    'npm test: apt-get could not install podman busybox-static: E: Unable to locate package podman',
  ]);
});

describe('another apt-get holding the lock', () => {
  test('is waited for (bounded) with one line naming the holder, then the install goes on', () => {
    const result = machine({ installed: withoutPodman, uid: 0, lockedFor: 3 });
    expect(result.status).toBe(0);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'npm test: installing the Debian packages the host tests need: podman busybox-static',
      'npm test: waiting up to 600 s for the apt lock: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)',
    ]);
    const calls = result.calls.trimEnd().split('\n');
    expect(calls).toEqual([
      ...Array(4).fill('apt-get -o DPkg::Lock::Timeout=600 update -qq'),
      expect.stringMatching(/ install -y -qq --no-install-recommends podman busybox-static$/),
    ]);
  });

  test("past the deadline, stops with one line and apt's own message", () => {
    const result = machine({ installed: withoutPodman, uid: 0, lockedFor: 1_000_000, lockWaitSeconds: 0 });
    expect(result.status).toBe(1);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(
      'npm test: apt-get could not install podman busybox-static: E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)',
    );
    expect(result.calls).not.toContain(' install ');
  });

  test('dpkg itself is told to wait for its lock as long', () => {
    const result = machine({ installed: withoutPodman, uid: 0, lockWaitSeconds: 120 });
    expect(result.calls).toContain('apt-get -o DPkg::Lock::Timeout=120 install -y');
  });
});
