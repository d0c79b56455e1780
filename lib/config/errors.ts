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

/** One line per problem: `<key path>: <value> <predicate>`; unknown keys get a line each. */
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
    lines.push(value === undefined ? `${where}: ${issue.message}` : `${where}: ${formatValue(value)} ${issue.message}`);
  }
  return lines;
}
