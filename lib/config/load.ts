import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError, describeIssues, formatPath, predicateErrorMap } from './errors';
import { configSchema } from './schema';
import type { ProjectConfig } from './types';

/**
 * Validates a configuration object (already parsed from YAML or built in code).
 * Throws one `ConfigError` listing every problem with its key path and value.
 */
export function parseConfig(input: unknown, source = 'configuration'): ProjectConfig {
  const result = configSchema.safeParse(input, { error: predicateErrorMap });
  if (!result.success) throw new ConfigError(source, describeIssues(result.error.issues, input));
  return result.data;
}

/** Parses YAML text, rejecting duplicate keys (e.g. two environments named `prod`) with their key paths. */
export function parseConfigYaml(text: string, source = 'configuration'): ProjectConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter, prettyErrors: false });
  const problems = doc.errors.map((e) => `${source}: YAML syntax error at line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  problems.push(...duplicateKeys(doc.contents, [], lineCounter));
  if (problems.length > 0) throw new ConfigError(source, problems);
  return parseConfig(doc.toJS(), source);
}

/** Reads and validates the configuration file (by default `config/environments.yaml`). */
export function loadConfigFile(path: string): ProjectConfig {
  return parseConfigYaml(readFileSync(path, 'utf8'), path);
}

function duplicateKeys(node: Node | null, path: readonly PropertyKey[], lines: LineCounter): string[] {
  const problems: string[] = [];
  if (isMap(node)) {
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const line = isScalar(pair.key) && pair.key.range ? lines.linePos(pair.key.range[0]).line : 0;
      const first = seen.get(key);
      if (first !== undefined) {
        const what = path.length === 1 && path[0] === 'environments' ? `environment name "${key}"` : `key "${key}"`;
        problems.push(`${formatPath([...path, key])}: ${what} is defined twice (lines ${first} and ${line}); names must be unique`);
      } else {
        seen.set(key, line);
      }
      problems.push(...duplicateKeys(pair.value as Node | null, [...path, key], lines));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      problems.push(...duplicateKeys(item as Node | null, [...path, index], lines));
    });
  }
  return problems;
}
