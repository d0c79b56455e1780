/**
 * The shared table of good and bad git refs: every place that checks a ref (config schema, SSM
 * allowedPattern, ops CLI, deploy.sh) is tested over these same rows.
 */
export const GOOD_GIT_REFS: readonly string[] = [
  'main',
  'origin/master',
  'v1.8.2',
  'refs/tags/v1.8.2',
  'release/2024-05',
  'feature/x_y-z',
  '4f2a9c1e0b7d6a5c3e1f2a9c1e0b7d6a5c3e1f2a',
  '4f2a9c1',
  'a'.repeat(200),
];

export const BAD_GIT_REFS: readonly string[] = [
  '',
  'main..evil',
  'v1..v2',
  "v1'; reboot; '",
  'v1;reboot',
  '$(reboot)',
  '`reboot`',
  '--upload-pack=evil',
  '-v',
  'a b',
  'v1\nreboot',
  'origin//main',
  '.hidden',
  'a/.b',
  'trailing/',
  'trailing.',
  'HEAD~1',
  'v1^0',
  'main@{1}',
  'refs/heads/x:y',
  'a'.repeat(201),
];

/** Pinned refs (a tag named explicitly or a full commit) and refs that are not pinned. */
export const PINNED_GIT_REFS: readonly string[] = ['refs/tags/v1.8.2', '4f2a9c1e0b7d6a5c3e1f2a9c1e0b7d6a5c3e1f2a'];
export const UNPINNED_GIT_REFS: readonly string[] = ['origin/master', 'main', 'v1.8.2', '4f2a9c1'];
