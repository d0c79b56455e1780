import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { KubernetesConfig } from '../lib/config';
import type { AppIdentity } from './labels';

export interface ExternalSecretProps {
  /** Store, key and refresh interval. */
  readonly externalSecret: NonNullable<KubernetesConfig['externalSecret']>;
  /** Name of the Secret the operator writes: the one the Deployment reads with `envFrom`. */
  readonly targetSecretName: string;
  /** Names and labels shared with the other constructs of the chart. */
  readonly identity: AppIdentity;
  /**
   * The environment's Parameter Store path and the app's secret names (app.secrets): one Secret key
   * per name, read from `<path><NAME>`, the same parameters the EC2 host renders its env file from.
   * The store (`storeName`) must be of provider `aws`, service `ParameterStore`, in the environment's region.
   * @default - the whole `remoteKey` is extracted (a JSON secret in any provider)
   */
  readonly parameterStore?: { readonly path: string; readonly names: readonly string[] };
}

/**
 * An external-secrets.io `ExternalSecret` (API `v1`, external-secrets 0.16 and later) that writes the
 * app's Secret from a secret store. The manifests name the Secret; they never hold a secret value.
 * @see https://external-secrets.io/latest/api/externalsecret/
 */
export class ExternalSecret extends Construct {
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: ExternalSecretProps) {
    super(scope, id);
    const { externalSecret: es } = props;
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: props.targetSecretName, labels: { ...props.identity.selectorLabels } },
      spec: {
        refreshInterval: es.refreshInterval,
        secretStoreRef: { name: es.storeName, kind: es.storeKind },
        target: { name: props.targetSecretName, creationPolicy: 'Owner' },
        ...(props.parameterStore && props.parameterStore.names.length > 0
          ? { data: props.parameterStore.names.map((name) => ({ secretKey: name, remoteRef: { key: `${props.parameterStore?.path}${name}` } })) }
          : { dataFrom: [{ extract: { key: es.remoteKey } }] }),
      },
    });
  }
}
