import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { AppIdentity } from './labels';

export interface SecretStoreProps {
  /** Name of the SecretStore (`externalSecret.storeName`), the one the ExternalSecret references. */
  readonly name: string;
  /** Region of the environment's Parameter Store. */
  readonly region: string;
  /**
   * The IAM role the store assumes through its service account (IRSA): it may read the
   * environment's own Parameter Store path and nothing else (docs/kubernetes.md gives its trust and policy).
   */
  readonly roleArn: string;
  /** Names and labels shared with the other constructs of the chart. */
  readonly identity: AppIdentity;
}

/** Annotation the EKS pod identity webhook and external-secrets read a service account's IAM role from. */
export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

/**
 * A namespaced external-secrets.io `SecretStore` (API `v1`) on AWS Parameter Store, authenticated
 * as its own service account (IRSA): only objects of this namespace can use it, and its role can
 * read only this environment's path. No ClusterSecretStore: one is usable from every namespace.
 * @see https://external-secrets.io/latest/provider/aws-parameter-store/
 */
export class SecretStore extends Construct {
  public readonly store: ApiObject;
  public readonly serviceAccount: kplus.ServiceAccount;

  constructor(scope: Construct, id: string, props: SecretStoreProps) {
    super(scope, id);
    // No pod runs as it: external-secrets requests a token for it (TokenRequest), so none is mounted.
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: {
        name: `${props.identity.name}-secrets`,
        labels: { ...props.identity.selectorLabels },
        annotations: { [IRSA_ROLE_ANNOTATION]: props.roleArn },
      },
      automountToken: false,
    });
    this.store = new ApiObject(this, 'Resource', {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: props.name, labels: { ...props.identity.selectorLabels } },
      spec: {
        provider: {
          aws: {
            service: 'ParameterStore',
            region: props.region,
            auth: { jwt: { serviceAccountRef: { name: this.serviceAccount.name } } },
          },
        },
      },
    });
  }
}
