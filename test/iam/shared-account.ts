import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { parse } from 'yaml';
import { buildAwsApp, buildBootstrapApp } from '../../bin/build-apps';
import { TEMPLATE_VALIDATION_CACHE } from '../../bin/synth-all';
import { environmentsOf, type NamedEnvironment, type ProjectConfig } from '../../lib/config';
import { cdkJsonContext } from '../../lib/config/config-file';
import { secretsPath } from '../../lib/config/schema/secrets';
import { REAPPLIED_OPERATIONS } from '../../lib/host-runtime/document-spec';
import type { EvaluatedPrincipal } from '../../lib/iam/evaluate';
import type { EnvironmentResources, PrincipalKind, ResourcePolicyRef } from '../../lib/iam/operations';
import { backupPrefix, bootstrapNames, environmentStackNames, hostDocumentName, hostGroupName, stackNames } from '../../lib/names';
import type { IamPolicyDocument } from '../../lib/rules/iam-policy';
import { bootstrapPlan } from '../../scripts/bootstrap/plan';
import { configWith } from '../helpers/config-fixtures';
import { projectRoot } from '../helpers/paths';
import { ResolvedStacks, type StackInput } from './cfn-resolve';

/*
 * The test suite's shared-account configuration (dev and prod in one account, both with a DNS
 * record in one zone), synthesized by the app `bin/` builds (cdk-nag on), with the bootstrap app
 * and the project's bootstrap template deployed as `npm run bootstrap` would deploy them, all
 * resolved to concrete ARNs: every principal of each environment with its policies and boundary,
 * and each environment's resources.
 */

export interface SharedAccountFixture {
  readonly config: ProjectConfig;
  readonly stacks: ResolvedStacks;
  readonly environments: readonly NamedEnvironment[];
  /** Each environment's resources, by name. */
  readonly resources: ReadonlyMap<string, EnvironmentResources>;
  /** Each environment's principals, by name and kind. */
  readonly principals: ReadonlyMap<string, ReadonlyMap<PrincipalKind, EvaluatedPrincipal>>;
  /** The resource policy of a bucket or the trust policy of a role. */
  readonly resourcePolicy: (ref: ResourcePolicyRef) => IamPolicyDocument | undefined;
  /** The AWS app (to read annotations from). */
  readonly app: App;
}

/** dev and prod in prod's account, on purpose; dev gets a record in prod's zone. */
export function sharedAccountConfig(): ProjectConfig {
  return configWith((c) => {
    c.environments.dev.account = c.environments.prod.account;
    c.environments.dev.sharedAccount = true;
    c.environments.prod.sharedAccount = true;
    c.environments.dev.hostedZone = c.environments.prod.hostedZone;
  });
}

/** The argument after a flag in a command line of the bootstrap plan. */
function flag(argv: readonly string[], name: string): string {
  const i = argv.indexOf(name);
  if (i < 0 || i + 1 >= argv.length) throw new Error(`bootstrap plan: no ${name} in ${argv.join(' ')}`);
  return argv[i + 1];
}

/** Synthesizes the shared-account config and resolves every template. */
export function sharedAccountFixture(config: ProjectConfig = sharedAccountConfig()): SharedAccountFixture {
  const outdir = mkdtempSync(join(tmpdir(), 'iam-matrix-'));
  try {
    const app = buildAwsApp(config, { context: cdkJsonContext(), outdir: join(outdir, 'aws'), templateValidationCache: TEMPLATE_VALIDATION_CACHE });
    const assembly = app.synth();
    const bootstrapAssembly = buildBootstrapApp(config, { context: cdkJsonContext(), outdir: join(outdir, 'bootstrap') }).synth();
    const inputs: StackInput[] = [];
    for (const s of [...assembly.stacks, ...bootstrapAssembly.stacks]) {
      inputs.push({ stackName: s.stackName, account: s.environment.account, region: s.environment.region, template: s.template });
    }
    // The CDK toolkit stack of each environment, as `npm run bootstrap` deploys it (--template and its parameters).
    for (const environment of environmentsOf(config)) {
      for (const step of bootstrapPlan(config, environment)) {
        if (step.argv[1] !== 'cdk' || step.argv[2] !== 'bootstrap') continue;
        const [account, region] = step.argv[3].replace('aws://', '').split('/');
        if (inputs.some((i) => i.stackName === flag(step.argv, '--toolkit-stack-name') && i.region === region)) continue;
        inputs.push({
          stackName: flag(step.argv, '--toolkit-stack-name'),
          account,
          region,
          template: parse(readFileSync(join(projectRoot, flag(step.argv, '--template')), 'utf8')),
          parameters: {
            Qualifier: flag(step.argv, '--qualifier'),
            CloudFormationExecutionPolicies: flag(step.argv, '--cloudformation-execution-policies'),
            InputPermissionsBoundary: flag(step.argv, '--custom-permissions-boundary'),
            FileAssetsBucketKmsKeyId: 'AWS_MANAGED_KEY',
          },
        });
      }
    }
    const stacks = new ResolvedStacks(inputs);
    return { config, stacks, environments: environmentsOf(config), app, ...principalsAndResources(config, stacks) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function principalsAndResources(config: ProjectConfig, stacks: ResolvedStacks) {
  const app = config.app.name;
  // Every managed policy, bucket policy and role of every stack, by ARN or name.
  const managed = new Map<string, IamPolicyDocument>();
  const bucketPolicies = new Map<string, IamPolicyDocument>();
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
  const roles = new Map<string, { stackName: string; logicalId: string; name: string; arn: string; properties: any }>();
  const inlinePolicies: { roles: string[]; document: IamPolicyDocument; name: string }[] = [];
  for (const stackName of stacks.stackNames()) {
    for (const p of stacks.resourcesOfType(stackName, 'AWS::IAM::ManagedPolicy')) managed.set(stacks.ref(stackName, p.logicalId), p.properties.PolicyDocument);
    for (const p of stacks.resourcesOfType(stackName, 'AWS::S3::BucketPolicy')) bucketPolicies.set(p.properties.Bucket, p.properties.PolicyDocument);
    for (const r of stacks.resourcesOfType(stackName, 'AWS::IAM::Role')) {
      const arn = stacks.attribute(stackName, r.logicalId, 'Arn');
      roles.set(arn, { stackName, logicalId: r.logicalId, name: stacks.ref(stackName, r.logicalId), arn, properties: r.properties });
    }
    for (const p of stacks.resourcesOfType(stackName, 'AWS::IAM::Policy')) {
      inlinePolicies.push({ roles: p.properties.Roles ?? [], document: p.properties.PolicyDocument, name: `${stackName}/${p.logicalId}` });
    }
  }
  const principal = (arn: string): EvaluatedPrincipal => {
    const role = roles.get(arn);
    if (!role) throw new Error(`no role ${arn} in the fixture (have ${[...roles.keys()].join(', ')})`);
    const identityPolicies = [
      ...(role.properties.Policies ?? []).map((p: { PolicyName: string; PolicyDocument: IamPolicyDocument }) => ({
        name: p.PolicyName,
        document: p.PolicyDocument,
      })),
      ...inlinePolicies.filter((p) => p.roles.includes(role.name)).map((p) => ({ name: p.name, document: p.document })),
      ...[role.properties.ManagedPolicyArns ?? []].flat().map((policyArn: string) => {
        const document = managed.get(policyArn);
        if (!document) throw new Error(`role ${arn}: managed policy ${policyArn} is not in the fixture`);
        return { name: policyArn, document };
      }),
    ];
    const boundaryArn: string | undefined = role.properties.PermissionsBoundary;
    const boundary = boundaryArn === undefined ? undefined : managed.get(boundaryArn);
    if (boundaryArn !== undefined && !boundary) throw new Error(`role ${arn}: boundary ${boundaryArn} is not in the fixture`);
    return { arn, account: arn.split(':')[4], identityPolicies, boundary };
  };
  const roleArn = (stackName: string, prefix: string) => {
    const found = [...roles.values()].filter((r) => r.stackName === stackName && r.logicalId.startsWith(prefix));
    if (found.length !== 1) throw new Error(`expected one role ${prefix}* in ${stackName}, found ${found.length}`);
    return found[0].arn;
  };
  const one = (stackName: string, type: string) => {
    const found = stacks.resourcesOfType(stackName, type);
    if (found.length !== 1) throw new Error(`expected one ${type} in ${stackName}, found ${found.length}`);
    return found[0];
  };

  const resources = new Map<string, EnvironmentResources>();
  const principals = new Map<string, Map<PrincipalKind, EvaluatedPrincipal>>();
  for (const environment of environmentsOf(config)) {
    const env = environment.name;
    const { account, region } = environment;
    const data = stackNames.data(app, env);
    const host = stackNames.host(app, env);
    const qualifier = bootstrapNames.qualifier(app, env);
    const toolkit = `CDKToolkit-${qualifier}`;
    const bootstrapRole = (logicalId: string) => stacks.attribute(toolkit, logicalId, 'Arn');
    const boundaryArn = `arn:aws:iam::${account}:policy/${bootstrapNames.permissionsBoundary(app, env)}`;
    const documents = stacks.resourcesOfType(host, 'AWS::SSM::Document');
    const [eip] = stacks.resourcesOfType(host, 'AWS::EC2::EIP');
    if (stacks.ref(host, one(host, 'AWS::AutoScaling::AutoScalingGroup').logicalId) !== hostGroupName(app, env))
      throw new Error(`the host group of ${env} is not named ${hostGroupName(app, env)}`);
    const own: EnvironmentResources = {
      name: env,
      account,
      partition: 'aws',
      // The group launches the instance: its id is an example, its tags are what the group propagates.
      instanceArn: `arn:aws:ec2:${region}:${account}:instance/i-0${env}0a1b2c3d4e5f6`,
      groupArn: `arn:aws:autoscaling:${region}:${account}:autoScalingGroup:0a1b2c3d-${env}:autoScalingGroupName/${stacks.ref(host, one(host, 'AWS::AutoScaling::AutoScalingGroup').logicalId)}`,
      addressArn: eip ? `arn:aws:ec2:${region}:${account}:elastic-ip/${stacks.attribute(host, eip.logicalId, 'AllocationId')}` : undefined,
      dataVolumeArn: `arn:aws:ec2:${region}:${account}:volume/${stacks.ref(data, one(data, 'AWS::EC2::Volume').logicalId)}`,
      snapshotArn: `arn:aws:ec2:${region}::snapshot/snap-0${env}`,
      networkInterfaceArn: `arn:aws:ec2:${region}:${account}:network-interface/eni-0${env}`,
      alarmTopicArn: stacks.ref(data, one(data, 'AWS::SNS::Topic').logicalId),
      scheduleArn: `arn:aws:scheduler:${region}:${account}:schedule/default/${host}-ScheduleStart-${env.toUpperCase()}0A1B2C`,
      securityGroupArn: `arn:aws:ec2:${region}:${account}:security-group/${stacks.ref(host, one(host, 'AWS::EC2::SecurityGroup').logicalId)}`,
      backupsBucket: stacks.ref(data, one(data, 'AWS::S3::Bucket').logicalId),
      backupsPrefix: backupPrefix(env),
      stagingBucket: stacks.ref(toolkit, 'StagingBucket'),
      secretParameterArn: `arn:aws:ssm:${region}:${account}:parameter${secretsPath(app, env, environment.secrets)}DATABASE_URL`,
      commandLogGroupArn: `arn:aws:logs:${region}:${account}:log-group:/${app}/${env}/commands:*`,
      stackArn: `arn:aws:cloudformation:${region}:${account}:stack/${environmentStackNames(app, env)[0]}/0a1b2c3d-${env}`,
      documentArn: `arn:aws:ssm:${region}:${account}:document/${documents.find((d) => d.properties.Name === hostDocumentName(app, env, 'deploy'))?.properties.Name}`,
      reappliedDocumentArns: Object.fromEntries(
        REAPPLIED_OPERATIONS.map((operation) => [
          operation,
          `arn:aws:ssm:${region}:${account}:document/${documents.find((d) => d.properties.Name === hostDocumentName(app, env, operation))?.properties.Name}`,
        ]),
      ) as EnvironmentResources['reappliedDocumentArns'],
      alarmArn: `arn:aws:cloudwatch:${region}:${account}:alarm:${app}-${env}-cpu`,
      dnsRecord: environment.hostedZone ? { hostedZoneId: environment.hostedZone.id, recordName: environment.domain } : undefined,
      roles: {
        deploy: roleArn(host, 'DeployRole'),
        plan: roleArn(host, 'PlanRole'),
        instance: roleArn(host, 'HostInstanceRole'),
        bootstrapDeploy: bootstrapRole('DeploymentActionRole'),
        filePublishing: bootstrapRole('FilePublishingRole'),
        lookup: bootstrapRole('LookupRole'),
        execution: bootstrapRole('CloudFormationExecutionRole'),
      },
      boundaryArn,
    };
    resources.set(env, own);
    const boundary = managed.get(boundaryArn);
    if (!boundary) throw new Error(`no boundary ${boundaryArn}`);
    principals.set(
      env,
      new Map<PrincipalKind, EvaluatedPrincipal>([
        ['oidc-deploy', principal(own.roles.deploy)],
        ['oidc-plan', principal(own.roles.plan)],
        ['bootstrap-deploy', principal(own.roles.bootstrapDeploy)],
        ['file-publishing', principal(own.roles.filePublishing)],
        ['lookup', principal(own.roles.lookup)],
        ['execution', principal(own.roles.execution)],
        // A role a template of the environment could create: anything, within the boundary.
        [
          'created-role',
          {
            arn: `arn:aws:iam::${account}:role/${host}-Planted`,
            account,
            identityPolicies: [{ name: 'everything', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }],
            boundary,
          },
        ],
        ['instance', principal(own.roles.instance)],
      ]),
    );
  }
  const resourcePolicy = (ref: ResourcePolicyRef): IamPolicyDocument | undefined =>
    ref.kind === 'bucket' ? bucketPolicies.get(ref.bucket) : roles.get(ref.roleArn)?.properties.AssumeRolePolicyDocument;
  return { resources, principals, resourcePolicy };
}
