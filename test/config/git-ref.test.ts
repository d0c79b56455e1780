import { GIT_REF_PATTERN, isGitRef, isPinnedGitRef } from '../../lib/config/git-ref';
import { hostDocumentSpecs } from '../../lib/host-runtime/documents';
import { parseArgs } from '../../scripts/ops/commands/parse-args';
import { configWith, problemsOf, shippedConfig, shippedConfigInput } from '../helpers/config-fixtures';
import { BAD_GIT_REFS, GOOD_GIT_REFS, PINNED_GIT_REFS, UNPINNED_GIT_REFS } from '../helpers/git-refs';
import { runCommand } from '../helpers/host-scripts';

/*
 * One git-ref grammar, checked over one table of good and bad refs in every place that takes a
 * ref: the config schema, the deploy document's allowedPattern, the ops CLI and deploy.sh.
 */

const configProblems = (ref: string) => {
  const raw = shippedConfigInput();
  raw.environments.dev.gitRef = ref;
  return problemsOf(raw);
};

describe.each(GOOD_GIT_REFS)('the good ref %s', (ref) => {
  test('is accepted by the grammar, the config schema and the ops CLI', () => {
    expect(isGitRef(ref)).toBe(true);
    expect(configProblems(ref)).toEqual([]);
    expect(parseArgs(['deploy', '--env', 'dev', '--ref', ref], ['dev', 'prod']).ref).toBe(ref);
  });
});

describe.each(BAD_GIT_REFS)('the bad ref %j', (ref) => {
  test('is refused by the grammar, the config schema and the ops CLI', () => {
    expect(isGitRef(ref)).toBe(false);
    expect(configProblems(ref).join('\n')).toMatch(/^environments\.dev\.gitRef: .*is not a git ref/);
    // (a ref that looks like an option, or none, is refused one step earlier as a missing value)
    expect(() => parseArgs(['deploy', '--env', 'dev', '--ref', ref], ['dev', 'prod'])).toThrow(
      /^ops deploy: (--ref "[\s\S]*" is not a git ref|--ref needs a value|unknown option)/,
    );
  });
});

test('the deploy document carries the grammar as its allowedPattern and in host.env', () => {
  const config = shippedConfig();
  const spec = hostDocumentSpecs(config.app, { name: 'dev', ...config.environments.dev }, { backupBucketName: 'b' }).find((s) => s.operation === 'deploy');
  expect(spec?.parameters.gitRef.allowedPattern).toBe(GIT_REF_PATTERN);
  expect(spec?.runCommand).toContain(`GIT_REF_PATTERN=${GIT_REF_PATTERN}`);
});

test('deploy.sh refuses every bad ref (exit 2) before taking the lock, with the shared pattern', async () => {
  for (const ref of BAD_GIT_REFS) {
    const result = await runCommand('bash', ['scripts/host/deploy.sh', ref], { APP_NAME: 'hostrt', STATE_DIR: '/nonexistent/state', GIT_REF_PATTERN });
    expect(result.stderr).toContain('is not an acceptable git ref');
    expect(result.code).toBe(2);
  }
  // A good ref gets past the grammar (and then fails on the missing state dir, not on the ref).
  const good = await runCommand('bash', ['scripts/host/deploy.sh', 'refs/tags/v1.8.2'], {
    APP_NAME: 'hostrt',
    STATE_DIR: '/nonexistent/state',
    GIT_REF_PATTERN,
  });
  expect(good.stderr).not.toContain('is not an acceptable git ref');
  expect(good.code).toBe(65);
});

describe('pinned refs', () => {
  test.each(PINNED_GIT_REFS)('%s is pinned', (ref) => expect(isPinnedGitRef(ref)).toBe(true));
  test.each(UNPINNED_GIT_REFS)('%s is not pinned', (ref) => expect(isPinnedGitRef(ref)).toBe(false));

  test('the shipped prod requires a pinned ref and pins a tag', () => {
    const prod = shippedConfig().environments.prod;
    expect(prod.requirePinnedRef).toBe(true);
    expect(prod.gitRef).toMatch(/^refs\/tags\//);
    expect(configWith(() => undefined).environments.dev.requirePinnedRef).toBe(false);
  });

  test('an environment that requires a pinned ref refuses a branch, with the key path', () => {
    const raw = shippedConfigInput();
    raw.environments.prod.gitRef = 'origin/master';
    expect(problemsOf(raw)).toEqual([
      'environments.prod.gitRef: "origin/master" is not pinned, and this environment has requirePinnedRef: true: use refs/tags/<tag> or a full 40-character commit sha',
    ]);
    raw.environments.prod.requirePinnedRef = false;
    expect(problemsOf(raw)).toEqual([]);
  });

  test('deploy.sh refuses an unpinned ref (exit 2) when REQUIRE_PINNED_REF=true', async () => {
    const result = await runCommand('bash', ['scripts/host/deploy.sh', 'main'], {
      APP_NAME: 'hostrt',
      STATE_DIR: '/nonexistent/state',
      GIT_REF_PATTERN,
      REQUIRE_PINNED_REF: 'true',
    });
    expect(result.stderr).toContain("'main' is not pinned");
    expect(result.code).toBe(2);
  });
});
