import * as cdk from 'aws-cdk-lib';
import * as cdk8s from 'cdk8s';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AppChart } from '../charts/app-chart';
import { ARGOCD_DIR, GitopsApplicationChart } from '../charts/gitops-application';
import { environmentsOf, type NamedEnvironment, type ProjectConfig } from '../lib/config';
import type { HostDocumentSpec } from '../lib/host-runtime/document-spec';
import { hostDocumentSpecs } from '../lib/host-runtime/documents';
import { stackNames } from '../lib/names';
import { DataStack } from '../lib/stacks/data-stack';
import { HostStack } from '../lib/stacks/host-stack';
import { AccountStack } from '../lib/stacks/account-stack';
import { HEALTH_STACK_REGION, HealthStack } from '../lib/stacks/health-stack';

/*
 * Composition only: turn a validated config into CDK stacks and cdk8s charts.
 * No file or environment-variable reads happen here, so tests and the benchmark can compose
 * from generated configs; `bin/app.ts` and `bin/synth.ts` do the I/O.
 */

export interface AwsAppOptions {
  /** Cloud assembly directory. @default - the CDK CLI's choice (`cdk.out`) */
  readonly outdir?: string;
  /** Feature flags and other context, as `cdk.json` holds them. @default - from the CDK CLI */
  readonly context?: Record<string, unknown>;
}

/** One environment's data stack and the host stack that uses its bucket, topic and log groups. */
export interface EnvironmentStacks {
  readonly data: DataStack;
  readonly host: HostStack;
}

export interface EnvironmentStacksOptions {
  /** SSM documents of the host. @default - the reviewed scripts of scripts/host (`hostDocumentSpecs`) */
  readonly hostDocuments?: readonly HostDocumentSpec[];
}

/** Adds one environment's data and host stacks to an app, wired to each other. */
export function addEnvironmentStacks(app: cdk.App, config: ProjectConfig, environment: NamedEnvironment, options: EnvironmentStacksOptions = {}): EnvironmentStacks {
  const env = { account: environment.account, region: environment.region };
  const data = new DataStack(app, stackNames.data(config.app.name, environment.name), {
    env,
    app: config.app,
    environment,
    description: `${config.app.name} ${environment.name}: state that outlives the host (backups, logs, alarm topic)`,
    terminationProtection: true,
  });
  const host = new HostStack(app, stackNames.host(config.app.name, environment.name), {
    env,
    app: config.app,
    environment,
    githubRepository: config.github.repository,
    hostBackupsPolicy: data.hostBackupsPolicy,
    alarmTopic: data.alarmTopic,
    containerLogGroup: data.containerLogGroup,
    systemLogGroup: data.systemLogGroup,
    dataVolume: data.dataVolume.volume,
    // The reviewed scripts of scripts/host, as SSM documents: what runs on the host is what was merged.
    hostDocuments: options.hostDocuments ?? hostDocumentSpecs(config.app, environment, { backupBucketName: data.backupsBucket.bucketName }),
    description: `${config.app.name} ${environment.name}: EC2 compose host, VPC, host alarms, SSM documents, GitHub deploy role`,
  });
  return { data, host };
}

/** Every AWS stack for every environment, with cdk-nag's AWS Solutions checks run at synth. */
export function buildAwsApp(config: ProjectConfig, options: AwsAppOptions = {}): cdk.App {
  const app = new cdk.App({ outdir: options.outdir, context: options.context });
  cdk.Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const hosts: HostStack[] = [];
  for (const environment of environmentsOf(config)) {
    hosts.push(addEnvironmentStacks(app, config, environment).host);
  }
  // Account-wide guardrails once per distinct account, in us-east-1 (Budgets and Cost Explorer live there).
  for (const account of [...new Set(environmentsOf(config).map((e) => e.account))]) {
    new AccountStack(app, stackNames.account(config.app.name, account), {
      env: { account, region: HEALTH_STACK_REGION },
      appName: config.app.name,
      account,
      costGuardrails: config.costGuardrails,
      description: `${config.app.name} account ${account}: monthly budget, cost anomaly alerts, GitHub OIDC provider`,
    });
  }
  // Route53 health checks: always us-east-1, the only region with their metrics, whatever the env's region.
  for (const environment of environmentsOf(config)) {
    new HealthStack(app, stackNames.health(config.app.name, environment.name), {
      env: { account: environment.account, region: HEALTH_STACK_REGION },
      app: config.app,
      environment,
      description: `${config.app.name} ${environment.name}: Route53 health check, its alarm and alarm topic (us-east-1)`,
    });
  }
  // Each deploy role trusts its account's GitHub OIDC provider, created by the account stack.
  for (const host of hosts) {
    const accountStack = app.node.tryFindChild(stackNames.account(config.app.name, host.account));
    if (accountStack instanceof cdk.Stack) host.addStackDependency(accountStack, 'the deploy role trusts the GitHub OIDC provider the account stack creates');
  }
  cdk.Tags.of(app).add('app', config.app.name);
  return app;
}

/**
 * One cdk8s app per environment, each writing its manifests to `<outdir>/<env>/`, plus, when any
 * environment has `kubernetes.gitops`, an app keyed `argocd` writing `<outdir>/argocd/<env>.k8s.yaml`:
 * the Argo CD Applications live beside the directories they sync, never inside them.
 */
export function buildKubernetesApps(config: ProjectConfig, outdir: string): Map<string, cdk8s.App> {
  const apps = new Map<string, cdk8s.App>();
  for (const environment of environmentsOf(config)) {
    const app = new cdk8s.App({ outdir: `${outdir}/${environment.name}`, yamlOutputType: cdk8s.YamlOutputType.FILE_PER_CHART });
    new AppChart(app, config.app.name, { app: config.app, environment });
    apps.set(environment.name, app);
  }
  const synced = environmentsOf(config).filter((e) => e.kubernetes.gitops);
  if (synced.length > 0) {
    if (apps.has(ARGOCD_DIR)) throw new Error(`environment '${ARGOCD_DIR}' would share ${outdir}/${ARGOCD_DIR} with the Argo CD Applications: rename it`);
    const argocd = new cdk8s.App({ outdir: `${outdir}/${ARGOCD_DIR}`, yamlOutputType: cdk8s.YamlOutputType.FILE_PER_CHART });
    for (const environment of synced) new GitopsApplicationChart(argocd, environment.name, { app: config.app, environment });
    apps.set(ARGOCD_DIR, argocd);
  }
  return apps;
}
