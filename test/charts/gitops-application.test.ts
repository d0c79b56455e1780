import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { buildKubernetesApps } from '../../bin/build-apps';
import { AppChart } from '../../charts/app-chart';
import { ARGOCD_DIR, GitopsApplicationChart, IN_CLUSTER, namespacedKindsOf } from '../../charts/gitops-application';
import { POD_SECURITY } from '../../charts/namespace';
import { environmentsOf, type ProjectConfig } from '../../lib/config';
import { configWith, problemsOf, shippedConfig, shippedConfigInput } from '../helpers/config-fixtures';
import { findOne, type K8sObject, readManifestDir } from '../helpers/manifests';
import { sharedDist, shippedManifests } from '../helpers/synth';

/*
 * Each synced environment's Argo CD bootstrap (dist/argocd/<env>.k8s.yaml): its Namespace with the
 * restricted Pod Security labels, its own AppProject admitting exactly what its chart renders, and
 * its Application, beside (never inside) the directory it syncs.
 */

const ENVS = ['dev', 'prod'] as const;
const bootstrap = (env: string) => readManifestDir(join(sharedDist, ARGOCD_DIR)).filter((o) => o.metadata.name === `auraxis-${env}`);
const argocd = () => readManifestDir(join(sharedDist, ARGOCD_DIR));

/** The (group, kind) pairs of a set of objects, computed here independently of the chart code. */
const sortKinds = (kinds: { group: string; kind: string }[]) => [...kinds].sort((a, b) => `${a.group}|${a.kind}`.localeCompare(`${b.group}|${b.kind}`));
const kindsIn = (objects: readonly K8sObject[]) =>
  sortKinds(
    [...new Set(objects.map((o) => `${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}|${o.kind}`))].map((k) => ({
      group: k.split('|')[0],
      kind: k.split('|')[1],
    })),
  );

/** The bootstrap objects of a variant config, built in memory (never written to dist/). */
function bootstrapOf(config: ProjectConfig): K8sObject[] {
  const argo = buildKubernetesApps(config, '/nonexistent-never-written').get(ARGOCD_DIR);
  return argo ? argo.charts.flatMap((chart) => Testing.synth(chart) as K8sObject[]) : [];
}

test('dist/argocd/ holds one file per synced environment: its Namespace, AppProject and Application, in that order', () => {
  expect(readdirSync(join(sharedDist, ARGOCD_DIR)).sort()).toEqual(['dev.k8s.yaml', 'prod.k8s.yaml']);
  for (const env of ENVS) {
    expect(bootstrap(env).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      `Namespace/auraxis-${env}`,
      `AppProject/auraxis-${env}`,
      `Application/auraxis-${env}`,
    ]);
  }
});

describe.each(ENVS)('the %s Argo CD bootstrap', (env) => {
  const k8s = () => shippedConfig().environments[env].kubernetes;
  const project = () => findOne(bootstrap(env), 'AppProject');
  const application = () => findOne(bootstrap(env), 'Application');

  test('the Application syncs dist/<env> from the configured repository into the environment namespace, server-side, in its own project', () => {
    const app = application();
    expect(app.metadata.namespace).toBe('argocd');
    expect(app.spec.project).toBe(`auraxis-${env}`);
    expect(app.spec.source).toEqual({ repoURL: k8s().gitops?.repoURL, targetRevision: k8s().gitops?.targetRevision, path: `dist/${env}` });
    expect(app.spec.destination).toEqual({ server: IN_CLUSTER, namespace: k8s().namespace });
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(app.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
    expect((app.metadata as { finalizers?: string[] }).finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
  });

  test('the AppProject: only its repository, exactly one destination (its namespace on the in-cluster server), no cluster-scoped kind', () => {
    const p = project();
    expect(p.metadata).toMatchObject({ name: `auraxis-${env}`, namespace: 'argocd' });
    expect(p.spec.sourceRepos).toEqual([k8s().gitops?.repoURL]);
    expect(p.spec.destinations).toEqual([{ server: IN_CLUSTER, namespace: k8s().namespace }]);
    expect(p.spec.clusterResourceWhitelist).toEqual([]);
    expect(JSON.stringify(p.spec)).not.toContain('*');
    expect(Object.keys(p.spec).sort()).toEqual(['clusterResourceWhitelist', 'description', 'destinations', 'namespaceResourceWhitelist', 'sourceRepos']);
  });

  test('the AppProject admits exactly the kinds dist/<env> holds: every rendered kind, nothing else', () => {
    const rendered = kindsIn(shippedManifests(env));
    expect(rendered.length).toBeGreaterThan(8);
    expect(sortKinds(project().spec.namespaceResourceWhitelist)).toEqual(rendered);
  });

  test('the Namespace enforces, audits and warns on the restricted Pod Security Standard at a pinned version, and is not among the synced manifests', () => {
    const ns = findOne(bootstrap(env), 'Namespace');
    expect(ns.metadata.namespace).toBeUndefined();
    expect(ns.metadata.labels).toEqual({
      'app.kubernetes.io/part-of': 'auraxis',
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'v1.27',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'v1.27',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'v1.27',
    });
    expect(POD_SECURITY).toEqual({ level: 'restricted', version: 'v1.27' });
    expect(shippedManifests(env).filter((o) => o.kind === 'Namespace' || o.metadata.namespace === undefined)).toEqual([]);
  });

  test("no bootstrap object carries the Application's instance label (Argo CD's label tracking would prune it)", () => {
    for (const o of bootstrap(env)) expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBeUndefined();
  });

  test('the Application is not among the manifests it syncs', () => {
    expect(shippedManifests(env).filter((o) => o.apiVersion.startsWith('argoproj.io/'))).toEqual([]);
    expect(existsSync(join(sharedDist, ARGOCD_DIR, `${env}.k8s.yaml`))).toBe(true);
  });
});

test('acceptance: one AppProject per environment, each with one destination namespace, no two alike; no Application in a shared or default project', () => {
  const projects = argocd().filter((o) => o.kind === 'AppProject');
  expect(projects.map((p) => p.metadata.name)).toEqual(['auraxis-dev', 'auraxis-prod']);
  expect(projects.map((p) => p.spec.destinations.map((d: { namespace: string }) => d.namespace))).toEqual([['auraxis-dev'], ['auraxis-prod']]);
  expect(
    argocd()
      .filter((o) => o.kind === 'Application')
      .map((a) => [a.metadata.name, a.spec.project]),
  ).toEqual([
    ['auraxis-dev', 'auraxis-dev'],
    ['auraxis-prod', 'auraxis-prod'],
  ]);
});

test('the whitelist follows the chart (derived, not kept by hand): an autoscaler and a ServiceMonitor in dev, no migration in prod', () => {
  const objects = bootstrapOf(
    configWith((c) => {
      c.environments.dev.kubernetes.autoscaling = { maxReplicas: 2 };
      c.environments.dev.kubernetes.observability = { serviceMonitor: true };
      delete c.app.migration;
    }),
  );
  const whitelist = (name: string) =>
    findOne(objects, 'AppProject', name).spec.namespaceResourceWhitelist.map((k: { group: string; kind: string }) => `${k.group}/${k.kind}`);
  expect(findOne(bootstrap('dev'), 'AppProject').spec.namespaceResourceWhitelist).not.toContainEqual({ group: 'autoscaling', kind: 'HorizontalPodAutoscaler' });
  expect(whitelist('auraxis-dev')).toEqual(expect.arrayContaining(['autoscaling/HorizontalPodAutoscaler', 'monitoring.coreos.com/ServiceMonitor']));
  expect(whitelist('auraxis-dev')).not.toContain('batch/Job');
  expect(whitelist('auraxis-prod')).not.toContain('batch/Job');
  expect(findOne(bootstrap('prod'), 'AppProject').spec.namespaceResourceWhitelist).toContainEqual({ group: 'batch', kind: 'Job' });
});

test('namespacedKindsOf refuses a chart that renders a cluster-scoped object (the project would refuse its sync)', () => {
  const config = configWith((c) => delete c.environments.dev.kubernetes.gitops);
  const dev = environmentsOf(config).find((e) => e.name === 'dev');
  if (!dev) throw new Error('no dev');
  // Without gitops the chart renders its own Namespace (the kubectl path).
  const chart = new AppChart(Testing.app(), 'auraxis', { app: config.app, environment: dev });
  expect(() => namespacedKindsOf(chart)).toThrow(
    "auraxis renders Namespace auraxis-dev without a namespace; an environment's AppProject admits no cluster-scoped kind",
  );
});

test('a custom path, a manual sync and no bootstrap for an environment without gitops', () => {
  const config = configWith((c) => {
    c.environments.prod.kubernetes.gitops.path = 'manifests/prod';
    c.environments.prod.kubernetes.gitops.automated = false;
    delete c.environments.dev.kubernetes.gitops;
  });
  const prod = environmentsOf(config).find((e) => e.name === 'prod');
  if (!prod) throw new Error('no prod');
  const appChart = new AppChart(Testing.app(), 'auraxis', { app: config.app, environment: prod });
  const objects = Testing.synth(new GitopsApplicationChart(Testing.app(), 'prod', { app: config.app, environment: prod, appChart })) as K8sObject[];
  const app = findOne(objects, 'Application');
  expect(app.spec.source.path).toBe('manifests/prod');
  expect(app.spec.syncPolicy).toEqual({ syncOptions: ['ServerSideApply=true', 'PruneLast=true'] });
  expect(findOne(objects, 'AppProject').spec.description).toBe(
    'auraxis-prod: manifests/prod of https://github.com/auraxis/auraxis-infra.git into namespace auraxis-prod, nothing else',
  );

  const apps = buildKubernetesApps(config, '/nonexistent-never-written');
  expect(apps.get(ARGOCD_DIR)?.charts.map((c) => c.node.id)).toEqual(['prod']);
  expect(
    buildKubernetesApps(
      configWith((c) => {
        delete c.environments.dev.kubernetes.gitops;
        delete c.environments.prod.kubernetes.gitops;
      }),
      '/nonexistent-never-written',
    ).has(ARGOCD_DIR),
  ).toBe(false);
});

test('a project named in the config is the AppProject created and used', () => {
  const objects = bootstrapOf(configWith((c) => (c.environments.prod.kubernetes.gitops.project = 'shop-prod')));
  expect(objects.filter((o) => o.kind === 'AppProject').map((p) => p.metadata.name)).toEqual(['auraxis-dev', 'shop-prod']);
  expect(objects.filter((o) => o.kind === 'Application').map((a) => a.spec.project)).toEqual(['auraxis-dev', 'shop-prod']);
});

test.each<[string, (c: ReturnType<typeof shippedConfigInput>) => void, string]>([
  [
    "Argo CD's default project",
    (c) => (c.environments.prod.kubernetes.gitops.project = 'default'),
    'environments.prod.kubernetes.gitops.project: "default" is Argo CD\'s default project, which allows every repository, namespace and kind: leave project out (the environment gets its own, <app>-<env>) or name another',
  ],
  [
    'one project for two environments',
    (c) => (c.environments.prod.kubernetes.gitops.project = 'auraxis-dev'),
    'environments.prod.kubernetes.gitops.project: "auraxis-dev" is also the AppProject of environments.dev; each environment needs its own (leave project out for <app>-<env>)',
  ],
])('refused: %s', (_name, edit, message) => {
  const raw = shippedConfigInput();
  edit(raw);
  expect(problemsOf(raw)).toEqual([message]);
});

test('an environment named like the Argo CD directory is refused rather than mixed into it', () => {
  // The schema reserves the name (test/config/hardening.test.ts); this is the composition's own guard behind it.
  const config = configWith(() => undefined);
  (config.environments as Record<string, unknown>).argocd = config.environments.dev;
  expect(() => buildKubernetesApps(config, '/nonexistent-never-written')).toThrow(
    "environment 'argocd' would share /nonexistent-never-written/argocd with the Argo CD Applications: rename it",
  );
});

test('acceptance: no ClusterSecretStore anywhere in dist/', () => {
  const text = readdirSync(sharedDist, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => readFileSync(join(sharedDist, f), 'utf8'))
    .join('\n');
  expect(text).toContain('kind: SecretStore');
  expect(text).not.toMatch(/ClusterSecretStore/i);
});
