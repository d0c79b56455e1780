import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const identity = {
  GIT_AUTHOR_NAME: 'Fixture',
  GIT_AUTHOR_EMAIL: 'fixture@example.com',
  GIT_COMMITTER_NAME: 'Fixture',
  GIT_COMMITTER_EMAIL: 'fixture@example.com',
};

/** Runs git in `cwd` and returns its trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...identity }, stdio: 'pipe' })
    .toString()
    .trim();
}

/**
 * A bare "origin", an authoring clone that pushes commits to it, and the host's checkout
 * (`checkout`, the APP_DIR the scripts deploy), all real git repositories under `root`.
 */
export class GitFixture {
  readonly origin: string;
  readonly author: string;
  readonly checkout: string;

  constructor(readonly root: string) {
    this.origin = join(root, 'origin.git');
    this.author = join(root, 'author');
    this.checkout = join(root, 'host-checkout');
    mkdirSync(root, { recursive: true });
    git(root, 'init', '-q', '--bare', '-b', 'main', this.origin);
    git(root, 'init', '-q', '-b', 'main', this.author);
    git(this.author, 'remote', 'add', 'origin', this.origin);
  }

  /** Writes (or, for `null`, deletes) files, commits, optionally tags, pushes; returns the sha. */
  commit(files: Readonly<Record<string, string | null>>, message: string, tag?: string): string {
    for (const [path, content] of Object.entries(files)) {
      const file = join(this.author, path);
      if (content === null) {
        rmSync(file, { force: true });
      } else {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
    }
    git(this.author, 'add', '-A');
    git(this.author, 'commit', '-q', '-m', message);
    if (tag) git(this.author, 'tag', tag);
    git(this.author, 'push', '-q', '--tags', 'origin', 'HEAD:main');
    return git(this.author, 'rev-parse', 'HEAD');
  }

  /** Clones origin into the host checkout path (or `path`), as the host's first boot does. */
  cloneTo(path = this.checkout): string {
    git(this.root, 'clone', '-q', this.origin, path);
    return path;
  }
}
