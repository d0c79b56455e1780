import { ApiObject, Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { AppConfig, NamedEnvironment } from '../lib/config';

/**
 * Directory under the manifest output (`dist/`) holding one Argo CD Application per environment,
 * `dist/argocd/<env>.k8s.yaml`. It sits beside, not inside, `dist/<env>`: an Application inside the
 * directory it syncs would manage (and could prune) itself.
 */
export const ARGOCD_DIR = 'argocd';

/** The in-cluster API server, as Argo CD names the cluster it runs in. */
export const IN_CLUSTER = 'https://kubernetes.default.svc';

export interface GitopsApplicationChartProps extends ChartProps {
  /** The application (names the Argo CD Application). */
  readonly app: AppConfig;
  /** The environment to sync; must have `kubernetes.gitops`. */
  readonly environment: NamedEnvironment;
}

/**
 * The Argo CD project of an environment's Application: the AppProject this file creates. Argo CD's
 * `default` project allows every repository, namespace and cluster-scoped kind, so the config's
 * `gitops.project: default` (the schema's default) names the app's own project instead.
 */
export function appProjectName(app: AppConfig, environment: NamedEnvironment): string {
  const project = environment.kubernetes.gitops?.project ?? 'default';
  return project === 'default' ? app.name : project;
}

export interface GitopsProjectChartProps extends ChartProps {
  /** The application the project is for. */
  readonly app: AppConfig;
  /** The environments whose Applications use this project (all in one Argo CD namespace, all with `kubernetes.gitops`). */
  readonly environments: readonly NamedEnvironment[];
}

/**
 * One Argo CD `AppProject` for the app: its Applications may sync only from this app's
 * repositories, only into the app's namespaces on the in-cluster server, and create no
 * cluster-scoped kind but the Namespace. Whoever can push the synced branch therefore reaches those
 * namespaces and nothing else of the cluster.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/projects/
 */
export class GitopsProjectChart extends Chart {
  public readonly project: ApiObject;

  constructor(scope: Construct, id: string, props: GitopsProjectChartProps) {
    super(scope, id, { ...props, disableResourceNameHashes: true });
    const { app, environments } = props;
    const first = environments[0];
    const gitops = first?.kubernetes.gitops;
    if (!first || !gitops) throw new Error(`GitopsProjectChart ${id} needs at least one environment with kubernetes.gitops`);
    this.project = new ApiObject(this, 'AppProject', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: {
        name: appProjectName(app, first),
        namespace: gitops.argocdNamespace,
        labels: { 'app.kubernetes.io/part-of': app.name },
      },
      spec: {
        description: `${app.name}: rendered manifests of ${environments.map((e) => e.name).join(', ')}`,
        sourceRepos: [...new Set(environments.map((e) => e.kubernetes.gitops?.repoURL ?? ''))].sort(),
        destinations: environments.map((e) => ({ server: IN_CLUSTER, namespace: e.kubernetes.namespace })),
        clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }],
      },
    });
  }
}

/** Where an environment's rendered manifests are in the GitOps repository: `gitops.path` or `dist/<env>`. */
export function manifestPath(environment: NamedEnvironment): string {
  return environment.kubernetes.gitops?.path ?? `dist/${environment.name}`;
}

/**
 * One Argo CD `Application` that syncs `dist/<env>` into the environment's namespace with
 * server-side apply; automated sync prunes and self-heals when `gitops.automated` is true.
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/#applications
 */
export class GitopsApplicationChart extends Chart {
  public readonly application: ApiObject;

  constructor(scope: Construct, id: string, props: GitopsApplicationChartProps) {
    super(scope, id, { ...props, disableResourceNameHashes: true });
    const { app, environment } = props;
    const gitops = environment.kubernetes.gitops;
    if (!gitops) throw new Error(`environment '${environment.name}' has no kubernetes.gitops section`);

    this.application = new ApiObject(this, 'Application', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: `${app.name}-${environment.name}`,
        namespace: gitops.argocdNamespace,
        labels: { 'app.kubernetes.io/part-of': app.name, 'app.kubernetes.io/instance': `${app.name}-${environment.name}` },
        // Deleting the Application deletes what it deployed.
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        project: appProjectName(app, environment),
        source: { repoURL: gitops.repoURL, targetRevision: gitops.targetRevision, path: manifestPath(environment) },
        destination: { server: IN_CLUSTER, namespace: environment.kubernetes.namespace },
        syncPolicy: {
          ...(gitops.automated ? { automated: { prune: true, selfHeal: true } } : {}),
          syncOptions: ['ServerSideApply=true', 'PruneLast=true'],
        },
      },
    });
  }
}
