import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { grafanaDashboard } from './grafana-dashboard';
import type { AppIdentity } from './labels';

export interface ObservabilityProps {
  /** Names and labels shared with the other constructs of the chart. */
  readonly identity: AppIdentity;
  /** Namespace of the app (names the dashboard's queries). */
  readonly namespace: string;
  /** Render a prometheus-operator ServiceMonitor for the Service's metrics port. @default false */
  readonly serviceMonitor?: boolean;
  /** Render the Grafana dashboard as a ConfigMap for Grafana's dashboard sidecar. @default false */
  readonly grafanaDashboard?: boolean;
}

/** Label Grafana's dashboard sidecar (kube-prometheus-stack) watches for. */
export const GRAFANA_DASHBOARD_LABEL = 'grafana_dashboard';

/**
 * Optional Prometheus Operator and Grafana wiring. The scrape annotations live on the pods (see `Workload`).
 * @see https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.ServiceMonitor
 */
export class Observability extends Construct {
  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { identity } = props;
    if (props.serviceMonitor) {
      new ApiObject(this, 'ServiceMonitor', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: identity.name, labels: { ...identity.selectorLabels } },
        spec: {
          selector: { matchLabels: { ...identity.selectorLabels } },
          endpoints: [{ port: identity.metricsPortName, path: '/metrics', interval: '30s' }],
        },
      });
    }
    if (props.grafanaDashboard) {
      new kplus.ConfigMap(this, 'Dashboard', {
        metadata: { name: `${identity.name}-dashboard`, labels: { ...identity.selectorLabels, [GRAFANA_DASHBOARD_LABEL]: '1' } },
        data: { [`${identity.name}-api.json`]: JSON.stringify(grafanaDashboard(identity.name, props.namespace), null, 2) },
      });
    }
  }
}
