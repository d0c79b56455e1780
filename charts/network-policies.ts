import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { AppConfig, KubernetesConfig } from '../lib/config';
import type { AppIdentity } from './labels';

type EgressTarget = KubernetesConfig['egress']['postgres'];

export interface NetworkPoliciesProps {
  /** The application: its ports. */
  readonly app: AppConfig;
  /** The environment's Kubernetes settings: peer namespaces and egress targets. */
  readonly kubernetes: KubernetesConfig;
  /** Names and labels shared with the other constructs of the chart. */
  readonly identity: AppIdentity;
  /** The app's pods, selected by their stable labels. */
  readonly pods: kplus.Pods;
}

/** Where cluster DNS runs; the app may reach it on port 53 and nothing else of kube-system. */
export const CLUSTER_DNS = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } } as const;

/**
 * Deny by default, then allow exactly what the API needs:
 * - ingress to the app port only from the ingress controller's namespace;
 * - ingress to the metrics port only from the monitoring namespace;
 * - egress only to cluster DNS, Postgres and Redis.
 * NetworkPolicy matches ports, not URL paths: `/metrics` is fenced because it has its own port.
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
 */
export class NetworkPolicies extends Construct {
  public readonly defaultDeny: kplus.NetworkPolicy;
  public readonly app: kplus.NetworkPolicy;

  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    const { app, kubernetes: k8s, identity } = props;

    // Every pod of the namespace, both directions, no rules: nothing is allowed unless another policy says so.
    this.defaultDeny = new kplus.NetworkPolicy(this, 'DefaultDeny', {
      metadata: { name: 'default-deny' },
      selector: kplus.Pods.all(this, 'AllPods'),
      ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
      egress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
    });

    const ingressController = kplus.Namespaces.select(this, 'IngressController', { names: [k8s.ingressControllerNamespace] });
    const monitoring = kplus.Namespaces.select(this, 'Monitoring', { names: [k8s.monitoringNamespace] });
    const dns = kplus.Pods.select(this, 'ClusterDns', {
      labels: { ...CLUSTER_DNS.podLabels },
      namespaces: kplus.Namespaces.select(this, 'KubeSystem', { names: [CLUSTER_DNS.namespace] }),
    });

    this.app = new kplus.NetworkPolicy(this, 'App', {
      metadata: { name: `${identity.name}-allow` },
      selector: props.pods,
      ingress: {
        rules: [
          { peer: ingressController, ports: [kplus.NetworkPolicyPort.tcp(app.port)] },
          { peer: monitoring, ports: [kplus.NetworkPolicyPort.tcp(app.metricsPort)] },
        ],
      },
      egress: {
        rules: [
          { peer: dns, ports: [kplus.NetworkPolicyPort.udp(53), kplus.NetworkPolicyPort.tcp(53)] },
          ...egressRules(this, 'Postgres', k8s.egress.postgres),
          ...egressRules(this, 'Redis', k8s.egress.redis),
        ],
      },
    });

    // A Postgres or Redis running as pods in this very namespace is fenced by the default deny too:
    // let the app (and only the app) reach it on its port.
    for (const [name, target] of Object.entries(k8s.egress)) {
      if (!target.podLabels || target.namespace) continue;
      new kplus.NetworkPolicy(this, `${name}FromApp`, {
        metadata: { name: `${name}-allow-from-${identity.name}` },
        selector: kplus.Pods.select(this, `${name}Selected`, { labels: { ...target.podLabels } }),
        ingress: { rules: [{ peer: props.pods, ports: [kplus.NetworkPolicyPort.tcp(target.port)] }] },
      });
    }
  }
}

export function egressRules(scope: Construct, id: string, target: EgressTarget): kplus.NetworkPolicyRule[] {
  const ports = [kplus.NetworkPolicyPort.tcp(target.port)];
  if (target.cidrs) {
    return target.cidrs.map((cidr, i) => ({ peer: kplus.NetworkPolicyIpBlock.ipv4(scope, `${id}Cidr${i}`, cidr), ports }));
  }
  const peer = kplus.Pods.select(scope, `${id}Pods`, {
    labels: { ...target.podLabels },
    namespaces: target.namespace ? kplus.Namespaces.select(scope, `${id}Namespace`, { names: [target.namespace] }) : undefined,
  });
  return [{ peer, ports }];
}
