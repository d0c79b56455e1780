import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/**
 * The Pod Security Standard every app namespace enforces, audits and warns on, at a pinned
 * version: the Kubernetes minor these manifests target (cdk8s-plus-27, the 1.27 schemas the tests
 * validate against), so a cluster upgrade cannot silently change what `restricted` admits.
 * @see https://kubernetes.io/docs/concepts/security/pod-security-admission/
 */
export const POD_SECURITY = { level: 'restricted', version: 'v1.27' } as const;

/** The Pod Security Admission labels of an app namespace: enforce, audit and warn, each with its pinned version. */
export function podSecurityLabels(): Record<string, string> {
  return Object.fromEntries(
    (['enforce', 'audit', 'warn'] as const).flatMap((mode) => [
      [`pod-security.kubernetes.io/${mode}`, POD_SECURITY.level],
      [`pod-security.kubernetes.io/${mode}-version`, POD_SECURITY.version],
    ]),
  );
}

export interface EnvironmentNamespaceProps {
  /** The namespace's name: the environment's `kubernetes.namespace`. */
  readonly name: string;
  /** Labels beside the Pod Security ones (which always win). @default - none */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * An environment's Namespace, admitting only pods that meet the `restricted` Pod Security Standard.
 * Cluster-scoped: it carries no `metadata.namespace`, whatever namespace its chart gives its objects.
 */
export class EnvironmentNamespace extends Construct {
  public readonly namespace: kplus.Namespace;

  constructor(scope: Construct, id: string, props: EnvironmentNamespaceProps) {
    super(scope, id);
    this.namespace = new kplus.Namespace(this, 'Resource', {
      metadata: { name: props.name, labels: { ...props.labels, ...podSecurityLabels() } },
    });
    if (Chart.of(this).namespace) ApiObject.of(this.namespace).addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }
}
