import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git as gitRaw } from '../helpers/git-fixture';
import { projectRoot } from '../helpers/paths';

/*
 * The push of one part of the rendered manifests (scripts/ci/push-rendered.sh), run for real: git
 * against a bare "origin", a pre-receive hook standing in for a parallel deploy that pushed first.
 */
const git = (cwd: string, ...args: string[]) => gitRaw(cwd, ...args).trim();

describe('push-rendered.sh: one part of dist/ to the rendered branch, with real git', () => {
  const script = join(projectRoot, 'scripts/ci/push-rendered.sh');

  function setup() {
    const root = mkdtempSync(join(tmpdir(), 'push-rendered-'));
    const origin = join(root, 'origin.git');
    git(root, 'init', '--quiet', '--bare', origin);
    const repo = join(root, 'repo');
    git(root, 'clone', '--quiet', origin, repo);
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '--allow-empty', '-m', 'main');
    git(repo, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    const dist = join(root, 'synth', 'dist');
    for (const [part, file, body] of [
      ['dev', 'app.k8s.yaml', 'kind: Deployment # dev\n'],
      ['prod', 'app.k8s.yaml', 'kind: Deployment # prod\n'],
      ['argocd', 'apps.k8s.yaml', 'kind: Application\n'],
    ]) {
      mkdirSync(join(dist, part), { recursive: true });
      writeFileSync(join(dist, part, file), body);
    }
    const push = (part: string, env: Record<string, string> = {}) =>
      spawnSync('bash', [script, dist, part, 'rendered', 'abc123'], { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env } });
    const show = (path: string) => git(origin, 'show', `rendered:${path}`);
    return { root, origin, repo, dist, push, show };
  }

  test('the first push creates the branch with that part only; the next adds another part and leaves the first as it was', () => {
    const s = setup();
    const dev = s.push('dev');
    expect([dev.status, dev.stdout]).toEqual([0, 'dist/dev pushed to rendered (from abc123)\n']);
    expect(git(s.origin, 'ls-tree', '-r', '--name-only', 'rendered')).toBe('dist/dev/app.k8s.yaml');
    writeFileSync(join(s.dist, 'dev', 'app.k8s.yaml'), 'kind: Deployment # dev, a later change not yet deployed\n');
    expect(s.push('prod').status).toBe(0);
    expect(git(s.origin, 'ls-tree', '-r', '--name-only', 'rendered').split('\n')).toEqual(['dist/dev/app.k8s.yaml', 'dist/prod/app.k8s.yaml']);
    expect(s.show('dist/dev/app.k8s.yaml')).toBe('kind: Deployment # dev');
    expect(git(s.origin, 'log', '--format=%s', 'rendered').split('\n')).toEqual(['Render dist/prod from abc123', 'Render dist/dev from abc123']);
  });

  test('unchanged: no commit', () => {
    const s = setup();
    s.push('dev');
    const again = s.push('dev');
    expect([again.status, again.stdout]).toEqual([0, 'dist/dev unchanged on rendered\n']);
    expect(git(s.origin, 'rev-list', '--count', 'rendered')).toBe('1');
  });

  test('a file removed from the part is removed from the branch', () => {
    const s = setup();
    writeFileSync(join(s.dist, 'dev', 'extra.k8s.yaml'), 'kind: ConfigMap\n');
    s.push('dev');
    execFileSync('rm', [join(s.dist, 'dev', 'extra.k8s.yaml')]);
    s.push('dev');
    expect(git(s.origin, 'ls-tree', '-r', '--name-only', 'rendered')).toBe('dist/dev/app.k8s.yaml');
  });

  test('a push rejected because another deploy pushed first is retried on the newer branch', () => {
    const s = setup();
    s.push('dev');
    // The origin refuses the next push once, as when a parallel deploy got there first.
    const hook = join(s.origin, 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\nif [ ! -f "${s.root}/refused" ]; then touch "${s.root}/refused"; exit 1; fi\nexit 0\n`);
    chmodSync(hook, 0o755);
    const prod = s.push('prod');
    expect(prod.status).toBe(0);
    expect(prod.stderr).toContain(
      'push-rendered: push of dist/prod to rendered rejected (attempt 1 of 5): another deploy pushed first; retrying on the newer rendered',
    );
    expect(git(s.origin, 'ls-tree', '-r', '--name-only', 'rendered').split('\n')).toEqual(['dist/dev/app.k8s.yaml', 'dist/prod/app.k8s.yaml']);
  });

  test('every push rejected: exit 1 with the next thing to do', () => {
    const s = setup();
    const hook = join(s.origin, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\nexit 1\n');
    chmodSync(hook, 0o755);
    const result = s.push('dev', { PUSH_RENDERED_ATTEMPTS: '2' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n').pop()).toBe('push-rendered: every push of dist/dev to rendered was rejected; re-run this job');
  });

  test('usage: a part that is not one directory of the output, or has no manifests', () => {
    const s = setup();
    expect(s.push('../etc').status).toBe(2);
    expect(s.push('staging')).toMatchObject({
      status: 2,
      stderr: `push-rendered: ${s.dist}/staging does not exist: the synth output has no manifests for staging\n`,
    });
    expect(spawnSync('bash', [script], { encoding: 'utf8' }).status).toBe(2);
    expect(readFileSync(script, 'utf8')).toMatch(/^#!\/usr\/bin\/env bash\n/);
  });
});
