/**
 * The one grammar of a git ref an environment may deploy, shared by the config schema, the SSM
 * deploy document's `allowedPattern`, the ops CLI and `scripts/host/deploy.sh` (which receives it
 * in host.env as GIT_REF_PATTERN). Each of them used to carry its own regex, and they disagreed.
 *
 * A ref is `/`-separated components; a component starts with a letter, digit or `_`, and a `.`
 * or `/` is always followed by one of `[A-Za-z0-9_-]`. So no leading `-` (an option to git), no
 * `..` (a revision range), no `//`, no component starting with `.`, no trailing `.` or `/`, and
 * nothing a shell or git revision syntax gives meaning to (`$ ; ' " \` space ~ ^ : @{`).
 * The pattern has no look-arounds, so POSIX ERE (bash `[[ =~ ]]`), JavaScript and SSM's
 * `allowedPattern` read it the same way. The length limit, 200 characters, is checked beside the
 * pattern (by `isGitRef` and deploy.sh): a bounded repetition cannot count characters here.
 */
export const GIT_REF_PATTERN = '^[A-Za-z0-9_]([A-Za-z0-9_-]|[./][A-Za-z0-9_-]){0,199}$';

/** A full commit sha (SHA-1): a pinned ref. */
export const FULL_COMMIT_PATTERN = '^[0-9a-f]{40}$';

/** An explicit tag, `refs/tags/<name>`: a pinned ref that can never be read as a branch. */
export const TAG_REF_PATTERN = '^refs/tags/[A-Za-z0-9_]([A-Za-z0-9_-]|[./][A-Za-z0-9_-]){0,189}$';

const gitRefRegex = new RegExp(GIT_REF_PATTERN);

/** True when `ref` is in the grammar and at most 200 characters long. */
export function isGitRef(ref: string): boolean {
  return ref.length <= 200 && gitRefRegex.test(ref);
}

/** True when `ref` pins one commit: a full sha or `refs/tags/<name>` (deploy.sh refuses a tag that moved). */
export function isPinnedGitRef(ref: string): boolean {
  return isGitRef(ref) && (new RegExp(FULL_COMMIT_PATTERN).test(ref) || new RegExp(TAG_REF_PATTERN).test(ref));
}

/** Why `ref` is refused, or undefined when it is a git ref; one line, naming the value. */
export function gitRefProblem(ref: string): string | undefined {
  if (isGitRef(ref)) return undefined;
  return `"${ref}" is not a git ref (a branch, refs/tags/<tag>, origin/<branch> or commit sha: letters, digits, '_-' and single '.' or '/' between them; no '..', no leading '-' or '.', at most 200 characters)`;
}
