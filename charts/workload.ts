import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { AppConfig, KubernetesConfig } from '../lib/config';
import { parseCpuMillis, parseMemoryBytes } from '../lib/quantities';
import type { AppIdentity } from './labels';

export interface WorkloadProps {
  /** The application: image, ports and probe paths. */
  readonly app: AppConfig;
  /** The environment's Kubernetes settings. */
  readonly kubernetes: KubernetesConfig;
  /** Names and labels shared with the other constructs of the chart. */
  readonly identity: AppIdentity;
  /**
   * UID and GID the container runs as; any non-zero id works with a read-only root filesystem.
   * @default 10001
   */
  readonly runAsUser?: number;
}

/** Where the container may write: the root filesystem is read-only. */
export const WRITABLE_TMP = '/tmp';

/**
 * The API's pods: ServiceAccount (no token), ConfigMap with the non-secret settings, and a
 * hardened Deployment whose secrets arrive only by reference (`envFrom` an existing Secret).
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
export class Workload extends Construct {
  public readonly deployment: kplus.Deployment;
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly configMap: kplus.ConfigMap;

  constructor(scope: Construct, id: string, props: WorkloadProps) {
    super(scope, id);
    const { app, kubernetes: k8s, identity } = props;
    const uid = props.runAsUser ?? 10001;

    // The API never talks to the Kubernetes API: no token is mounted.
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: identity.name, labels: identity.selectorLabels },
      automountToken: false,
    });

    this.configMap = new kplus.ConfigMap(this, 'Settings', {
      metadata: { name: identity.configMapName, labels: identity.selectorLabels },
      data: {
        NODE_ENV: k8s.settings.nodeEnv,
        PORT: String(app.port),
        METRICS_PORT: String(app.metricsPort),
        METRICS_ENABLED: String(k8s.settings.metricsEnabled),
        TRUST_PROXY: k8s.settings.trustProxy,
        CORS_ORIGINS: k8s.settings.corsOrigins.join(','),
      },
    });

    const scrape = k8s.observability.scrapeAnnotations
      ? { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(app.metricsPort), 'prometheus.io/path': '/metrics' }
      : undefined;

    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: identity.name, labels: identity.selectorLabels },
      // Select on the stable labels below, not on cdk8s's construct-path hash.
      select: false,
      podMetadata: { labels: { ...identity.podLabels }, annotations: scrape },
      // With an autoscaler the HPA owns the count: rendering replicas would make every GitOps sync reset it.
      replicas: k8s.autoscaling ? undefined : k8s.replicas,
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      securityContext: { ensureNonRoot: true, user: uid, group: uid, fsGroup: uid },
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: { ...identity.selectorLabels } }));

    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: Size.mebibytes(64) });
    const envFrom = [kplus.Env.fromConfigMap(this.configMap)];
    if (k8s.existingSecret) envFrom.push(kplus.Env.fromSecret(kplus.Secret.fromSecretName(this, 'AppSecret', k8s.existingSecret)));

    this.deployment.addContainer({
      name: 'api',
      image: app.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      ports: [
        { name: identity.httpPortName, number: app.port },
        { name: identity.metricsPortName, number: app.metricsPort },
      ],
      envFrom,
      volumeMounts: [{ path: WRITABLE_TMP, volume: tmp }],
      // Startup covers `prisma migrate deploy` on boot (up to 5 minutes); liveness and readiness start after it.
      startup: kplus.Probe.fromHttpGet(app.healthPath, {
        port: app.port,
        periodSeconds: Duration.seconds(5),
        failureThreshold: 60,
        timeoutSeconds: Duration.seconds(2),
      }),
      liveness: kplus.Probe.fromHttpGet(app.healthPath, {
        port: app.port,
        periodSeconds: Duration.seconds(10),
        failureThreshold: 3,
        timeoutSeconds: Duration.seconds(2),
      }),
      // `/ready` fails while Postgres is down: the pod leaves the Service without being restarted.
      readiness: kplus.Probe.fromHttpGet(app.readyPath, {
        port: app.port,
        periodSeconds: Duration.seconds(5),
        failureThreshold: 2,
        timeoutSeconds: Duration.seconds(2),
      }),
      resources: {
        cpu: { request: cpuOf(k8s.resources.requests.cpu), limit: cpuOf(k8s.resources.limits.cpu) },
        memory: { request: memorySize(k8s.resources.requests.memory), limit: memorySize(k8s.resources.limits.memory) },
      },
      securityContext: {
        ensureNonRoot: true,
        user: uid,
        group: uid,
        privileged: false,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        // cdk8s-plus-27's Capability enum has no ALL; Kubernetes (and the restricted Pod Security Standard) expects it.
        capabilities: { drop: ['ALL' as kplus.Capability] },
      },
    });

    // cdk8s-plus-27 has no props for these two pod fields: patch the rendered object.
    ApiObject.of(this.deployment).addJsonPatch(
      JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
      JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
        // Spread replicas over nodes; ScheduleAnyway so a one-node cluster (dev) can still run them all.
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: { ...identity.selectorLabels } },
        },
        {
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: { ...identity.selectorLabels } },
        },
      ]),
    );
  }
}

/** A CPU quantity the config schema admitted (`lib/quantities.ts`: 250m, 1, 0.5) → kplus.Cpu. */
function cpuOf(quantity: string): kplus.Cpu {
  const millis = parseCpuMillis(quantity);
  if (millis === undefined) throw new Error(`'${quantity}' is not a CPU quantity (250m, 1, 0.5)`);
  return kplus.Cpu.millis(millis);
}

/** `256Mi` or `1Gi` (the only shapes the config schema admits, `lib/quantities.ts`) → Size. */
export function memorySize(quantity: string): Size {
  const bytes = parseMemoryBytes(quantity);
  if (bytes === undefined) throw new Error(`'${quantity}' is not a memory quantity in Mi or Gi`);
  return Size.mebibytes(bytes / 2 ** 20);
}
