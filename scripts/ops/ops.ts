import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { USAGE_EXIT_CODE } from '../../lib/cli/command-line';
import { environmentsOf, type NamedEnvironment, type ProjectConfig } from '../../lib/config';
import { secretsPath } from '../../lib/config/schema/secrets';
import type { HostOperation } from '../../lib/host-runtime/document-spec';
import { operationTimeoutSeconds } from '../../lib/host-runtime/documents';
import { type EnvironmentByName, environmentResourcesByName } from '../../lib/iam/environment-resources';
import {
  bootstrapNames,
  cdkBootstrapRoleName,
  environmentStackNames,
  HEALTH_STACK_REGION,
  hostDocumentName,
  hostGroupName,
  logGroupNames,
  outputNames,
  stackNames,
} from '../../lib/names';
import { smokePlan } from '../../lib/smoke/plan';
import { runSmoke, type SecretLookup } from '../../lib/smoke/run';
import { readBucketPolicy } from './aws/bucket-policy';
import { alarmsWithPrefix, deployedStacks, probeHealth, ssmPingStatus } from './aws/environment-facts';
import { currentInstanceId, replaceHost, replacementReport } from './aws/host-group';
import { readManagedPolicyDocument, readRole, readRoleIfExists, roleNameFromArn } from './aws/iam-roles';
import { readLogs } from './aws/logs';
import { noOutcomeLine, runCommand, type WaitOptions } from './aws/run-command';
import { requireOutput, stackOutputs } from './aws/stack-outputs';
import { evaluateGithubSettings, githubEnvironmentNames, githubNotChecked } from './commands/github-settings';
import { hostCommandInput } from './commands/host-command';
import { hostParameters } from './commands/host-parameters';
import { type AuditedPrincipal, auditIsolation, auditRole, type Finding, type PolicyDocument } from './commands/iam-audit';
import { HOST_COMMANDS, type OpsArgs } from './commands/parse-args';
import { plainHttpRefusal, publicBaseUrl } from './commands/smoke';
import {
  alarmsOfEnvironment,
  type CheckResult,
  checklistPassed,
  evaluateChecklist,
  formatChecklist,
  type HostStatusFact,
  healthUrl,
} from './commands/validate';
import { type GithubAccess, readGithubSettings } from './github/settings';
import { type PlanClients, planEnvironment } from './plan-environment';

/** What a command printed and whether it succeeded; the CLI maps `ok` to the exit code. */
export interface OpsOutcome {
  readonly ok: boolean;
  /**
   * The process exit code when it is not simply 0/1: a host command exits with its script's exit
   * code, or `NO_OUTCOME_EXIT_CODE` when no outcome arrived. @default - 0 when ok, else 1
   */
  readonly exitCode?: number;
  readonly text: string;
  readonly json: unknown;
}

export interface OpsContext {
  readonly config: ProjectConfig;
  /** Who runs the command, recorded in SSM's comment and the host's audit log. */
  readonly actor: string;
  readonly wait?: WaitOptions;
  readonly fetchImpl?: typeof fetch;
  /** Read access to the repository's GitHub settings for `validate`. @default - not checked (one SKIP line per setting) */
  readonly github?: GithubAccess;
  /** Smoke login secrets by name (the CLI passes its process environment). @default - none */
  readonly secrets?: SecretLookup;
  /** Where `logs` prints each event as it arrives. @default console.log */
  readonly print?: (line: string) => void;
  /** Progress of long reads (stderr). @default console.error */
  readonly progress?: (message: string) => void;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Waits between polls (replace-host). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** AWS clients of `plan` (tests pass mocked ones). @default - new clients per region */
  readonly planClients?: PlanClients;
  /** Pause between reads of a change set being created. @default 3000 ms */
  readonly planDelayMs?: number;
}

export { environmentStackNames };

/**
 * A name no environment has (the config refuses none, but nobody names an environment so): `ops
 * iam-audit` judges every environment against it too, so an environment alone in its account is
 * still shown fenced in by its boundary.
 */
export const ISOLATION_PROBE_ENVIRONMENT = 'isolationprobe';

/** The instance the environment's Auto Scaling group of one runs now (never a fixed id). */
export async function instanceIdOf(config: ProjectConfig, env: NamedEnvironment): Promise<string> {
  return currentInstanceId(new AutoScalingClient({ region: env.region }), hostGroupName(config.app.name, env.name));
}

export async function runHostOperation(ctx: OpsContext, env: NamedEnvironment, operation: HostOperation, parameters: Record<string, string>) {
  const instanceId = await instanceIdOf(ctx.config, env);
  const input = hostCommandInput({ app: ctx.config.app.name, env: env.name, instanceId }, operation, parameters, {
    comment: `ops ${operation} by ${ctx.actor}`,
  });
  return runCommand(new SSMClient({ region: env.region }), new CloudWatchLogsClient({ region: env.region }), input, {
    executionTimeoutSeconds: operationTimeoutSeconds(env, operation),
    label: `${operation} ${env.name}`,
    ...ctx.wait,
  });
}

async function hostCommand(ctx: OpsContext, args: OpsArgs, env: NamedEnvironment): Promise<OpsOutcome> {
  const operation = args.command as HostOperation;
  const result = await runHostOperation(ctx, env, operation, hostParameters(operation, args, env, ctx.actor));
  const ok = result.status === 'Success' && result.exitCode === 0;
  const header =
    result.status === 'NoOutcome'
      ? `[${env.name}] ${operation}: ${noOutcomeLine(hostDocumentName(ctx.config.app.name, env.name, operation), result.instanceId, result.waitedSeconds, env.name)} (command ${result.commandId})`
      : `[${env.name}] ${operation}: ${result.status} (exit ${result.exitCode}, command ${result.commandId})`;
  const text = [header, result.stdout.trimEnd(), result.stderr.trimEnd() && `stderr:\n${result.stderr.trimEnd()}`].filter(Boolean).join('\n');
  return { ok, exitCode: result.exitCode, text, json: { env: env.name, operation, ...result } };
}

function parseHostStatus(stdout: string): HostStatusFact | undefined {
  const start = stdout.indexOf('{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(stdout.slice(start)) as HostStatusFact;
  } catch {
    return undefined;
  }
}

async function validate(ctx: OpsContext, env: NamedEnvironment): Promise<CheckResult[]> {
  const app = ctx.config.app.name;
  const cfn = new CloudFormationClient({ region: env.region });
  const stacks = await deployedStacks(cfn, [stackNames.data(app, env.name), stackNames.host(app, env.name)]);
  const health = await deployedStacks(new CloudFormationClient({ region: HEALTH_STACK_REGION }), [stackNames.health(app, env.name)]);
  const hostDeployed = stacks[stackNames.host(app, env.name)];

  let ssmPing: string | undefined;
  let hostStatus: HostStatusFact | undefined;
  if (hostDeployed) {
    const instanceId = await instanceIdOf(ctx.config, env);
    ssmPing = await ssmPingStatus(new SSMClient({ region: env.region }), instanceId);
    if (ssmPing === 'Online') {
      const status = await runHostOperation(ctx, env, 'status', { format: 'json' });
      hostStatus = status.status === 'Success' ? parseHostStatus(status.stdout) : undefined;
    }
  }
  const regions = [...new Set([env.region, HEALTH_STACK_REGION])];
  const alarms = alarmsOfEnvironment(
    (await Promise.all(regions.map((region) => alarmsWithPrefix(new CloudWatchClient({ region }), `${app}-`)))).flat(),
    app,
    env.name,
  );

  return evaluateChecklist({
    env: env.name,
    stacks: { ...stacks, ...health },
    ssmPing,
    alarms,
    health: await probeHealth(healthUrl(ctx.config.app, env), 10_000, ctx.fetchImpl),
    hostStatus,
  });
}

async function iamAudit(ctx: OpsContext, env: NamedEnvironment): Promise<Finding[]> {
  const app = ctx.config.app.name;
  const stack = stackNames.host(app, env.name);
  const outputs = await stackOutputs(new CloudFormationClient({ region: env.region }), stack);
  const dataOutputs = await stackOutputs(new CloudFormationClient({ region: env.region }), stackNames.data(app, env.name));
  const iam = new IAMClient({ region: env.region });
  const deployRole = await readRole(iam, roleNameFromArn(requireOutput(outputs, stack, outputNames.deployRoleArn)));
  const permissionsBoundaryName = bootstrapNames.permissionsBoundary(app, env.name);
  const findings = auditRole(deployRole, { kind: 'deploy', githubRepository: ctx.config.github.repository, environment: env.name, permissionsBoundaryName });
  const instanceRoleArn = outputs[outputNames.instanceRoleArn];
  const instanceRole = instanceRoleArn ? await readRole(iam, roleNameFromArn(instanceRoleArn)) : undefined;
  if (instanceRole) findings.push(...auditRole(instanceRole, { kind: 'instance', permissionsBoundaryName }));

  // Isolation: every principal of the environment, its boundary and execution policy, against the
  // other environments of its account and a probe environment, by the evaluator of the tests.
  const byName = (e: NamedEnvironment, known: Partial<EnvironmentByName> = {}) =>
    environmentResourcesByName({
      app,
      env: e.name,
      account: e.account,
      region: e.region,
      secretsPath: secretsPath(app, e.name, e.secrets),
      dnsRecord: e.hostedZone ? { hostedZoneId: e.hostedZone.id, recordName: e.domain } : undefined,
      ...known,
    });
  const own = byName(env, {
    backupsBucket: dataOutputs[outputNames.backupBucketName],
    dataVolumeId: dataOutputs[outputNames.dataVolumeId],
    deployRoleArn: outputs[outputNames.deployRoleArn],
    instanceRoleArn,
    planRoleArn: outputs[outputNames.planRoleArn],
  });
  const neighbours = [
    ...environmentsOf(ctx.config).filter((e) => e.account === env.account && e.name !== env.name),
    // The probe: the environment's settings under a name of its own (own default secrets path and record name).
    {
      ...env,
      name: ISOLATION_PROBE_ENVIRONMENT,
      secrets: { ...env.secrets, path: undefined },
      domain: `${ISOLATION_PROBE_ENVIRONMENT}.${env.hostedZone?.name ?? env.domain}`,
    },
  ].map((e) => byName(e));
  const qualifier = bootstrapNames.qualifier(app, env.name);
  const planRoleArn = outputs[outputNames.planRoleArn];
  const planRole = planRoleArn ? await readRole(iam, roleNameFromArn(planRoleArn)) : undefined;
  const principals: AuditedPrincipal[] = [
    { kind: 'oidc-deploy', role: deployRole },
    ...(instanceRole ? [{ kind: 'instance' as const, role: instanceRole }] : []),
    ...(planRole ? [{ kind: 'oidc-plan' as const, role: planRole }] : []),
  ];
  for (const [kind, role] of [
    ['bootstrap-deploy', 'deploy-role'],
    ['file-publishing', 'file-publishing-role'],
    ['lookup', 'lookup-role'],
    ['execution', 'cfn-exec-role'],
  ] as const) {
    const name = cdkBootstrapRoleName(qualifier, role, env.account, env.region);
    const facts = await readRoleIfExists(iam, name);
    if (facts) principals.push({ kind, role: facts });
    else
      findings.push({
        role: name,
        problem: `does not exist: bootstrap ${env.name} with npm run bootstrap -- --env ${env.name} (docs/first-deploy.md, step 2)`,
      });
  }
  const policyDocuments = new Map<string, PolicyDocument>();
  for (const arn of new Set([own.boundaryArn, ...principals.map((p) => p.role.permissionsBoundaryArn).filter((a): a is string => a !== undefined)])) {
    const document = await readManagedPolicyDocument(iam, arn);
    if (document) policyDocuments.set(arn, document);
  }
  const s3 = new S3Client({ region: env.region });
  const bucketPolicies = new Map<string, PolicyDocument>();
  for (const bucket of [own.backupsBucket, own.stagingBucket]) {
    const policy = await readBucketPolicy(s3, bucket);
    if (policy) bucketPolicies.set(bucket, policy);
    else findings.push({ role: `bucket ${bucket}`, problem: 'has no bucket policy: deploy the data stack and bootstrap with the project template' });
  }
  findings.push(...(await auditIsolation({ own, neighbours, principals, policyDocuments, bucketPolicies })));
  return findings;
}

/** Runs one parsed command across its environments. */
export async function runOps(ctx: OpsContext, args: OpsArgs): Promise<OpsOutcome> {
  const envs = environmentsOf(ctx.config).filter((e) => args.envs.includes(e.name));

  if ((HOST_COMMANDS as readonly string[]).includes(args.command)) {
    const outcomes: OpsOutcome[] = [];
    for (const env of envs) outcomes.push(await hostCommand(ctx, args, env));
    // With --env all, the first environment that did not succeed gives the exit code.
    const exitCode = outcomes.find((o) => !o.ok)?.exitCode ?? 0;
    return { ok: outcomes.every((o) => o.ok), exitCode, text: outcomes.map((o) => o.text).join('\n\n'), json: outcomes.map((o) => o.json) };
  }

  if (args.command === 'smoke') {
    const runs = envs.map((env) => ({ env, plan: smokePlan(ctx.config.app, env), base: args.smoke?.url ?? publicBaseUrl(env) }));
    // Credentials and tokens never over plain HTTP: refused for every environment before any request.
    const refusals = runs.flatMap(({ env, plan, base }) => plainHttpRefusal(env.name, plan, base) ?? []);
    if (refusals.length > 0) return { ok: false, exitCode: USAGE_EXIT_CODE, text: refusals.join('\n'), json: { refused: refusals } };
    const reports = [];
    for (const { env, plan, base } of runs) {
      const report = await runSmoke(plan, base, ctx.secrets ?? (() => undefined), { fetchImpl: ctx.fetchImpl });
      const hint = report.ok ? [] : [`smoke of ${env.name} FAILED; see why with: npm run ops -- logs --env ${env.name} --since 15m`];
      reports.push({ env: env.name, ok: report.ok, lines: [`[${env.name}] smoke against ${base}`, ...report.lines, ...hint] });
    }
    return { ok: reports.every((r) => r.ok), text: reports.map((r) => r.lines.join('\n')).join('\n\n'), json: reports };
  }

  if (args.command === 'logs') {
    const env = envs[0];
    const options = args.logs ?? { sinceMs: 15 * 60_000, follow: false };
    const groups = [
      logGroupNames.containers(ctx.config.app.name, env.name),
      logGroupNames.system(ctx.config.app.name, env.name),
      logGroupNames.commands(ctx.config.app.name, env.name),
    ];
    const print = ctx.print ?? ((line: string) => console.log(line));
    const count = await readLogs(
      new CloudWatchLogsClient({ region: env.region }),
      { groups, startTime: (ctx.now ?? Date.now)() - options.sinceMs, grep: options.grep, follow: options.follow },
      print,
      ctx.progress ?? ((message: string) => console.error(message)),
    );
    return { ok: true, text: '', json: { env: env.name, groups, events: count } };
  }

  if (args.command === 'validate') {
    const names = envs.map((e) => e.name);
    const repository = ctx.config.github.repository;
    const github = ctx.github
      ? evaluateGithubSettings(await readGithubSettings(ctx.github, repository, githubEnvironmentNames(names)), names)
      : githubNotChecked(repository, names);
    const results = [...(await Promise.all(envs.map((env) => validate(ctx, env)))).flat(), ...github];
    const passed = checklistPassed(results);
    return { ok: passed, text: `${formatChecklist(results)}\n\n${passed ? 'All required checks passed.' : 'Some required checks FAILED.'}`, json: results };
  }

  if (args.command === 'iam-audit') {
    const findings = (await Promise.all(envs.map((env) => iamAudit(ctx, env)))).flat();
    const lines = findings.map((f) => `FAIL  ${f.role}: ${f.problem}`);
    const text = [...lines, ...(findings.length === 0 ? [`IAM audit passed for ${envs.map((e) => e.name).join(', ')}.`] : [])].join('\n');
    return { ok: findings.length === 0, text, json: findings };
  }

  if (args.command === 'replace-host') {
    const env = envs[0];
    const group = hostGroupName(ctx.config.app.name, env.name);
    const url = healthUrl(ctx.config.app, env);
    const replacement = await replaceHost(new AutoScalingClient({ region: env.region }), group, {
      healthy: async () => {
        const fact = await probeHealth(url, 5_000, ctx.fetchImpl);
        return fact.status !== undefined && fact.status >= 200 && fact.status < 300;
      },
      now: ctx.now,
      sleep: ctx.sleep,
      progress: ctx.progress ?? ((line: string) => console.error(`[${env.name}] ${line}`)),
    });
    return { ok: replacement.ok, text: replacementReport(env.name, group, replacement), json: { env: env.name, group, ...replacement } };
  }

  if (args.command === 'plan') {
    const env = envs[0];
    const outcome = await planEnvironment(ctx.config, env, {
      assembly: args.assembly ?? 'cdk.out',
      stackNames: environmentStackNames(ctx.config.app.name, env.name),
      now: ctx.now,
      clients: ctx.planClients,
      wait: ctx.planDelayMs === undefined ? undefined : { delayMs: ctx.planDelayMs },
      progress: ctx.progress ?? ((line: string) => console.error(line)),
    });
    return { ok: outcome.ok, text: outcome.text, json: { env: env.name, gated: outcome.gated, plans: outcome.plans } };
  }

  if (args.command === 'stacks') {
    const names = envs.flatMap((env) => environmentStackNames(ctx.config.app.name, env.name));
    return { ok: true, text: names.join('\n'), json: names };
  }

  // outputs
  const all: Record<string, Record<string, string>> = {};
  for (const env of envs) {
    for (const stack of [stackNames.data(ctx.config.app.name, env.name), stackNames.host(ctx.config.app.name, env.name)]) {
      all[stack] = await stackOutputs(new CloudFormationClient({ region: env.region }), stack);
    }
  }
  const text = Object.entries(all)
    .map(
      ([stack, outputs]) =>
        `${stack}\n${Object.entries(outputs)
          .map(([k, v]) => `  ${k} = ${v}`)
          .join('\n')}`,
    )
    .join('\n');
  return { ok: true, text, json: all };
}
