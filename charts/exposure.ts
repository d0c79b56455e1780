import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { AppConfig, KubernetesConfig } from '../lib/config';
import type { AppIdentity } from './labels';

export interface ExposureProps {
  /** The application: its ports. */
  readonly app: AppConfig;
  /** The environment's Kubernetes settings: ingress class, host, TLS secret. */
  readonly kubernetes: KubernetesConfig;
  /** Whether the environment serves HTTPS; without it the Ingress has no `tls` block. */
  readonly tls: boolean;
  /** Names and labels shared with the other constructs of the chart. */
  readonly identity: AppIdentity;
  /** The app's pods, selected by their stable labels. */
  readonly pods: kplus.IPodSelector;
}

/** Port of the Service in front of the API (the Ingress backend). */
export const SERVICE_HTTP_PORT = 80;

/**
 * A ClusterIP Service with two ports (`http` and `metrics`) and an Ingress that routes only to
 * `http`: `/metrics` is never reachable through the ingress controller.
 */
export class Exposure extends Construct {
  public readonly service: kplus.Service;
  public readonly ingress: kplus.Ingress;

  constructor(scope: Construct, id: string, props: ExposureProps) {
    super(scope, id);
    const { app, kubernetes: k8s, identity } = props;

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name: identity.name, labels: identity.selectorLabels },
      type: kplus.ServiceType.CLUSTER_IP,
      selector: props.pods,
      ports: [
        { name: identity.httpPortName, port: SERVICE_HTTP_PORT, targetPort: app.port, protocol: kplus.Protocol.TCP },
        { name: identity.metricsPortName, port: app.metricsPort, targetPort: app.metricsPort, protocol: kplus.Protocol.TCP },
      ],
    });

    const tls = props.tls && k8s.tlsSecretName ? [{ hosts: [k8s.host], secret: kplus.Secret.fromSecretName(this, 'TlsSecret', k8s.tlsSecretName) }] : undefined;
    this.ingress = new kplus.Ingress(this, 'Ingress', {
      metadata: { name: identity.name, labels: identity.selectorLabels },
      className: k8s.ingressClass,
      rules: [
        {
          host: k8s.host,
          path: '/',
          pathType: kplus.HttpIngressPathType.PREFIX,
          backend: kplus.IngressBackend.fromService(this.service, { port: SERVICE_HTTP_PORT }),
        },
      ],
      tls,
    });
  }
}
