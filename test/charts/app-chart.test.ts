import { Testing } from 'cdk8s';
import { AppChart } from '../../charts/app-chart';
import { budgetMinAvailable } from '../../charts/disruption-budget';
import { environmentsOf, type ProjectConfig } from '../../lib/config';
import { configWith, shippedConfig } from '../helpers/config-fixtures';
import { schemaProblems } from '../helpers/k8s-schema';
import { findOne, type K8sObject } from '../helpers/manifests';
import { shippedManifests } from '../helpers/synth';

/*
 * The shipped manifests (synthesized once by the global setup) checked field by field and, above all,
 * object against object: selectors, ports and probes must agree, or the app silently gets no traffic.
 */

// biome-ignore lint/suspicious/noExplicitAny: parsed manifest fragments
type Any = any;

const isSubset = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Objects of a variant config's environment, built in memory (never written to dist/). */
function synthVariant(config: ProjectConfig, env: string): K8sObject[] {
  const environment = environmentsOf(config).find((e) => e.name === env);
  if (!environment) throw new Error(`no environment ${env}`);
  return Testing.synth(new AppChart(Testing.app(), config.app.name, { app: config.app, environment })) as K8sObject[];
}

function relations(objects: K8sObject[], env: string) {
  const config = shippedConfig();
  const k8s = config.environments[env].kubernetes;
  const deployment = findOne(objects, 'Deployment');
  const podLabels: Record<string, string> = deployment.spec.template.metadata.labels;
  const podSpec = deployment.spec.template.spec;
  const containers: Any[] = podSpec.containers;
  const containerPorts: Any[] = containers.flatMap((c) => c.ports ?? []);
  const service = findOne(objects, 'Service');
  return { config, k8s, deployment, podLabels, podSpec, containers, containerPorts, service };
}

describe.each(['dev', 'prod'])('shipped %s: relations between objects', (env) => {
  const objects = () => shippedManifests(env);

  test('the Deployment selects its own pods by stable app.kubernetes.io labels only', () => {
    const { deployment, podLabels } = relations(objects(), env);
    const selector = deployment.spec.selector.matchLabels;
    expect(Object.keys(selector).sort()).toEqual(['app.kubernetes.io/instance', 'app.kubernetes.io/name']);
    expect(isSubset(selector, podLabels)).toBe(true);
  });

  test('every selector (Service, PDB, HPA target, NetworkPolicy podSelector) matches the pod labels', () => {
    const { deployment, podLabels, service } = relations(objects(), env);
    expect(isSubset(service.spec.selector, podLabels)).toBe(true);
    for (const pdb of objects().filter((o) => o.kind === 'PodDisruptionBudget')) expect(isSubset(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
    for (const hpa of objects().filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    }
    for (const policy of objects().filter((o) => o.kind === 'NetworkPolicy')) {
      const sel = policy.spec.podSelector.matchLabels ?? {};
      // Either every pod of the namespace (default deny) or a selector the app pods satisfy, or another workload's pods.
      if (policy.metadata.name === 'default-deny') expect(policy.spec.podSelector).toEqual({});
      else if (policy.metadata.name === 'auraxis-allow') expect(isSubset(sel, podLabels)).toBe(true);
    }
    for (const sm of objects().filter((o) => o.kind === 'ServiceMonitor'))
      expect(isSubset(sm.spec.selector.matchLabels, service.metadata.labels ?? {})).toBe(true);
    for (const c of podSpec(deployment).topologySpreadConstraints) expect(isSubset(c.labelSelector.matchLabels, podLabels)).toBe(true);
  });

  test('the Ingress backend names the Service and a port it exposes; Service ports target container ports', () => {
    const { service, containerPorts, k8s } = relations(objects(), env);
    const ingress = findOne(objects(), 'Ingress');
    expect(ingress.spec.ingressClassName).toBe(k8s.ingressClass);
    const rule = ingress.spec.rules[0];
    expect(rule.host).toBe(k8s.host);
    for (const path of rule.http.paths) {
      expect(path.backend.service.name).toBe(service.metadata.name);
      expect(service.spec.ports.map((p: Any) => p.port)).toContain(path.backend.service.port.number);
    }
    for (const p of service.spec.ports) expect(containerPorts.map((c) => c.containerPort)).toContain(p.targetPort);
  });

  test('the metrics port is a separate named port on the container and the Service, and the Ingress never routes to it', () => {
    const { service, containerPorts, config } = relations(objects(), env);
    expect(containerPorts).toContainEqual({ containerPort: config.app.metricsPort, name: 'metrics' });
    expect(containerPorts).toContainEqual({ containerPort: config.app.port, name: 'http' });
    expect(service.spec.ports).toContainEqual(expect.objectContaining({ name: 'metrics', port: config.app.metricsPort, targetPort: config.app.metricsPort }));
    const ingress = findOne(objects(), 'Ingress');
    const backendPorts = ingress.spec.rules.flatMap((r: Any) => r.http.paths.map((p: Any) => p.backend.service.port.number));
    expect(backendPorts).not.toContain(config.app.metricsPort);
  });

  test('probes point at a container port that exists: liveness on the health path, readiness on the ready path, a startup probe', () => {
    const { containers, config } = relations(objects(), env);
    for (const c of containers) {
      const ports = (c.ports ?? []).flatMap((p: Any) => [p.containerPort, p.name]);
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        expect(c[probe]).toBeDefined();
        expect(ports).toContain(c[probe].httpGet.port);
      }
      expect(c.livenessProbe.httpGet.path).toBe(config.app.healthPath);
      expect(c.readinessProbe.httpGet.path).toBe(config.app.readyPath);
    }
  });

  test('NetworkPolicy: the ingress-controller rule reaches only the app port; metrics only from monitoring', () => {
    const { config, k8s } = relations(objects(), env);
    const policy = findOne(objects(), 'NetworkPolicy', 'auraxis-allow');
    const fromNs = (rule: Any) => rule.from.map((f: Any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']);
    const ingressRules: Any[] = policy.spec.ingress;
    const controllerRules = ingressRules.filter((r) => fromNs(r).includes(k8s.ingressControllerNamespace));
    expect(controllerRules.length).toBeGreaterThan(0);
    for (const rule of controllerRules) {
      // An empty port list would mean every port.
      expect(rule.ports?.length).toBeGreaterThan(0);
      expect(rule.ports.map((p: Any) => p.port)).not.toContain(config.app.metricsPort);
      expect(rule.ports).toEqual([{ port: config.app.port, protocol: 'TCP' }]);
    }
    const metricsRules = ingressRules.filter((r) => (r.ports ?? []).some((p: Any) => p.port === config.app.metricsPort));
    expect(metricsRules.flatMap(fromNs)).toEqual([k8s.monitoringNamespace]);
    // No rule admits any source without naming a namespace.
    for (const rule of ingressRules) for (const from of rule.from) expect(from.namespaceSelector).toBeDefined();
  });

  test('NetworkPolicy: default deny for the namespace; egress only to DNS, Postgres and Redis', () => {
    const { k8s } = relations(objects(), env);
    const deny = findOne(objects(), 'NetworkPolicy', 'default-deny');
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Egress', 'Ingress'] });
    const egress: Any[] = findOne(objects(), 'NetworkPolicy', 'auraxis-allow').spec.egress;
    const ports = new Set(egress.flatMap((r) => r.ports.map((p: Any) => `${p.protocol}/${p.port}`)));
    expect([...ports].sort()).toEqual(['TCP/53', `TCP/${k8s.egress.postgres.port}`, `TCP/${k8s.egress.redis.port}`, 'UDP/53'].sort());
    for (const rule of egress) expect(rule.to.length).toBeGreaterThan(0);
    const dns = egress.find((r) => r.ports.some((p: Any) => p.port === 53));
    expect(dns.to).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
    ]);
    for (const [name, target] of Object.entries(k8s.egress)) {
      const peers = egress.filter((r) => r.ports.some((p: Any) => p.port === target.port)).flatMap((r) => r.to);
      if (target.cidrs) expect(peers.map((p: Any) => p.ipBlock.cidr).sort()).toEqual([...target.cidrs].sort());
      else expect(peers).toEqual([{ podSelector: { matchLabels: target.podLabels } }]);
      expect(name).toMatch(/postgres|redis/);
    }
  });

  test('PDB minAvailable is less than the replicas the app runs with, or there is no PDB for one replica', () => {
    const { k8s } = relations(objects(), env);
    const pdbs = objects().filter((o) => o.kind === 'PodDisruptionBudget');
    const floor = Math.min(k8s.replicas, k8s.autoscaling?.minReplicas ?? k8s.replicas);
    if (floor === 1) expect(pdbs).toEqual([]);
    for (const pdb of pdbs) {
      expect(pdb.apiVersion).toBe('policy/v1');
      expect(pdb.spec.minAvailable).toBeLessThan(floor);
    }
  });

  test('no container runs as root and every container has CPU and memory limits', () => {
    const { podSpec: pod, containers } = relations(objects(), env);
    expect(containers.length).toBeGreaterThan(0);
    for (const c of [...containers, ...(pod.initContainers ?? [])]) {
      const runAsNonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      const runAsUser = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
      expect(runAsNonRoot).toBe(true);
      expect(runAsUser).not.toBe(0);
      expect(c.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(c.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    }
  });
});

function podSpec(deployment: K8sObject): Any {
  return deployment.spec.template.spec;
}

describe.each(['dev', 'prod'])('shipped %s: the Deployment', (env) => {
  test('is hardened: read-only root with an emptyDir /tmp, no escalation, no capabilities, seccomp RuntimeDefault, no token', () => {
    const { podSpec: pod, containers } = relations(shippedManifests(env), env);
    const [api] = containers;
    expect(api.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    const tmp = api.volumeMounts.find((m: Any) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v: Any) => v.name === tmp.name).emptyDir).toBeDefined();
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(findOne(shippedManifests(env), 'ServiceAccount', 'auraxis').automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('auraxis');
  });

  test('rolls out with maxUnavailable 0 and spreads pods across nodes', () => {
    const { deployment, podSpec: pod } = relations(shippedManifests(env), env);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(pod.topologySpreadConstraints.map((c: Any) => c.topologyKey)).toContain('kubernetes.io/hostname');
  });

  test('runs the configured image with the configured resources; replicas from config, or from the HPA when autoscaling', () => {
    const { deployment, containers, config, k8s } = relations(shippedManifests(env), env);
    expect(containers[0].image).toBe(config.app.image);
    expect(containers[0].resources).toEqual({ requests: k8s.resources.requests, limits: k8s.resources.limits });
    const hpas = shippedManifests(env).filter((o) => o.kind === 'HorizontalPodAutoscaler');
    if (k8s.autoscaling) {
      expect(deployment.spec.replicas).toBeUndefined();
      expect(hpas).toHaveLength(1);
      expect(hpas[0].apiVersion).toBe('autoscaling/v2');
      expect(hpas[0].spec).toMatchObject({ minReplicas: k8s.autoscaling.minReplicas ?? k8s.replicas, maxReplicas: k8s.autoscaling.maxReplicas });
      expect(hpas[0].spec.metrics).toEqual([
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: k8s.autoscaling.targetCpuUtilization } } },
      ]);
    } else {
      expect(deployment.spec.replicas).toBe(k8s.replicas);
      expect(hpas).toEqual([]);
    }
  });

  test('reads settings from a ConfigMap and secrets only by reference to an existing Secret', () => {
    const { containers, k8s, config } = relations(shippedManifests(env), env);
    const cm = findOne(shippedManifests(env), 'ConfigMap', `${config.app.name}-config`);
    expect(cm.data).toEqual({
      NODE_ENV: k8s.settings.nodeEnv,
      TRUST_PROXY: k8s.settings.trustProxy,
      CORS_ORIGINS: k8s.settings.corsOrigins.join(','),
      METRICS_ENABLED: String(k8s.settings.metricsEnabled),
      PORT: String(config.app.port),
      METRICS_PORT: String(config.app.metricsPort),
    });
    expect(containers[0].envFrom).toEqual([{ configMapRef: { name: cm.metadata.name } }, { secretRef: { name: k8s.existingSecret } }]);
    expect(containers[0].env).toBeUndefined();
    expect(shippedManifests(env).filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  test('every object is in the environment namespace; the Namespace is in the Argo CD bootstrap, not here', () => {
    const { k8s } = relations(shippedManifests(env), env);
    expect(shippedManifests(env).filter((o) => o.kind === 'Namespace')).toEqual([]);
    for (const o of shippedManifests(env)) expect(o.metadata.namespace).toBe(k8s.namespace);
  });

  test("the app's secrets come through a namespaced SecretStore on the environment's own Parameter Store path, as its IRSA service account", () => {
    const { config, k8s } = relations(shippedManifests(env), env);
    const store = findOne(shippedManifests(env), 'SecretStore');
    expect(store.apiVersion).toBe('external-secrets.io/v1');
    expect(store.metadata.name).toBe('aws-parameter-store');
    expect(store.spec).toEqual({
      provider: { aws: { service: 'ParameterStore', region: 'us-east-1', auth: { jwt: { serviceAccountRef: { name: 'auraxis-secrets' } } } } },
    });
    const account = findOne(shippedManifests(env), 'ServiceAccount', 'auraxis-secrets');
    expect(account.metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': `arn:aws:iam::${shippedConfig().environments[env].account}:role/auraxis-${env}-external-secrets`,
    });
    expect(account.automountServiceAccountToken).toBe(false);
    // No pod runs as the store's account: only external-secrets uses it, through a token request.
    const pods = shippedManifests(env).flatMap((o) => (o.spec?.template?.spec ? [o.spec.template.spec] : []));
    expect(pods.map((p) => p.serviceAccountName)).toEqual(pods.map(() => 'auraxis'));
    const es = findOne(shippedManifests(env), 'ExternalSecret');
    expect(es.spec.secretStoreRef).toEqual({ name: store.metadata.name, kind: 'SecretStore' });
    expect(es.spec.target).toEqual({ name: k8s.existingSecret, creationPolicy: 'Owner' });
    expect(es.spec.data.map((d: Any) => d.remoteRef.key)).toEqual(
      [...config.app.secrets.required, ...config.app.secrets.optional].map((name) => `/auraxis/${env}/${name}`),
    );
  });
});

describe('shipped environments differ where their config does', () => {
  test('prod: TLS block with the configured secret, PDB of 2, ExternalSecret, ServiceMonitor and dashboard', () => {
    const objects = shippedManifests('prod');
    expect(findOne(objects, 'Ingress').spec.tls).toEqual([{ hosts: ['api.auraxis.com.br'], secretName: 'auraxis-api-tls' }]);
    expect(findOne(objects, 'PodDisruptionBudget').spec.minAvailable).toBe(2);
    const es = findOne(objects, 'ExternalSecret');
    expect(es.spec.target.name).toBe(shippedConfig().environments.prod.kubernetes.existingSecret);
    expect(es.spec.secretStoreRef).toEqual({ name: 'aws-parameter-store', kind: 'SecretStore' });
    // The same Parameter Store path and names the EC2 host renders its env file from.
    expect(es.spec.refreshInterval).toBe('15m');
    expect(es.spec.dataFrom).toBeUndefined();
    expect(es.spec.data).toEqual(
      ['DATABASE_URL', 'SECRET_KEY', 'ENCRYPTION_KEY', 'POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'BINANCE_TESTNET_BASE_URL', 'IBKR_BRIDGE_BASE_URL'].map(
        (name) => ({
          secretKey: name,
          remoteRef: { key: `/auraxis/prod/${name}` },
        }),
      ),
    );
    expect(findOne(objects, 'ServiceMonitor').spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    const dashboard = findOne(objects, 'ConfigMap', 'auraxis-dashboard');
    expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(dashboard.data['auraxis-api.json']).panels.length).toBeGreaterThan(3);
  });

  test('dev: HTTP only (no TLS block), one replica so no PDB, Postgres and Redis pods reachable from the app only', () => {
    const objects = shippedManifests('dev');
    expect(findOne(objects, 'Ingress').spec.tls).toBeUndefined();
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
    const podLabels = findOne(objects, 'Deployment').spec.template.metadata.labels;
    const pg = findOne(objects, 'NetworkPolicy', 'postgres-allow-from-auraxis');
    expect(pg.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'postgres' } });
    expect(pg.spec.ingress).toHaveLength(1);
    expect(isSubset(pg.spec.ingress[0].from[0].podSelector.matchLabels, podLabels)).toBe(true);
    expect(pg.spec.ingress[0].ports).toEqual([{ port: 5432, protocol: 'TCP' }]);
    expect(objects.filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    expect(findOne(objects, 'ExternalSecret').spec.refreshInterval).toBe('1h');
    expect(findOne(objects, 'Deployment').spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9464',
      'prometheus.io/path': '/metrics',
    });
  });
});

describe('variants built in memory', () => {
  test('prod with TLS off renders no tls block', () => {
    const objects = synthVariant(
      configWith((c) => {
        c.environments.prod.tls = false;
      }),
      'prod',
    );
    expect(findOne(objects, 'Ingress').spec.tls).toBeUndefined();
  });

  test('replicas without autoscaling: the Deployment keeps replicas and the PDB defaults to replicas - 1', () => {
    const config = configWith((c) => {
      delete c.environments.prod.kubernetes.autoscaling;
      delete c.environments.prod.kubernetes.minAvailable;
      c.environments.prod.kubernetes.replicas = 4;
    });
    const objects = synthVariant(config, 'prod');
    expect(findOne(objects, 'Deployment').spec.replicas).toBe(4);
    expect(findOne(objects, 'PodDisruptionBudget').spec.minAvailable).toBe(3);
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    expect(budgetMinAvailable(config.environments.prod.kubernetes)).toBe(3);
    expect(objects.flatMap(schemaProblems)).toEqual([]);
  });

  test('observability off: no scrape annotations, no ServiceMonitor, no dashboard', () => {
    const objects = synthVariant(
      configWith((c) => {
        c.environments.prod.kubernetes.observability = { scrapeAnnotations: false };
      }),
      'prod',
    );
    expect(findOne(objects, 'Deployment').spec.template.metadata.annotations).toBeUndefined();
    expect(objects.filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    expect(objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name)).toEqual(['auraxis-config']);
  });

  test('without gitops (kubectl apply), the chart renders the Namespace first, with the restricted Pod Security labels', () => {
    const objects = synthVariant(
      configWith((c) => {
        delete c.environments.dev.kubernetes.gitops;
      }),
      'dev',
    );
    expect(objects[0].kind).toBe('Namespace');
    expect(objects[0].metadata.namespace).toBeUndefined();
    expect(objects[0].metadata.name).toBe('auraxis-dev');
    expect(objects[0].metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'v1.27',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'v1.27',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'v1.27',
    });
    expect(objects.slice(1).every((o) => o.metadata.namespace === 'auraxis-dev')).toBe(true);
    expect(objects.flatMap(schemaProblems)).toEqual([]);
  });

  test('an ExternalSecret without secret names extracts the one JSON parameter of its own path', () => {
    const objects = synthVariant(
      configWith((c) => {
        c.app.secrets = {};
        c.environments.dev.kubernetes.externalSecret.remoteKey = '/auraxis/dev/api-env';
        c.environments.prod.kubernetes.externalSecret.remoteKey = '/auraxis/prod/api-env';
      }),
      'dev',
    );
    const es = findOne(objects, 'ExternalSecret');
    expect(es.spec.dataFrom).toEqual([{ extract: { key: '/auraxis/dev/api-env' } }]);
    expect(es.spec.data).toBeUndefined();
    expect(objects.flatMap(schemaProblems)).toEqual([]);
  });

  test('egress to pods in another namespace selects that namespace by name', () => {
    const objects = synthVariant(
      configWith((c) => {
        c.environments.dev.kubernetes.egress.redis = { port: 6380, podLabels: { app: 'redis' }, namespace: 'data' };
      }),
      'dev',
    );
    const egress = findOne(objects, 'NetworkPolicy', 'auraxis-allow').spec.egress;
    expect(egress).toContainEqual({
      ports: [{ port: 6380, protocol: 'TCP' }],
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } }, podSelector: { matchLabels: { app: 'redis' } } }],
    });
    expect(objects.filter((o) => o.metadata.name === 'redis-allow-from-auraxis')).toEqual([]);
    expect(objects.flatMap(schemaProblems)).toEqual([]);
  });

  test('no existing Secret: no secretRef, and still no literal Secret', () => {
    const objects = synthVariant(
      configWith((c) => {
        delete c.environments.dev.kubernetes.existingSecret;
        delete c.environments.dev.kubernetes.externalSecret;
      }),
      'dev',
    );
    expect(objects.filter((o) => o.apiVersion.startsWith('external-secrets.io/'))).toEqual([]);
    expect(findOne(objects, 'Deployment').spec.template.spec.containers[0].envFrom).toEqual([{ configMapRef: { name: 'auraxis-config' } }]);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });
});
