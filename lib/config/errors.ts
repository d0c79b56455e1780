import type { z } from 'zod';

/** A configuration that failed validation; `problems` holds one line per problem, each naming its key path. */
export class ConfigError extends Error {
  public readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`Invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The config file is missing or not a file: one line naming the path and where it came from. */
export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

/** True for the errors whose message is written for the user (no stack trace needed). */
export function isConfigProblem(error: unknown): error is ConfigError | ConfigFileError {
  return error instanceof ConfigError || error instanceof ConfigFileError;
}

type PathKey = PropertyKey;

/** `environments.prod.account`, with `[0]` for list indexes. */
export function formatPath(path: readonly PathKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/** A short, quoted rendering of the offending value. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * Keys whose values may be secrets: a value under them is never repeated in an error (CI logs keep
 * errors). Names of things that hold secrets (`externalSecret`, `existingSecret`, `tlsSecretName`)
 * are not such keys, nor is a `secrets` section, which holds names and paths.
 */
const SECRET_KEY =
  /(passw|pwd|token|credential|private[-_]?key|api[-_]?key|access[-_]?key|secret[-_]?key|client[-_]?secret|cookie|session[-_]?key|signature|dsn|database[-_]?url|connection[-_]?string|^secret$|[-_]secret$|^auth(orization)?$)/i;

/** Every key of a mapping, nested ones included. */
function keysOf(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [...(Array.isArray(value) ? [] : [key]), ...keysOf(inner)]);
}

/** Shapes of credentials, wherever they appear: never repeated in an error either. */
const CREDENTIAL_SHAPES: readonly RegExp[] = [
  /:\/\/[^/\s]*@/, // a URL with user info (postgres://app:password@db/app)
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/, // an AWS access key id
  /-----BEGIN [A-Z ]*PRIVATE KEY/,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, // a JSON web token
  /\b(gh[pousr]_[A-Za-z0-9]{16,}|github_pat_|glpat-|xox[abprs]-|sk-[A-Za-z0-9_-]{16,})/, // GitHub, GitLab, Slack, API keys
  /(password|passwd|pwd|secret|token|api[-_]?key)\s*[=:]/i, // key=value pairs
  /\b(bearer|basic) [A-Za-z0-9+/._~=-]{8,}/i, // an Authorization header's value
];

/** A long run of letters and digits mixed: a key or token more likely than a name. */
function looksLikeToken(text: string): boolean {
  return (text.match(/[A-Za-z0-9+/_=-]{32,}/g) ?? []).some((run) => /\d/.test(run) && /[A-Za-z]/.test(run));
}

/**
 * Whether an offending value may be repeated in its error: numbers, booleans and null, and strings
 * that sit under no secret-ish key and look like no credential. Everything else is named by its key
 * path and rule only.
 */
export function mayEcho(path: readonly PathKey[], value: unknown): boolean {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return true;
  // Under a `secrets` section the keys name secrets (required, invalidatesSessions, reencrypt.<NAME>): not values.
  const secretsSection = path.indexOf('secrets');
  const keys = secretsSection >= 0 ? path.slice(0, secretsSection) : path;
  if (keys.some((key) => typeof key === 'string' && SECRET_KEY.test(key))) return false;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined || CREDENTIAL_SHAPES.some((shape) => shape.test(text)) || looksLikeToken(text)) return false;
  // A mapping or list is echoed only when none of its own keys is secret-ish ({"Authorization": ...}).
  return !keysOf(value).some((key) => SECRET_KEY.test(key));
}

function valueAt(root: unknown, path: readonly PathKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/**
 * Messages for zod's built-in checks, phrased as predicates ("is required", "must be a string")
 * so that they read well after "<path>: <value>". Fields with their own message keep it.
 */
export const predicateErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${issue.expected === 'object' || issue.expected === 'record' ? 'a mapping of keys to values' : `a ${issue.expected}`}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return undefined;
  }
};

/**
 * One line per problem: `<key path>: <value> <predicate>`, the value left out where it may be a
 * secret (`mayEcho`); unknown keys get a line each.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...issue.path, key])}: is not a known key (remove it or check its spelling)`);
      continue;
    }
    if (issue.code === 'invalid_key') {
      const key = issue.path[issue.path.length - 1];
      const reasons = issue.issues.map((inner) => inner.message).join('; ');
      lines.push(`${formatPath(issue.path)}: name ${formatValue(key)} ${reasons}`);
      continue;
    }
    // A custom issue about a whole mapping (e.g. an environment) may say its value is no help.
    const value = issue.code === 'custom' && issue.params?.showValue === false ? undefined : valueAt(input, issue.path);
    const where = formatPath(issue.path) || '(root)';
    lines.push(value === undefined || !mayEcho(issue.path, value) ? `${where}: ${issue.message}` : `${where}: ${formatValue(value)} ${issue.message}`);
  }
  return lines;
}
