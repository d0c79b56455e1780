import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfigFile, type ProjectConfig } from '../lib/config';

/** Repository root (this file lives in `bin/`). */
export const projectRoot = resolve(__dirname, '..');

/** The config file: `$APP_CONFIG` when set, else `config/environments.yaml`. */
export function configPath(): string {
  return resolve(process.env.APP_CONFIG || `${projectRoot}/config/environments.yaml`);
}

/** Loads the config; on invalid input prints every problem and exits 1, without a stack trace. */
export function readConfigOrExit(path: string): ProjectConfig {
  try {
    return loadConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigError) {
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
