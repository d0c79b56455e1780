import type { z } from 'zod';
import type { configSchema } from './schema';

/** The validated configuration, defaults applied. */
export type ProjectConfig = z.output<typeof configSchema>;
export type AppConfig = ProjectConfig['app'];
export type EnvironmentConfig = ProjectConfig['environments'][string];
export type KubernetesConfig = EnvironmentConfig['kubernetes'];
export type CostGuardrailsConfig = ProjectConfig['costGuardrails'];

/** An environment with its name, as stacks and charts receive it. */
export interface NamedEnvironment extends EnvironmentConfig {
  readonly name: string;
}

/** Environments in the order the file lists them, each with its name. */
export function environmentsOf(config: ProjectConfig): NamedEnvironment[] {
  return Object.entries(config.environments).map(([name, env]) => ({ ...env, name }));
}
