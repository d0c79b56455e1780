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
  const problems = [...(result.success ? [] : describeIssues(result.error.issues, input)), ...documentParameterSyntax(input, [])];
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems);
  return result.data;
}

/**
 * `{{` anywhere in the config: the host's SSM documents carry the config's values (host.env, the
 * smoke plan), and SSM reads `{{ name }}` there as a document parameter, so such a value breaks
 * the document or is replaced by a parameter. Keys and values, with their paths; never the value.
 */
function documentParameterSyntax(node: unknown, path: readonly (string | number)[]): string[] {
  const rule = "must not contain '{{' (SSM documents read it as a parameter reference)";
  if (typeof node === 'string') return node.includes('{{') ? [`${formatPath(path)}: ${rule}`] : [];
  if (Array.isArray(node)) return node.flatMap((item, index) => documentParameterSyntax(item, [...path, index]));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => [
    ...(key.includes('{{') ? [`${formatPath(path) || '(root)'}: a key ${rule}`] : []),
    ...documentParameterSyntax(value, [...path, key]),
  ]);
}

/**
 * How many alias expansions a config may make. YAML aliases can expand exponentially (a few lines
 * that become gigabytes); a config file needs few if any.
 */
export const MAX_YAML_ALIASES = 50;

/** Parses YAML text, rejecting duplicate keys (e.g. two environments named `prod`) with their key paths. */
export function parseConfigYaml(text: string, source = 'configuration'): ProjectConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter, prettyErrors: false });
  const problems = doc.errors.map((e) => `${source}: YAML syntax error at line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  problems.push(...duplicateKeys(doc.contents, [], lineCounter));
  if (problems.length > 0) throw new ConfigError(source, problems);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    // yaml: "Excessive alias count indicates a resource exhaustion attack"
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
      throw new ConfigError(source, [`${source}: its YAML aliases (*name) expand too far (more than ${MAX_YAML_ALIASES} nodes): write the values out`]);
    }
    throw error;
  }
  return parseConfig(data, source);
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
