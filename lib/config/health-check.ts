import type { AppConfig, NamedEnvironment } from './types';

/** HTTPS where the environment has TLS, HTTP otherwise, unless `healthCheck.protocol` says which. */
export function healthCheckProtocol(environment: NamedEnvironment): 'HTTP' | 'HTTPS' {
  return environment.healthCheck.protocol ?? (environment.tls ? 'HTTPS' : 'HTTP');
}

/** The public health path: the environment's `healthCheck.path`, else the app's health path. */
export function healthCheckPath(app: AppConfig, environment: NamedEnvironment): string {
  return environment.healthCheck.path ?? app.healthPath;
}
