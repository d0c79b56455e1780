import { Chart, type ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { AppConfig, NamedEnvironment } from '../lib/config';
import { declaredSecretNames, secretsPath } from '../lib/config/schema/secrets';
import { migrationSecretNames } from '../lib/config/schema/smoke';
import { kubernetesNames } from '../lib/names';
import { Autoscaler } from './autoscaler';
import { budgetMinAvailable, DisruptionBudget } from './disruption-budget';
import { Exposure } from './exposure';
import { ExternalSecret } from './external-secret';
import { type AppIdentity, appIdentity } from './labels';
import { MigrationJob } from './migration-job';
import { EnvironmentNamespace } from './namespace';
import { NetworkPolicies } from './network-policies';
import { Observability } from './observability';
import { SecretStore } from './secret-store';
import { Workload } from './workload';

export interface AppChartProps extends ChartProps {
  /** The application to run. */
  readonly app: AppConfig;
  /** The environment whose namespace, replicas and ingress this chart renders. */
  readonly environment: NamedEnvironment;
}

/** ARN of the IAM role an environment's SecretStore assumes (IRSA), in the environment's account. */
export function externalSecretsRoleArn(app: AppConfig, environment: NamedEnvironment): string {
  return `arn:aws:iam::${environment.account}:role/${kubernetesNames.externalSecretsRole(app.name, environment.name)}`;
}

/**
 * The app on Kubernetes for one environment: everything a GitOps controller syncs from `dist/<env>`.
 * One construct per concern (`./workload`, `./exposure`, `./network-policies`, ...); this class only composes.
 *
 * Every object is namespaced, but one: without `kubernetes.gitops`, the chart also renders the
 * Namespace (with its Pod Security labels), for `kubectl apply`. An environment synced by Argo CD
 * gets its Namespace from its bootstrap file beside its AppProject (`dist/argocd/<env>.k8s.yaml`,
 * applied by an administrator): its AppProject admits no cluster-scoped kind, so nothing pushed to
 * the synced branch can relabel, create or delete a Namespace.
 */
export class AppChart extends Chart {
  /** The Namespace, when this chart renders it (environments without `kubernetes.gitops`). */
  public readonly namespaceObject?: EnvironmentNamespace;
  public readonly secretStore?: SecretStore;
  public readonly identity: AppIdentity;
  public readonly workload: Workload;
  public readonly exposure: Exposure;
  public readonly networkPolicies: NetworkPolicies;
  public readonly disruptionBudget?: DisruptionBudget;
  public readonly autoscaler?: Autoscaler;

  constructor(scope: Construct, id: string, props: AppChartProps) {
    const { app, environment } = props;
    const k8s = environment.kubernetes;
    super(scope, id, {
      ...props,
      namespace: k8s.namespace,
      labels: { 'app.kubernetes.io/part-of': app.name, 'app.kubernetes.io/instance': `${app.name}-${environment.name}`, ...props.labels },
      disableResourceNameHashes: true,
    });
    this.identity = appIdentity(app, environment);

    if (!k8s.gitops) this.namespaceObject = new EnvironmentNamespace(this, 'Namespace', { name: k8s.namespace });

    const pods = kplus.Pods.select(this, 'AppPods', { labels: { ...this.identity.selectorLabels } });

    if (k8s.externalSecret && k8s.existingSecret) {
      this.secretStore = new SecretStore(this, 'SecretStore', {
        name: k8s.externalSecret.storeName,
        region: environment.region,
        roleArn: externalSecretsRoleArn(app, environment),
        identity: this.identity,
      });
      new ExternalSecret(this, 'ExternalSecret', {
        externalSecret: k8s.externalSecret,
        targetSecretName: k8s.existingSecret,
        identity: this.identity,
        // One source of truth with the EC2 host: the same Parameter Store path and names.
        path: secretsPath(app.name, environment.name, environment.secrets),
        names: declaredSecretNames(app.secrets),
      });
    }
    this.workload = new Workload(this, 'Workload', { app, kubernetes: k8s, identity: this.identity });
    if (app.migration) {
      new MigrationJob(this, 'Migration', {
        migration: app.migration,
        deployment: this.workload.deployment,
        identity: this.identity,
        kubernetes: k8s,
        secrets: migrationSecretNames(app).map((name) => ({ name, optional: !app.secrets.required.includes(name) })),
      });
    }
    this.exposure = new Exposure(this, 'Exposure', { app, kubernetes: k8s, tls: environment.tls, identity: this.identity, pods });
    this.networkPolicies = new NetworkPolicies(this, 'NetworkPolicies', { app, kubernetes: k8s, identity: this.identity, pods });

    const minAvailable = budgetMinAvailable(k8s);
    if (minAvailable !== undefined) {
      this.disruptionBudget = new DisruptionBudget(this, 'DisruptionBudget', { kubernetes: k8s, identity: this.identity, minAvailable });
    }
    if (k8s.autoscaling) {
      this.autoscaler = new Autoscaler(this, 'Autoscaler', {
        target: this.workload.deployment,
        autoscaling: k8s.autoscaling,
        replicas: k8s.replicas,
        identity: this.identity,
      });
    }
    new Observability(this, 'Observability', {
      identity: this.identity,
      namespace: k8s.namespace,
      serviceMonitor: k8s.observability.serviceMonitor,
      grafanaDashboard: k8s.observability.grafanaDashboard,
    });
  }
}
