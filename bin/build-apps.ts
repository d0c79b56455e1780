import { join } from 'node:path';
import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cdk8s from 'cdk8s';
import { AppChart } from '../charts/app-chart';
import { ARGOCD_DIR, GitopsApplicationChart } from '../charts/gitops-application';
import { environmentsOf, type NamedEnvironment, type ProjectConfig } from '../lib/config';
import { secretsPath } from '../lib/config/schema/secrets';
import type { HostDocumentSpec } from '../lib/host-runtime/document-spec';
import { hostDocumentSpecs } from '../lib/host-runtime/documents';
import { bootstrapNames, ENVIRONMENT_TAG, HEALTH_STACK_REGION, stackNames } from '../lib/names';
import { CachedCloudFormationValidatePlugin } from '../lib/private/cached-cloudformation-validate';
import { CachedNagPack } from '../lib/private/cached-nag-pack';
import { ProjectChecks } from '../lib/rules';
import { AccountStack } from '../lib/stacks/account-stack';
import { BootstrapPoliciesStack } from '../lib/stacks/bootstrap-policies-stack';
import { DataStack } from '../lib/stacks/data-stack';
import { HealthStack } from '../lib/stacks/health-stack';
import { HostStack } from '../lib/stacks/host-stack';

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
  /**
   * Directory where CloudFormation template validation remembers the findings on each template it
   * validated, so an unchanged template is not validated again (`CachedCloudFormationValidatePlugin`),
   * and where the AWS Solutions pack keeps its report (`CachedNagPack`, in `cdk-nag/`).
   * @default - every template is validated and checked on every synth (CDK's own plugin, cdk-nag's pack)
   */
  readonly templateValidationCache?: string;
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

/**
 * Where a stack of an environment is deployed from: that environment's own CDK bootstrap (its
 * qualifier, so its bootstrap roles are no other environment's), and the permissions boundary
 * every role of it carries (see `BootstrapPoliciesStack`).
 */
export function environmentSynthesizer(config: ProjectConfig, environment: NamedEnvironment): cdk.DefaultStackSynthesizer {
  return new cdk.DefaultStackSynthesizer({ qualifier: bootstrapNames.qualifier(config.app.name, environment.name) });
}

/** Attaches the environment's permissions boundary to every role a stack of that environment creates. */
export function applyEnvironmentBoundary(stack: cdk.Stack, config: ProjectConfig, environment: NamedEnvironment): void {
  const name = bootstrapNames.permissionsBoundary(config.app.name, environment.name);
  iam.PermissionsBoundary.of(stack).apply(iam.ManagedPolicy.fromManagedPolicyName(stack, 'PermissionsBoundary', name));
  environmentOfStack.set(stack, name);
}

/** Boundary name by stack, for the boundary rule of `ProjectChecks`. */
const environmentOfStack = new WeakMap<cdk.Stack, string>();

/** Adds one environment's data and host stacks to an app, wired to each other. */
export function addEnvironmentStacks(
  app: cdk.App,
  config: ProjectConfig,
  environment: NamedEnvironment,
  options: EnvironmentStacksOptions = {},
): EnvironmentStacks {
  const env = { account: environment.account, region: environment.region };
  const data = new DataStack(app, stackNames.data(config.app.name, environment.name), {
    env,
    synthesizer: environmentSynthesizer(config, environment),
    app: config.app,
    environment,
    description: `${config.app.name} ${environment.name}: state that outlives the host (backups, logs, alarm topic)`,
    terminationProtection: true,
  });
  const host = new HostStack(app, stackNames.host(config.app.name, environment.name), {
    env,
    synthesizer: environmentSynthesizer(config, environment),
    app: config.app,
    environment,
    githubRepository: config.github.repository,
    hostBackupsPolicy: data.hostBackupsPolicy,
    alarmTopic: data.alarmTopic,
    containerLogGroup: data.containerLogGroup,
    systemLogGroup: data.systemLogGroup,
    commandLogGroup: data.commandLogGroup,
    dataVolume: data.dataVolume.volume,
    // The reviewed scripts of scripts/host, as SSM documents: what runs on the host is what was merged.
    hostDocuments: options.hostDocuments ?? hostDocumentSpecs(config.app, environment, { backupBucketName: data.backupsBucket.bucketName }),
    description: `${config.app.name} ${environment.name}: EC2 compose host, VPC, host alarms, SSM documents, GitHub deploy role`,
  });
  // Cost allocation by environment: every taggable resource of the environment's stacks (the
  // instance propagates it to its volumes) carries `env` beside the app-wide `app` tag.
  for (const stack of [data, host]) cdk.Tags.of(stack).add(ENVIRONMENT_TAG, environment.name);
  for (const stack of [data, host]) applyEnvironmentBoundary(stack, config, environment);
  return { data, host };
}

/** The permissions boundary the roles of a stack must carry (undefined for stacks of no environment). */
export function permissionsBoundaryOf(stack: cdk.Stack): string | undefined {
  return environmentOfStack.get(stack);
}

/** cdk-nag's AWS Solutions pack, loaded when it runs: loading cdk-nag alone takes about half a second. */
function awsSolutionsChecks(): cdk.IPolicyValidationPlugin {
  const { AwsSolutionsChecks } = require('cdk-nag') as typeof import('cdk-nag');
  return new AwsSolutionsChecks();
}

/**
 * The project's cdk-nag checks and AWS Solutions', registered on an app: a finding of either fails
 * synth (`npm run synth`, `cdk synth`) naming the rule and the construct. With `cacheDir`, the AWS
 * Solutions report is reused while the templates, construct paths and acknowledgements stay the same
 * (`CachedNagPack`).
 */
export function addNagChecks(app: cdk.App, cacheDir?: string): void {
  const awsSolutions = cacheDir ? new CachedNagPack({ name: 'AwsSolutions', load: awsSolutionsChecks, cacheDir }) : awsSolutionsChecks();
  cdk.Validations.of(app).addPlugins(awsSolutions, new ProjectChecks(app, { permissionsBoundaryName: permissionsBoundaryOf }));
}

/** Every AWS stack for every environment, with cdk-nag's AWS Solutions checks run at synth. */
export function buildAwsApp(config: ProjectConfig, options: AwsAppOptions = {}): cdk.App {
  const app = new cdk.App({ outdir: options.outdir, context: options.context });
  addNagChecks(app, options.templateValidationCache && join(options.templateValidationCache, 'cdk-nag'));
  if (options.templateValidationCache) {
    cdk.Validations.of(app).addPlugins(new CachedCloudFormationValidatePlugin({ cacheDir: options.templateValidationCache }));
  }
  // Distinct bootstrap qualifiers and account sharing are checked by the config schema (lib/config/schema/accounts.ts).
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
      // Deployed once by an administrator with their own credentials (docs/first-deploy.md): it
      // creates the OIDC provider every pipeline trusts, so no pipeline may deploy it.
      synthesizer: new cdk.CliCredentialsStackSynthesizer(),
      description: `${config.app.name} account ${account}: monthly budget, cost anomaly alerts, GitHub OIDC provider`,
    });
  }
  // Route53 health checks: always us-east-1, the only region with their metrics, whatever the env's region.
  for (const environment of environmentsOf(config)) {
    const health = new HealthStack(app, stackNames.health(config.app.name, environment.name), {
      env: { account: environment.account, region: HEALTH_STACK_REGION },
      synthesizer: environmentSynthesizer(config, environment),
      app: config.app,
      environment,
      description: `${config.app.name} ${environment.name}: Route53 health check, its alarm and alarm topic (us-east-1)`,
    });
    cdk.Tags.of(health).add(ENVIRONMENT_TAG, environment.name);
    applyEnvironmentBoundary(health, config, environment);
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
 * The stacks an administrator deploys before `cdk bootstrap` (`npm run bootstrap`): per environment,
 * the CloudFormation execution policy and the permissions boundary. A separate app: the pipeline
 * never deploys them, and their statements are ceilings, not grants (tested in
 * test/stacks/bootstrap-policies-stack.test.ts).
 */
export function buildBootstrapApp(config: ProjectConfig, options: AwsAppOptions = {}): cdk.App {
  const app = new cdk.App({ outdir: options.outdir, context: options.context });
  for (const environment of environmentsOf(config)) {
    new BootstrapPoliciesStack(app, bootstrapNames.policiesStack(config.app.name, environment.name), {
      env: { account: environment.account, region: environment.region },
      appName: config.app.name,
      environmentName: environment.name,
      secretsPath: secretsPath(config.app.name, environment.name, environment.secrets),
      dnsRecord: environment.hostedZone ? { hostedZoneId: environment.hostedZone.id, recordName: environment.domain } : undefined,
      description: `${config.app.name} ${environment.name}: CDK bootstrap execution policy and permissions boundary (deployed by an administrator)`,
    });
  }
  cdk.Tags.of(app).add('app', config.app.name);
  return app;
}

/**
 * One cdk8s app per environment, each writing its manifests to `<outdir>/<env>/`, plus, when any
 * environment has `kubernetes.gitops`, an app keyed `argocd` writing `<outdir>/argocd/<env>.k8s.yaml`:
 * each synced environment's Namespace, own AppProject (admitting exactly the kinds its chart
 * renders) and Application, beside the directories they sync, never inside them.
 */
export function buildKubernetesApps(config: ProjectConfig, outdir: string): Map<string, cdk8s.App> {
  const apps = new Map<string, cdk8s.App>();
  const charts = new Map<string, AppChart>();
  for (const environment of environmentsOf(config)) {
    const app = new cdk8s.App({ outdir: `${outdir}/${environment.name}`, yamlOutputType: cdk8s.YamlOutputType.FILE_PER_CHART });
    charts.set(environment.name, new AppChart(app, config.app.name, { app: config.app, environment }));
    apps.set(environment.name, app);
  }
  const synced = environmentsOf(config).filter((e) => e.kubernetes.gitops);
  if (synced.length > 0) {
    if (apps.has(ARGOCD_DIR)) throw new Error(`environment '${ARGOCD_DIR}' would share ${outdir}/${ARGOCD_DIR} with the Argo CD Applications: rename it`);
    const argocd = new cdk8s.App({ outdir: `${outdir}/${ARGOCD_DIR}`, yamlOutputType: cdk8s.YamlOutputType.FILE_PER_CHART });
    for (const environment of synced) {
      new GitopsApplicationChart(argocd, environment.name, { app: config.app, environment, appChart: charts.get(environment.name) as AppChart });
    }
    apps.set(ARGOCD_DIR, argocd);
  }
  return apps;
}
