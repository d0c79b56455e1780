import { z } from 'zod';
import { kubernetesNames } from '../../names';
import { parseCpuMillis, parseMemoryBytes } from '../../quantities';
import { dnsLabel, gitRef, gitRepositoryUrl, hostname, ipv4Cidr, port, typeError } from '../primitives';
import { secretsPath } from './secrets';

/*
 * How the app runs on Kubernetes in one environment. Messages are predicates: the formatter
 * prefixes them with the key path and the value (`environments.prod.kubernetes.replicas: 0 must be at least 1`).
 */

/** A Parameter Store parameter name of a hierarchy: absolute, `/`-separated, characters SSM allows. */
const parameterName = z
  .string(typeError('is not a parameter name (e.g. /auraxis/prod/api-env)'))
  .regex(/^(\/[A-Za-z0-9_.-]+)+$/, { message: 'is not a parameter name (absolute, e.g. /auraxis/prod/api-env)' });

const wholeNumber = z.number(typeError('must be a whole number')).int({ message: 'must be a whole number' });

/** CPU quantity such as `250m`, `0.5` or `1`, in the grammar of ../../quantities.ts. */
const cpuQuantity = z
  .string(typeError('is not a CPU quantity (e.g. 250m or 1)'))
  .refine((q) => parseCpuMillis(q) !== undefined, { message: 'is not a CPU quantity (e.g. 250m or 1)' });
/** Memory quantity in mebibytes or gibibytes, such as `256Mi` or `1Gi`, in the grammar of ../../quantities.ts. */
const memoryQuantity = z
  .string(typeError('is not a memory quantity in Mi or Gi (e.g. 256Mi or 1Gi)'))
  .refine((q) => parseMemoryBytes(q) !== undefined, { message: 'is not a memory quantity in Mi or Gi (e.g. 256Mi or 1Gi)' });

/** A Kubernetes label key (optional DNS-subdomain prefix and a name) and value. */
const labelKey = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, { message: 'is not a Kubernetes label key' });
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, { message: 'is not a Kubernetes label value' });

/** CPU and memory for one of requests or limits. */
export const computeResourcesSchema = z.strictObject({
  /** CPU, e.g. `100m`. */
  cpu: cpuQuantity,
  /** Memory, e.g. `256Mi`. */
  memory: memoryQuantity,
});

export const resourcesSchema = z.strictObject({
  /** What the scheduler reserves for each pod. @default { cpu: '100m', memory: '192Mi' } */
  requests: computeResourcesSchema.default({ cpu: '100m', memory: '192Mi' }),
  /** The hard ceiling of each pod: CPU is throttled, memory above it is OOM-killed. @default { cpu: '500m', memory: '384Mi' } */
  limits: computeResourcesSchema.default({ cpu: '500m', memory: '384Mi' }),
});

/**
 * A peer the app may open connections to (Postgres, Redis): either IP ranges (a managed service
 * outside the cluster) or pods by label (a database in the cluster), and the port.
 */
export const egressTargetSchema = z
  .strictObject({
    /** TCP port of the service. */
    port: port,
    /** IPv4 ranges of a service outside the cluster, e.g. RDS subnets. @default - none: give `podLabels` instead */
    cidrs: z.array(ipv4Cidr, typeError('must be a list of IPv4 CIDRs')).min(1, { message: 'must list at least one CIDR' }).optional(),
    /** Labels of the service's pods in the cluster. @default - none: give `cidrs` instead */
    podLabels: z.record(labelKey, labelValue, typeError('must be a mapping of label keys to values')).optional(),
    /** Namespace of the pods selected by `podLabels`. @default - the app's own namespace */
    namespace: dnsLabel.optional(),
    /**
     * Let `cidrs` hold a `/0` range (`0.0.0.0/0`): any IPv4 destination on this port. Refused
     * without it, since it undoes the egress fence for that port.
     * @default false
     */
    allowAnyDestination: z.boolean(typeError('must be true or false')).default(false),
  })
  .superRefine((target, ctx) => {
    const hasCidrs = target.cidrs !== undefined;
    const hasPods = target.podLabels !== undefined;
    if (hasCidrs === hasPods) {
      ctx.addIssue({ code: 'custom', path: [], message: 'must give exactly one of cidrs or podLabels' });
    }
    if (hasPods && Object.keys(target.podLabels ?? {}).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['podLabels'], message: 'must hold at least one label (an empty selector would allow every pod)' });
    }
    (target.cidrs ?? []).forEach((cidr, index) => {
      if (cidr.endsWith('/0') && !target.allowAnyDestination) {
        ctx.addIssue({
          code: 'custom',
          path: ['cidrs', index],
          message: "allows every IPv4 destination: name the service's ranges, or set allowAnyDestination: true",
        });
      }
    });
    if (target.namespace !== undefined && !hasPods) {
      ctx.addIssue({ code: 'custom', path: ['namespace'], message: 'applies only with podLabels' });
    }
  });

export const egressSchema = z.strictObject({
  /** Where Postgres is (the runbook's `DATABASE_URL` target). */
  postgres: egressTargetSchema,
  /** Where Redis is (the runbook's `RATE_LIMIT_REDIS_URL` target). */
  redis: egressTargetSchema,
});

/** Non-secret settings rendered into the app's ConfigMap (see the runbook's "Environment toggles"). */
export const appSettingsSchema = z.strictObject({
  /** `NODE_ENV`. @default 'production' */
  nodeEnv: z.enum(['production', 'development', 'test'], typeError('must be production, development or test')).default('production'),
  /**
   * `TRUST_PROXY`, Express's `trust proxy`: the number of proxy hops in front of the app (`1` for a
   * single ingress hop, `2` for load balancer + ingress) or a comma-separated CIDR list.
   * @default '1'
   */
  trustProxy: z
    .union(
      [wholeNumber.min(0, { message: 'must be at least 0' }), z.string().min(1, { message: 'must not be empty' })],
      typeError('must be a hop count or a CIDR list'),
    )
    .transform(String)
    .default('1'),
  /** `CORS_ORIGINS`: allowed browser origins, joined with commas. @default [] */
  corsOrigins: z
    .array(
      z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/, { message: 'is not an origin (scheme://host[:port], no path)' }),
      typeError('must be a list of origins'),
    )
    .default([]),
  /** `METRICS_ENABLED`: the runbook keeps it false until `/metrics` is fenced; here the metrics port is. @default true */
  metricsEnabled: z.boolean(typeError('must be true or false')).default(true),
});

/** Replicas managed by a HorizontalPodAutoscaler (`autoscaling/v2`) on CPU utilisation. */
export const autoscalingSchema = z.strictObject({
  /** Fewest pods. @default - the environment's `replicas` */
  minReplicas: wholeNumber.min(1, { message: 'must be at least 1' }).optional(),
  /** Most pods. */
  maxReplicas: wholeNumber.min(1, { message: 'must be at least 1' }),
  /** Average CPU utilisation (percent of requests) the autoscaler aims for. @default 70 */
  targetCpuUtilization: wholeNumber.min(1, { message: 'must be from 1 to 100' }).max(100, { message: 'must be from 1 to 100' }).default(70),
});

/**
 * An external-secrets.io `ExternalSecret` that fills `existingSecret` from the environment's own
 * Parameter Store path, through a namespaced `SecretStore` the chart renders beside it.
 */
export const externalSecretSchema = z.strictObject({
  /** Name of the SecretStore the chart renders in the environment's namespace. */
  storeName: dnsLabel,
  /**
   * Kind of the store: only a namespaced `SecretStore`, which nothing outside the namespace can
   * use. A `ClusterSecretStore` is refused: every namespace of the cluster could read through it.
   * @default 'SecretStore'
   */
  storeKind: z
    .literal(
      'SecretStore',
      typeError(
        "must be SecretStore: a ClusterSecretStore can be used from every namespace of the cluster; the chart renders a namespaced SecretStore reading only this environment's path (remove storeKind)",
      ),
    )
    .default('SecretStore'),
  /**
   * A parameter under the environment's secrets path holding a JSON object whose properties become
   * the Secret's keys; used only when app.secrets declares no names.
   * @default - one key per name of app.secrets, read from `<secrets path><NAME>`
   */
  remoteKey: parameterName.optional(),
  /** How often the operator re-reads the store. @default '1h' */
  refreshInterval: z
    .string()
    .regex(/^\d+(s|m|h)$/, { message: 'is not a duration (e.g. 1h, 15m)' })
    .default('1h'),
});

export const observabilitySchema = z.strictObject({
  /** `prometheus.io/scrape|port|path` annotations on the pods, for annotation-based Prometheus configs. @default true */
  scrapeAnnotations: z.boolean(typeError('must be true or false')).default(true),
  /** A prometheus-operator `ServiceMonitor` scraping the Service's `metrics` port. @default false */
  serviceMonitor: z.boolean(typeError('must be true or false')).default(false),
  /** The starter Grafana dashboard as a ConfigMap labelled `grafana_dashboard: "1"` (Grafana sidecar). @default false */
  grafanaDashboard: z.boolean(typeError('must be true or false')).default(false),
});

/** An Argo CD `Application` that syncs this environment's rendered manifests. */
export const gitopsSchema = z.strictObject({
  /** Git repository holding the rendered manifests. */
  repoURL: gitRepositoryUrl,
  /** Branch, tag or commit Argo CD follows. @default 'HEAD' */
  targetRevision: gitRef.default('HEAD'),
  /** Directory of the manifests in that repository. @default - `dist/<env>` */
  path: z
    .string()
    .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/, { message: 'is not a relative directory in the repository' })
    .optional(),
  /** Namespace Argo CD runs in (where the Application object lives). @default 'argocd' */
  argocdNamespace: dnsLabel.default('argocd'),
  /**
   * Argo CD AppProject of this environment, created beside its Application and used by nothing
   * else. Argo CD's `default` project (every repository, namespace and kind) is refused.
   * @default - `<app>-<env>`
   */
  project: dnsLabel
    .refine((name) => name !== 'default', {
      message:
        "is Argo CD's default project, which allows every repository, namespace and kind: leave project out (the environment gets its own, <app>-<env>) or name another",
    })
    .optional(),
  /** Sync automatically, pruning deleted objects and reverting drift. @default true */
  automated: z.boolean(typeError('must be true or false')).default(true),
});

const kubernetesFields = z.strictObject({
  /** Namespace the chart creates and deploys into. */
  namespace: dnsLabel,
  /** Deployment replicas (the HPA's minimum when autoscaling is on). */
  replicas: wholeNumber.min(1, { message: 'must be at least 1' }),
  /** IngressClass name, e.g. `nginx`. */
  ingressClass: dnsLabel,
  /** Public host of the Ingress. */
  host: hostname,
  /** Secret holding the TLS certificate; required when the environment's `tls` is true. */
  tlsSecretName: dnsLabel.optional(),
  /** Existing Secret with DATABASE_URL, RATE_LIMIT_REDIS_URL, JWT secrets, wired with `envFrom`. */
  existingSecret: dnsLabel.optional(),
  /**
   * PodDisruptionBudget `minAvailable`; must be less than `replicas` (and `autoscaling.minReplicas`),
   * or no node could ever be drained.
   * @default - replicas - 1; no PodDisruptionBudget when the environment runs a single replica
   */
  minAvailable: wholeNumber.min(1, { message: 'must be at least 1' }).optional(),
  /** A HorizontalPodAutoscaler; the Deployment then leaves `spec.replicas` to it. @default - fixed `replicas` */
  autoscaling: autoscalingSchema.optional(),
  /** Container CPU and memory requests and limits. @default - requests 100m/192Mi, limits 500m/384Mi */
  resources: resourcesSchema.default({ requests: { cpu: '100m', memory: '192Mi' }, limits: { cpu: '500m', memory: '384Mi' } }),
  /** Namespace of the ingress controller, the only source allowed to the app port. @default 'ingress-nginx' */
  ingressControllerNamespace: dnsLabel.default('ingress-nginx'),
  /** Namespace of Prometheus, the only source allowed to the metrics port. @default 'monitoring' */
  monitoringNamespace: dnsLabel.default('monitoring'),
  /** Postgres and Redis: with DNS, the only egress the NetworkPolicies allow. */
  egress: egressSchema,
  /** Non-secret settings for the ConfigMap. @default - production, one proxy hop, no CORS origins, metrics on */
  settings: appSettingsSchema.default({ nodeEnv: 'production', trustProxy: '1', corsOrigins: [], metricsEnabled: true }),
  /** Fill `existingSecret` from an external secret store. @default - the Secret is created out of band */
  externalSecret: externalSecretSchema.optional(),
  /** Prometheus and Grafana wiring. @default - scrape annotations only */
  observability: observabilitySchema.default({ scrapeAnnotations: true, serviceMonitor: false, grafanaDashboard: false }),
  /** Argo CD Application for this environment. @default - none: apply with `kubectl apply --server-side` */
  gitops: gitopsSchema.optional(),
});

/**
 * Checks between fields of the kubernetes section (paths are relative to it). Each check first makes
 * sure the fields it compares are valid numbers, since zod runs refinements after a field's own failed check.
 */
function kubernetesChecks(k8s: z.output<typeof kubernetesFields>, ctx: z.RefinementCtx): void {
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1;
  const auto = k8s.autoscaling;
  if (auto && isCount(auto.minReplicas) && isCount(auto.maxReplicas) && auto.minReplicas > auto.maxReplicas) {
    ctx.addIssue({ code: 'custom', path: ['autoscaling', 'minReplicas'], message: `must not exceed autoscaling.maxReplicas (${auto.maxReplicas})` });
  }
  if (auto && auto.minReplicas === undefined && isCount(k8s.replicas) && isCount(auto.maxReplicas) && k8s.replicas > auto.maxReplicas) {
    ctx.addIssue({
      code: 'custom',
      path: ['autoscaling', 'maxReplicas'],
      message: `must be at least replicas (${k8s.replicas}), the autoscaler's default minimum`,
    });
  }
  if (isCount(k8s.minAvailable) && isCount(k8s.replicas)) {
    if (k8s.minAvailable >= k8s.replicas) {
      ctx.addIssue({
        code: 'custom',
        path: ['minAvailable'],
        message: `must be less than replicas (${k8s.replicas}): a PodDisruptionBudget that keeps every replica blocks every node drain`,
      });
    } else if (auto && isCount(auto.minReplicas) && k8s.minAvailable >= auto.minReplicas) {
      ctx.addIssue({
        code: 'custom',
        path: ['minAvailable'],
        message: `must be less than autoscaling.minReplicas (${auto.minReplicas}): at the autoscaler's minimum the budget would block every node drain`,
      });
    }
  }
  if (k8s.externalSecret && !k8s.existingSecret) {
    ctx.addIssue({ code: 'custom', path: ['existingSecret'], message: 'is required with externalSecret (it names the Secret the ExternalSecret writes)' });
  }
  if (k8s.resources && exceeds(k8s.resources.requests.memory, k8s.resources.limits.memory, parseMemoryBytes)) {
    ctx.addIssue({
      code: 'custom',
      path: ['resources', 'requests', 'memory'],
      message: `must not exceed resources.limits.memory (${k8s.resources.limits.memory})`,
    });
  }
  if (k8s.resources && exceeds(k8s.resources.requests.cpu, k8s.resources.limits.cpu, parseCpuMillis)) {
    ctx.addIssue({ code: 'custom', path: ['resources', 'requests', 'cpu'], message: `must not exceed resources.limits.cpu (${k8s.resources.limits.cpu})` });
  }
}

function exceeds(request: string, limit: string, parse: (q: string) => number | undefined): boolean {
  const r = parse(request);
  const l = parse(limit);
  return r !== undefined && l !== undefined && r > l;
}

/** How the app runs on Kubernetes in one environment. */
export const kubernetesSchema = kubernetesFields.superRefine(kubernetesChecks);

/** The AppProject an environment's Application uses: `kubernetes.gitops.project`, else `<app>-<env>`. */
export function gitopsProjectName(appName: string, environmentName: string, gitops: { readonly project?: string } | undefined): string {
  return gitops?.project ?? kubernetesNames.appProject(appName, environmentName);
}

interface EnvironmentKubernetes {
  readonly secrets: { readonly path?: string };
  readonly kubernetes: {
    readonly externalSecret?: { readonly remoteKey?: string };
    readonly gitops?: { readonly project?: string };
  };
}

/**
 * Checks of the kubernetes sections that need the app or the other environments: one AppProject
 * per environment (two environments in one project would reach each other's namespace), and an
 * ExternalSecret that reads only its own environment's Parameter Store path.
 */
export function kubernetesIssues(
  app: { readonly name: string; readonly secrets: { readonly required: readonly string[]; readonly optional: readonly string[] } },
  environments: Readonly<Record<string, EnvironmentKubernetes>>,
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const owners = new Map<string, string>();
  for (const [name, env] of Object.entries(environments)) {
    const { gitops, externalSecret } = env.kubernetes;
    if (gitops) {
      const project = gitopsProjectName(app.name, name, gitops);
      const owner = owners.get(project);
      if (owner === undefined) owners.set(project, name);
      else
        issues.push({
          path: ['environments', name, 'kubernetes', 'gitops', 'project'],
          message: `is also the AppProject of environments.${owner}; each environment needs its own (leave project out for <app>-<env>)`,
        });
    }
    if (!externalSecret) continue;
    const path = secretsPath(app.name, name, env.secrets);
    const declared = app.secrets.required.length + app.secrets.optional.length;
    if (externalSecret.remoteKey === undefined && declared === 0) {
      issues.push({
        path: ['environments', name, 'kubernetes', 'externalSecret', 'remoteKey'],
        message: `is required when app.secrets declares no names: a parameter under ${path} holding the JSON the Secret is made of`,
      });
    } else if (externalSecret.remoteKey !== undefined && !externalSecret.remoteKey.startsWith(path)) {
      issues.push({
        path: ['environments', name, 'kubernetes', 'externalSecret', 'remoteKey'],
        message: `must be a parameter under ${path}, the only path this environment's SecretStore may read`,
      });
    }
  }
  return issues;
}
