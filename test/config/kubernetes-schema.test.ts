import { stringify } from 'yaml';
import { ConfigError, parseConfigYaml } from '../../lib/config';
import { configWith, problemsOf, shippedConfigInput } from '../helpers/config-fixtures';

/*
 * Bad Kubernetes input fails at synth (config validation is synth's first step) with the key path and
 * the value. GIVEN the shipped config with one field broken, THEN the exact line is reported.
 */

// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, broken on purpose
type Raw = Record<string, any>;

function brokenBy(edit: (raw: Raw) => void): readonly string[] {
  const raw = shippedConfigInput();
  edit(raw);
  return problemsOf(raw);
}

const prod = (c: Raw) => c.environments.prod.kubernetes;
const dev = (c: Raw) => c.environments.dev.kubernetes;

test.each<[string, (raw: Raw) => void, string]>([
  ['replicas 0', (c) => (prod(c).replicas = 0), 'environments.prod.kubernetes.replicas: 0 must be at least 1'],
  ['replicas not a whole number', (c) => (prod(c).replicas = 2.5), 'environments.prod.kubernetes.replicas: 2.5 must be a whole number'],
  [
    'minAvailable equal to replicas',
    (c) => {
      delete prod(c).autoscaling;
      prod(c).minAvailable = 3;
    },
    'environments.prod.kubernetes.minAvailable: 3 must be less than replicas (3): a PodDisruptionBudget that keeps every replica blocks every node drain',
  ],
  ['minAvailable above replicas', (c) => (prod(c).minAvailable = 5), 'environments.prod.kubernetes.minAvailable: 5 must be less than replicas (3)'],
  ['minAvailable on a single replica', (c) => (dev(c).minAvailable = 1), 'environments.dev.kubernetes.minAvailable: 1 must be less than replicas (1)'],
  [
    'minAvailable at the autoscaler minimum',
    (c) => {
      prod(c).replicas = 4;
      prod(c).minAvailable = 3;
    },
    'environments.prod.kubernetes.minAvailable: 3 must be less than autoscaling.minReplicas (3)',
  ],
  [
    'HPA min > max',
    (c) => (prod(c).autoscaling = { minReplicas: 5, maxReplicas: 4 }),
    'environments.prod.kubernetes.autoscaling.minReplicas: 5 must not exceed autoscaling.maxReplicas (4)',
  ],
  [
    'HPA max below the default minimum (replicas)',
    (c) => (prod(c).autoscaling = { maxReplicas: 2 }),
    'environments.prod.kubernetes.autoscaling.maxReplicas: 2 must be at least replicas (3)',
  ],
  [
    'HPA target over 100%',
    (c) => (prod(c).autoscaling.targetCpuUtilization = 150),
    'environments.prod.kubernetes.autoscaling.targetCpuUtilization: 150 must be from 1 to 100',
  ],
  [
    'a host that is not a hostname',
    (c) => (prod(c).host = 'api_auraxis'),
    'environments.prod.kubernetes.host: "api_auraxis" is not a hostname (e.g. api.example.com)',
  ],
  [
    'a host with a scheme',
    (c) => (prod(c).host = 'https://api.auraxis.com.br'),
    'environments.prod.kubernetes.host: "https://api.auraxis.com.br" is not a hostname',
  ],
  [
    'TLS on without a secret name',
    (c) => delete prod(c).tlsSecretName,
    'environments.prod.kubernetes.tlsSecretName: is required when this environment has tls: true',
  ],
  [
    'an image without a tag or digest',
    (c) => (c.app.image = 'ghcr.io/auraxis/auraxis-api'),
    'app.image: "ghcr.io/auraxis/auraxis-api" is not an image pinned by tag or digest',
  ],
  [
    'an image on :latest',
    (c) => (c.app.image = 'ghcr.io/auraxis/auraxis-api:latest'),
    'app.image: "ghcr.io/auraxis/auraxis-api:latest" uses the mutable tag "latest"',
  ],
  ['an egress target with both CIDRs and pods', (c) => (prod(c).egress.redis.podLabels = { app: 'redis' }), 'environments.prod.kubernetes.egress.redis: {'],
  [
    'an egress target with neither',
    (c) => (prod(c).egress.postgres = { port: 5432 }),
    'environments.prod.kubernetes.egress.postgres: {"port":5432} must give exactly one of cidrs or podLabels',
  ],
  [
    'an egress CIDR that is not one',
    (c) => (prod(c).egress.postgres.cidrs = ['10.20.0.0']),
    'environments.prod.kubernetes.egress.postgres.cidrs[0]: "10.20.0.0" is not an IPv4 CIDR',
  ],
  ['an empty pod selector', (c) => (dev(c).egress.redis.podLabels = {}), 'environments.dev.kubernetes.egress.redis.podLabels: {} must hold at least one label'],
  ['no egress section', (c) => delete dev(c).egress, 'environments.dev.kubernetes.egress: is required'],
  [
    'an external secret without the Secret it fills',
    (c) => delete prod(c).existingSecret,
    'environments.prod.kubernetes.existingSecret: is required with externalSecret',
  ],
  [
    'a ClusterSecretStore (usable from every namespace)',
    (c) => (prod(c).externalSecret.storeKind = 'ClusterSecretStore'),
    'environments.prod.kubernetes.externalSecret.storeKind: "ClusterSecretStore" must be SecretStore: a ClusterSecretStore can be used from every namespace of the cluster; the chart renders a namespaced SecretStore reading only this environment\'s path (remove storeKind)',
  ],
  [
    "an external secret key under another environment's path",
    (c) => (prod(c).externalSecret.remoteKey = '/auraxis/dev/api-env'),
    'environments.prod.kubernetes.externalSecret.remoteKey: "/auraxis/dev/api-env" must be a parameter under /auraxis/prod/, the only path this environment\'s SecretStore may read',
  ],
  [
    'an external secret key that shares only a prefix with the path',
    (c) => (dev(c).externalSecret.remoteKey = '/auraxis/dev-eu/api-env'),
    'environments.dev.kubernetes.externalSecret.remoteKey: "/auraxis/dev-eu/api-env" must be a parameter under /auraxis/dev/, the only path this environment\'s SecretStore may read',
  ],
  [
    'an external secret key that is not a parameter name',
    (c) => (prod(c).externalSecret.remoteKey = 'auraxis/prod/api-env'),
    'environments.prod.kubernetes.externalSecret.remoteKey: "auraxis/prod/api-env" is not a parameter name (absolute, e.g. /auraxis/prod/api-env)',
  ],
  [
    'a memory quantity without unit',
    (c) => (prod(c).resources.limits.memory = '384'),
    'environments.prod.kubernetes.resources.limits.memory: "384" is not a memory quantity in Mi or Gi',
  ],
  [
    'a CPU quantity with a typo',
    (c) => (prod(c).resources.requests.cpu = '100mc'),
    'environments.prod.kubernetes.resources.requests.cpu: "100mc" is not a CPU quantity',
  ],
  [
    'requests above limits',
    (c) => (prod(c).resources.requests.memory = '1Gi'),
    'environments.prod.kubernetes.resources.requests.memory: "1Gi" must not exceed resources.limits.memory (384Mi)',
  ],
  [
    'CPU requests above limits',
    (c) => (prod(c).resources.requests.cpu = '1'),
    'environments.prod.kubernetes.resources.requests.cpu: "1" must not exceed resources.limits.cpu (500m)',
  ],
  [
    'an ingress controller namespace that is not a DNS label',
    (c) => (prod(c).ingressControllerNamespace = 'Ingress_Nginx'),
    'environments.prod.kubernetes.ingressControllerNamespace: "Ingress_Nginx" is not a DNS label',
  ],
  [
    'a CORS origin with a path',
    (c) => (prod(c).settings.corsOrigins = ['https://auraxis.com.br/app']),
    'environments.prod.kubernetes.settings.corsOrigins[0]: "https://auraxis.com.br/app" is not an origin',
  ],
  [
    'a GitOps repo that is not a git URL',
    (c) => (prod(c).gitops.repoURL = 'auraxis-infra'),
    'environments.prod.kubernetes.gitops.repoURL: "auraxis-infra" is not a git remote URL',
  ],
  ['an unknown kubernetes key', (c) => (prod(c).replica = 3), 'environments.prod.kubernetes.replica: is not a known key'],
])('%s', (_name, edit, expected) => {
  const problems = brokenBy(edit);
  expect(problems).toContainEqual(expect.stringContaining(expected));
});

test('every problem is reported at once, each with its key path', () => {
  const problems = brokenBy((c) => {
    prod(c).replicas = 0;
    dev(c).host = 'not a host';
    prod(c).autoscaling = { minReplicas: 5, maxReplicas: 4 };
  });
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringContaining('environments.prod.kubernetes.replicas: 0'),
      expect.stringContaining('environments.dev.kubernetes.host: "not a host"'),
      expect.stringContaining('environments.prod.kubernetes.autoscaling.minReplicas: 5'),
    ]),
  );
});

test('synth stops on bad Kubernetes input: the YAML loader throws a ConfigError naming the key path', () => {
  const raw = shippedConfigInput();
  raw.environments.prod.kubernetes.minAvailable = 3;
  delete raw.environments.prod.kubernetes.autoscaling;
  expect(() => parseConfigYaml(stringify(raw), 'config/environments.yaml')).toThrow(ConfigError);
  expect(() => parseConfigYaml(stringify(raw), 'config/environments.yaml')).toThrow(
    /environments\.prod\.kubernetes\.minAvailable: 3 must be less than replicas \(3\)/,
  );
});

test('defaults: ingress-nginx and monitoring namespaces, settings, resources, scrape annotations; gitops path left to the chart', () => {
  const config = configWith((c) => {
    for (const key of ['resources', 'settings', 'observability', 'ingressControllerNamespace', 'monitoringNamespace']) delete dev(c)[key];
  });
  const k8s = config.environments.dev.kubernetes;
  expect(k8s.ingressControllerNamespace).toBe('ingress-nginx');
  expect(k8s.monitoringNamespace).toBe('monitoring');
  expect(k8s.settings).toEqual({ nodeEnv: 'production', trustProxy: '1', corsOrigins: [], metricsEnabled: true });
  expect(k8s.resources).toEqual({ requests: { cpu: '100m', memory: '192Mi' }, limits: { cpu: '500m', memory: '384Mi' } });
  expect(k8s.observability).toEqual({ scrapeAnnotations: true, serviceMonitor: false, grafanaDashboard: false });
  expect(k8s.gitops).toEqual({
    repoURL: 'https://github.com/auraxis/auraxis-infra.git',
    targetRevision: 'rendered',
    argocdNamespace: 'argocd',
    // project left out: the environment's own AppProject, <app>-<env> (charts/gitops-application.ts).
    automated: true,
  });
  expect(configWith((c) => (dev(c).autoscaling = { maxReplicas: 3 })).environments.dev.kubernetes.autoscaling).toEqual({
    maxReplicas: 3,
    targetCpuUtilization: 70,
  });
});

test('an external secret with no secret names needs the JSON parameter to extract, under its own path', () => {
  expect(
    brokenBy((c) => {
      c.app.secrets = {};
    }),
  ).toEqual([
    'environments.dev.kubernetes.externalSecret.remoteKey: is required when app.secrets declares no names: a parameter under /auraxis/dev/ holding the JSON the Secret is made of',
    'environments.prod.kubernetes.externalSecret.remoteKey: is required when app.secrets declares no names: a parameter under /auraxis/prod/ holding the JSON the Secret is made of',
  ]);
  // Positive control: under its own path (also a configured one) it is accepted.
  expect(
    brokenBy((c) => {
      c.app.secrets = {};
      c.environments.dev.secrets = { path: '/team/auraxis-dev/' };
      dev(c).externalSecret.remoteKey = '/team/auraxis-dev/api-env';
      prod(c).externalSecret.remoteKey = '/auraxis/prod/api-env';
    }),
  ).toEqual([]);
  expect(configWith((c) => (prod(c).externalSecret.storeKind = 'SecretStore')).environments.prod.kubernetes.externalSecret?.storeKind).toBe('SecretStore');
});
