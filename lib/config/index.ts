export { ConfigError } from './errors';
export { healthCheckPath, healthCheckProtocol } from './health-check';
export { loadConfigFile, parseConfig, parseConfigYaml } from './load';
export * from './types';
