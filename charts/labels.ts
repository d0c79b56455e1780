import type { AppConfig, NamedEnvironment } from '../lib/config';

/**
 * Names and labels shared by every object of one environment's chart.
 * Selectors use only the stable `app.kubernetes.io/*` labels below, never cdk8s's generated
 * `cdk8s.io/metadata.addr` hash, so renaming a construct cannot orphan a ReplicaSet or a policy.
 */
export interface AppIdentity {
  /** Name of the app's objects (Deployment, Service, Ingress, ...): the app name. */
  readonly name: string;
  /** Name of the ConfigMap with the non-secret settings. */
  readonly configMapName: string;
  /** Labels every pod of the app carries and every selector of the chart matches. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Labels of the pods: the selector labels plus the component. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Name of the container port serving the API. */
  readonly httpPortName: string;
  /** Name of the container port serving `/metrics`. */
  readonly metricsPortName: string;
}

export function appIdentity(app: AppConfig, environment: NamedEnvironment): AppIdentity {
  const selectorLabels = { 'app.kubernetes.io/name': app.name, 'app.kubernetes.io/instance': `${app.name}-${environment.name}` };
  return {
    name: app.name,
    configMapName: `${app.name}-config`,
    selectorLabels,
    podLabels: { ...selectorLabels, 'app.kubernetes.io/component': 'api' },
    httpPortName: 'http',
    metricsPortName: 'metrics',
  };
}
