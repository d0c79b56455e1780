export { ConfigError } from './errors';
export { loadConfigFile, parseConfig, parseConfigYaml } from './load';
export * from './types';
