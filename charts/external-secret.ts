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
   * The app's secret names (app.secrets): one Secret key per name, read from `<path><NAME>` of the
   * environment's Parameter Store path, the same parameters the EC2 host renders its env file from.
   * Empty: the whole `externalSecret.remoteKey` (a JSON parameter under the path) is extracted.
   */
  readonly names: readonly string[];
  /** The environment's Parameter Store path (`/<app>/<env>/`), the only one its SecretStore may read. */
  readonly path: string;
}

/**
 * An external-secrets.io `ExternalSecret` (API `v1`, external-secrets 0.16 and later) that writes the
 * app's Secret from the environment's namespaced `SecretStore` (./secret-store.ts). The manifests
 * name the Secret; they never hold a secret value.
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
        secretStoreRef: { name: es.storeName, kind: 'SecretStore' },
        target: { name: props.targetSecretName, creationPolicy: 'Owner' },
        ...(props.names.length > 0
          ? { data: props.names.map((name) => ({ secretKey: name, remoteRef: { key: `${props.path}${name}` } })) }
          : { dataFrom: [{ extract: { key: requireRemoteKey(es.remoteKey, props.path) } }] }),
      },
    });
  }
}

/** The JSON parameter to extract when app.secrets declares no names (the config schema requires one, under the path). */
function requireRemoteKey(remoteKey: string | undefined, path: string): string {
  if (remoteKey === undefined || !remoteKey.startsWith(path))
    throw new Error(`externalSecret.remoteKey must name a parameter under ${path} when app.secrets declares no names`);
  return remoteKey;
}
