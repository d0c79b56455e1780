import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigFileError, isConfigProblem } from './errors';
import { loadConfigFile } from './load';
import type { ProjectConfig } from './types';

/** Repository root (this file lives in `lib/config/`). */
export const projectRoot = resolve(__dirname, '../..');

// Defined beside ConfigError (light to import: a CLI's error handler needs them before the config loads).
export { ConfigFileError, isConfigProblem } from './errors';

/** The config file: `$APP_CONFIG` when set, else `config/environments.yaml`. */
export function configPath(): string {
  return resolve(process.env.APP_CONFIG || `${projectRoot}/config/environments.yaml`);
}

/** Loads and validates the config file; throws `ConfigFileError` or `ConfigError`, both with messages for the user. */
export function readConfig(path: string): ProjectConfig {
  const from = process.env.APP_CONFIG ? ` (from APP_CONFIG=${process.env.APP_CONFIG})` : '';
  if (!existsSync(path))
    throw new ConfigFileError(`config file ${path}${from} does not exist: point APP_CONFIG at a YAML file, or unset it to use config/environments.yaml`);
  if (!statSync(path).isFile()) throw new ConfigFileError(`config file ${path}${from} is not a file: point APP_CONFIG at a YAML file`);
  return loadConfigFile(path);
}

/** Loads the config; on a missing file or invalid input prints the problem(s) and exits 1, without a stack trace. */
export function readConfigOrExit(path: string): ProjectConfig {
  try {
    return readConfig(path);
  } catch (error) {
    if (isConfigProblem(error)) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** Feature flags from `cdk.json`, for synthesizing without the CDK CLI. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(`${projectRoot}/cdk.json`, 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}
