import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { buildKubernetesApps } from '../../bin/build-apps';
import { ARGOCD_DIR, GitopsApplicationChart, IN_CLUSTER } from '../../charts/gitops-application';
import { environmentsOf } from '../../lib/config';
import { configWith, shippedConfig } from '../helpers/config-fixtures';
import { findOne, type K8sObject, readManifestDir } from '../helpers/manifests';
import { sharedDist, shippedManifests } from '../helpers/synth';

/* One Argo CD Application per environment, written beside (never inside) the directory it syncs. */

describe.each(['dev', 'prod'])('the %s Argo CD Application', (env) => {
  const application = () => findOne(readManifestDir(join(sharedDist, ARGOCD_DIR)), 'Application', `auraxis-${env}`);

  test('syncs dist/<env> from the configured repository into the environment namespace, server-side', () => {
    const k8s = shippedConfig().environments[env].kubernetes;
    const app = application();
    expect(app.metadata.namespace).toBe('argocd');
    expect(app.spec.source).toEqual({ repoURL: k8s.gitops?.repoURL, targetRevision: k8s.gitops?.targetRevision, path: `dist/${env}` });
    expect(app.spec.destination).toEqual({ server: IN_CLUSTER, namespace: k8s.namespace });
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(app.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
  });

  test('is not among the manifests it syncs', () => {
    expect(shippedManifests(env).filter((o) => o.kind === 'Application')).toEqual([]);
    expect(existsSync(join(sharedDist, ARGOCD_DIR, `${env}.k8s.yaml`))).toBe(true);
  });
});

test('a custom path, a manual sync and no Application for an environment without gitops', () => {
  const config = configWith((c) => {
    c.environments.prod.kubernetes.gitops.path = 'manifests/prod';
    c.environments.prod.kubernetes.gitops.automated = false;
    delete c.environments.dev.kubernetes.gitops;
  });
  const prod = environmentsOf(config).find((e) => e.name === 'prod');
  if (!prod) throw new Error('no prod');
  const [app] = Testing.synth(new GitopsApplicationChart(Testing.app(), 'prod', { app: config.app, environment: prod })) as K8sObject[];
  expect(app.spec.source.path).toBe('manifests/prod');
  expect(app.spec.syncPolicy).toEqual({ syncOptions: ['ServerSideApply=true', 'PruneLast=true'] });

  const apps = buildKubernetesApps(config, '/nonexistent-never-written');
  const argocd = apps.get(ARGOCD_DIR);
  expect(argocd?.charts.map((c) => c.node.id)).toEqual(['prod', 'project-argocd-auraxis']);
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

test('an environment named like the Argo CD directory is refused rather than mixed into it', () => {
  // The schema reserves the name (test/config/hardening.test.ts); this is the composition's own guard behind it.
  const config = configWith(() => undefined);
  (config.environments as Record<string, unknown>).argocd = config.environments.dev;
  expect(() => buildKubernetesApps(config, '/nonexistent-never-written')).toThrow(
    "environment 'argocd' would share /nonexistent-never-written/argocd with the Argo CD Applications: rename it",
  );
});

describe('the Argo CD AppProject', () => {
  const argocd = () => readManifestDir(join(sharedDist, ARGOCD_DIR));

  test('dist/argocd/ holds one AppProject for the app, and no Application uses the default project', () => {
    const projects = argocd().filter((o) => o.kind === 'AppProject');
    expect(projects.map((p) => p.metadata.name)).toEqual(['auraxis']);
    const applications = argocd().filter((o) => o.kind === 'Application');
    expect(applications.length).toBe(2);
    expect(applications.map((a) => a.spec.project)).toEqual(['auraxis', 'auraxis']);
  });

  test('allows only this repository, only the app namespaces, and no cluster-scoped kind but Namespace', () => {
    const project = findOne(argocd(), 'AppProject', 'auraxis');
    const envs = Object.values(shippedConfig().environments);
    expect(project.metadata.namespace).toBe('argocd');
    expect(project.spec.sourceRepos).toEqual([...new Set(envs.map((e) => e.kubernetes.gitops?.repoURL))]);
    expect(project.spec.sourceRepos).not.toContain('*');
    expect(project.spec.destinations).toEqual(envs.map((e) => ({ server: IN_CLUSTER, namespace: e.kubernetes.namespace })));
    expect(project.spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }]);
  });

  test('a project named in the config is the AppProject created and used; "default" never is', () => {
    const config = configWith((c) => {
      c.environments.prod.kubernetes.gitops.project = 'shop';
    });
    const apps = buildKubernetesApps(config, '/tmp/unused');
    const objects = apps.get(ARGOCD_DIR)!.charts.flatMap((chart) => Testing.synth(chart) as K8sObject[]);
    expect(
      objects.filter((o) => o.kind === 'AppProject').map((p) => [p.metadata.name, p.spec.destinations.map((d: { namespace: string }) => d.namespace)]),
    ).toEqual([
      ['auraxis', ['auraxis-dev']],
      ['shop', ['auraxis-prod']],
    ]);
    expect(objects.filter((o) => o.kind === 'Application').map((a) => a.spec.project)).toEqual(['auraxis', 'shop']);
  });
});
