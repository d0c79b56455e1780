import { ApiObject, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { AppConfig, KubernetesConfig } from '../lib/config';
import type { AppIdentity } from './labels';
import { CLUSTER_DNS, egressRules } from './network-policies';

export interface MigrationJobProps {
  /** The one-shot migration from config (`app.migration`). */
  readonly migration: NonNullable<AppConfig['migration']>;
  /** The Deployment whose pod the Job copies: image, settings, secrets, security contexts. */
  readonly deployment: kplus.Deployment;
  readonly identity: AppIdentity;
  /** The environment's Kubernetes settings: where Postgres is (the Job's only egress besides DNS), the Secret its values come from. */
  readonly kubernetes: KubernetesConfig;
  /**
   * The secrets the migration gets, by name (`migrationSecretNames`): each one variable read from
   * `existingSecret`, never the whole Secret as the Deployment has it. Names in `optional` may be absent.
   */
  readonly secrets: readonly { readonly name: string; readonly optional: boolean }[];
  /**
   * Seconds before Kubernetes stops a migration that hangs.
   * @default 600
   */
  readonly activeDeadlineSeconds?: number;
}

/** The Argo CD hook annotations: run before each sync; replace the previous run's Job first. */
export const PRESYNC_HOOK = {
  'argocd.argoproj.io/hook': 'PreSync',
  // Kept after a failure so its logs can be read; deleted before the next sync creates it again.
  'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
} as const;

/**
 * The migration as a Job that Argo CD runs once before each sync (a PreSync hook), instead of every
 * replica migrating on boot. Its pod is the Deployment's pod as rendered (same image, service
 * account, settings, volumes, pod and container security contexts), with the migration as its
 * command, no probes or ports, and no retries: a failed migration fails the sync and the old pods
 * keep serving. Of the app's Secret it gets only the keys it needs (`secrets`), not all of them.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/resource_hooks/
 */
export class MigrationJob extends Construct {
  public readonly job: ApiObject;
  public readonly networkPolicy: kplus.NetworkPolicy;

  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    const name = `${props.identity.name}-migrate`;
    // Resolved at synth, from the Deployment as rendered (JSON patches included), so it cannot drift.
    const spec = Lazy.any({
      produce: () => {
        const { topologySpreadConstraints: _spread, ...pod } = ApiObject.of(props.deployment).toJson().spec.template.spec;
        const [api] = pod.containers;
        const { startupProbe: _s, livenessProbe: _l, readinessProbe: _r, ports: _p, envFrom, ...container } = api;
        // The settings ConfigMap as the Deployment has it; of the Secret only the named keys.
        const settings = (envFrom ?? []).filter((source: { secretRef?: unknown }) => source.secretRef === undefined);
        const secretName = props.kubernetes.existingSecret;
        const env = secretName
          ? props.secrets.map(({ name, optional }) => ({ name, valueFrom: { secretKeyRef: { name: secretName, key: name, optional } } }))
          : [];
        return {
          backoffLimit: 0,
          activeDeadlineSeconds: props.activeDeadlineSeconds ?? 600,
          template: {
            metadata: { labels },
            spec: {
              ...pod,
              // One container: the API's, running the migration.
              containers: [
                {
                  ...container,
                  name: 'migrate',
                  command: [...props.migration.command],
                  ...(settings.length > 0 ? { envFrom: settings } : {}),
                  ...(env.length > 0 ? { env } : {}),
                },
              ],
              restartPolicy: 'Never',
            },
          },
        };
      },
    });
    const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'migration' };
    const pods = kplus.Pods.select(this, 'Pods', { labels });
    const postgres = props.kubernetes.egress.postgres;
    // The namespace denies all traffic by default: the Job may reach DNS and Postgres, nothing else.
    // A PreSync hook too, in an earlier wave, so it exists before the Job starts on every sync.
    this.networkPolicy = new kplus.NetworkPolicy(this, 'Egress', {
      metadata: { name: `${name}-allow`, annotations: { ...PRESYNC_HOOK, 'argocd.argoproj.io/sync-wave': '-1' } },
      selector: pods,
      ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
      egress: {
        rules: [
          {
            peer: kplus.Pods.select(this, 'ClusterDns', {
              labels: { ...CLUSTER_DNS.podLabels },
              namespaces: kplus.Namespaces.select(this, 'KubeSystem', { names: [CLUSTER_DNS.namespace] }),
            }),
            ports: [kplus.NetworkPolicyPort.udp(53), kplus.NetworkPolicyPort.tcp(53)],
          },
          ...egressRules(this, 'PostgresEgress', postgres),
        ],
      },
    });
    if (postgres.podLabels && !postgres.namespace) {
      // Postgres as pods in this namespace (dev) admits the app only: admit the migration too.
      new kplus.NetworkPolicy(this, 'PostgresIngress', {
        metadata: { name: `postgres-allow-from-${name}`, annotations: { ...PRESYNC_HOOK, 'argocd.argoproj.io/sync-wave': '-1' } },
        selector: kplus.Pods.select(this, 'PostgresPods', { labels: { ...postgres.podLabels } }),
        ingress: { rules: [{ peer: pods, ports: [kplus.NetworkPolicyPort.tcp(postgres.port)] }] },
      });
    }
    this.job = new ApiObject(this, 'Job', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, annotations: { ...PRESYNC_HOOK }, labels },
      spec,
    });
  }
}
