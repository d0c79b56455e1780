import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfigFile, type ProjectConfig, parseConfig } from '../../lib/config';
import { shippedConfigPath } from './paths';

let config: ProjectConfig | undefined;
/** The shipped config, validated (read once per test file). */
export function shippedConfig(): ProjectConfig {
  config ??= loadConfigFile(shippedConfigPath);
  return config;
}

/** The shipped config as raw YAML data, a fresh deep copy per call so a test may mutate it. */
// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, mutated freely by tests
export function shippedConfigInput(): Record<string, any> {
  return parse(readFileSync(shippedConfigPath, 'utf8'));
}

/**
 * A validated config derived from the shipped one: `edit` mutates the raw data first.
 * E.g. `configWith((c) => { c.environments.prod.tls = false; })`.
 */
// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, mutated freely by tests
export function configWith(edit: (raw: Record<string, any>) => void): ProjectConfig {
  const raw = shippedConfigInput();
  edit(raw);
  return parseConfig(raw);
}

/** The messages a config is rejected with, or [] when it is valid. */
export function problemsOf(raw: unknown): readonly string[] {
  try {
    parseConfig(raw);
    return [];
  } catch (error) {
    const problems = (error as { problems?: readonly string[] }).problems;
    if (!problems) throw error;
    return problems;
  }
}
