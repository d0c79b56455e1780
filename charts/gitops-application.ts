import { ApiObject, Chart, type ChartProps, Lazy } from 'cdk8s';
import type { Construct } from 'constructs';
import type { AppConfig, NamedEnvironment } from '../lib/config';
import { gitopsProjectName } from '../lib/config/schema/kubernetes';
import { EnvironmentNamespace } from './namespace';

/**
 * Directory under the manifest output (`dist/`) holding each synced environment's Argo CD bootstrap,
 * `dist/argocd/<env>.k8s.yaml`: its Namespace, AppProject and Application, applied once by an
 * administrator. It sits beside, not inside, `dist/<env>`: an Application inside the directory it
 * syncs would manage (and could prune) itself, its project and its namespace.
 */
export const ARGOCD_DIR = 'argocd';

/** The in-cluster API server, as Argo CD names the cluster it runs in. */
export const IN_CLUSTER = 'https://kubernetes.default.svc';

/** The AppProject of an environment's Application: `kubernetes.gitops.project`, else `<app>-<env>`, one per environment. */
export function appProjectName(app: AppConfig, environment: NamedEnvironment): string {
  return gitopsProjectName(app.name, environment.name, environment.kubernetes.gitops);
}

/** A kind as Argo CD's resource allow lists name it: the API group (`''` for the core group) and the kind. */
export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

/**
 * Every kind a chart renders, as sorted (group, kind) pairs: what the environment's AppProject
 * admits, derived from the rendered objects so it cannot drift from them. A cluster-scoped object
 * (one without `metadata.namespace`) is an error: the project admits none.
 */
export function namespacedKindsOf(chart: Chart): GroupKind[] {
  const kinds = new Map<string, GroupKind>();
  for (const object of chart.toJson() as { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } }[]) {
    if (!object.metadata?.namespace) {
      throw new Error(
        `${chart.node.id} renders ${object.kind} ${object.metadata?.name} without a namespace; an environment's AppProject admits no cluster-scoped kind`,
      );
    }
    const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
    kinds.set(`${group}/${object.kind}`, { group, kind: object.kind });
  }
  return [...kinds.values()].sort((a, b) => a.group.localeCompare(b.group) || a.kind.localeCompare(b.kind));
}

/** Where an environment's rendered manifests are in the GitOps repository: `gitops.path` or `dist/<env>`. */
export function manifestPath(environment: NamedEnvironment): string {
  return environment.kubernetes.gitops?.path ?? `dist/${environment.name}`;
}

export interface GitopsApplicationChartProps extends ChartProps {
  /** The application (names the Argo CD Application). */
  readonly app: AppConfig;
  /** The environment to sync; must have `kubernetes.gitops`. */
  readonly environment: NamedEnvironment;
  /**
   * The environment's chart, as it renders `dist/<env>`: the kinds it renders are exactly the
   * kinds its AppProject admits (`namespaceResourceWhitelist`).
   */
  readonly appChart: Chart;
}

/**
 * One environment's Argo CD bootstrap, applied once by an administrator (docs/kubernetes.md):
 * - its Namespace, with the `restricted` Pod Security labels (`./namespace`);
 * - its own AppProject: sources only its gitops repository; destinations only its namespace on the
 *   in-cluster server; namespaced kinds only those its chart renders; no cluster-scoped kind at all,
 *   so whoever can push the synced branch can neither reach another environment's namespace nor
 *   relabel, create or delete a Namespace;
 * - its Application, syncing `dist/<env>` into the namespace with server-side apply; automated sync
 *   prunes and self-heals when `gitops.automated` is true.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/projects/
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/#applications
 */
export class GitopsApplicationChart extends Chart {
  public readonly namespaceObject: EnvironmentNamespace;
  public readonly project: ApiObject;
  public readonly application: ApiObject;

  constructor(scope: Construct, id: string, props: GitopsApplicationChartProps) {
    super(scope, id, { ...props, disableResourceNameHashes: true });
    const { app, environment } = props;
    const gitops = environment.kubernetes.gitops;
    if (!gitops) throw new Error(`environment '${environment.name}' has no kubernetes.gitops section`);
    const namespace = environment.kubernetes.namespace;
    const instance = `${app.name}-${environment.name}`;
    // Never `app.kubernetes.io/instance: <Application name>` here: Argo CD's label tracking would take
    // these objects (the Namespace, even the Application) for resources of the app, missing from
    // git, and prune them.
    const labels = { 'app.kubernetes.io/part-of': app.name };
    const destination = { server: IN_CLUSTER, namespace };

    this.namespaceObject = new EnvironmentNamespace(this, 'Namespace', { name: namespace, labels });

    this.project = new ApiObject(this, 'AppProject', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: { name: appProjectName(app, environment), namespace: gitops.argocdNamespace, labels },
      spec: {
        description: `${instance}: ${manifestPath(environment)} of ${gitops.repoURL} into namespace ${namespace}, nothing else`,
        sourceRepos: [gitops.repoURL],
        destinations: [destination],
        // Resolved at synth from the chart as rendered (hooks and optional objects included).
        namespaceResourceWhitelist: Lazy.any({ produce: () => namespacedKindsOf(props.appChart) }),
        clusterResourceWhitelist: [],
      },
    });

    this.application = new ApiObject(this, 'Application', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: instance,
        namespace: gitops.argocdNamespace,
        labels,
        // Deleting the Application deletes what it deployed.
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        project: appProjectName(app, environment),
        source: { repoURL: gitops.repoURL, targetRevision: gitops.targetRevision, path: manifestPath(environment) },
        destination,
        syncPolicy: {
          ...(gitops.automated ? { automated: { prune: true, selfHeal: true } } : {}),
          syncOptions: ['ServerSideApply=true', 'PruneLast=true'],
        },
      },
    });
  }
}
