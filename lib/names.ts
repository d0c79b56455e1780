/**
 * Names of stacks and outputs: the one place `bin/`, the ops CLI, the workflows and the tests take
 * them from, so a rename cannot leave a pipeline looking for a stack that no longer exists.
 * Changing a stack name makes CloudFormation create a new stack: treat these as stable.
 */
export const stackNames = {
  /** Account-wide guardrails: budget, anomaly detection, GitHub OIDC provider. One per AWS account. */
  account: (app: string, account: string) => `${app}-account-${account}`,
  /** Per-environment state that must outlive the host: backups bucket, log groups, alarm topic. */
  data: (app: string, env: string) => `${app}-${env}-data`,
  /** Per-environment compute: VPC, EC2 compose host, host alarms, deploy role. Safe to replace. */
  host: (app: string, env: string) => `${app}-${env}-host`,
  /** Route53 health check and its alarm; always in us-east-1, where Route53 publishes the metric. */
  health: (app: string, env: string) => `${app}-${env}-health`,
} as const;

/** The stacks one environment's pipeline deploys, in dependency order; its bootstrap roles may change these and no others. */
export function environmentStackNames(app: string, env: string): string[] {
  return [stackNames.data(app, env), stackNames.host(app, env), stackNames.health(app, env)];
}

/**
 * The tag key every taggable resource of an environment carries, with the environment's name as
 * value (`bin/build-apps.ts`). The permissions boundary fences instances, volumes, snapshots and
 * lifecycle policies by it, and lets a role of the environment set it to its own name only.
 */
export const ENVIRONMENT_TAG = 'env';

/** The region of every health stack: Route53 publishes health-check metrics only there. */
export const HEALTH_STACK_REGION = 'us-east-1';

/** CloudFormation output keys a pipeline or the ops CLI reads. */
export const outputNames = {
  hostGroupName: 'HostGroupName',
  backupBucketName: 'BackupBucketName',
  /** The data volume's id: `ops iam-audit` judges the instance role's attachment of exactly it. */
  dataVolumeId: 'DataVolumeId',
  containerLogGroupName: 'ContainerLogGroupName',
  alarmTopicArn: 'AlarmTopicArn',
  healthCheckId: 'HealthCheckId',
  deployRoleArn: 'DeployRoleArn',
  /** The role of the deploy workflow's plan job (`ops plan`, GitHub environment `<env>-plan`). */
  planRoleArn: 'PlanRoleArn',
  instanceRoleArn: 'InstanceRoleArn',
  publicIp: 'PublicIp',
} as const;

/** CloudWatch log group names, shared by the CDK stacks and the host's CloudWatch agent config. */
export const logGroupNames = {
  containers: (app: string, env: string) => `/${app}/${env}/containers`,
  system: (app: string, env: string) => `/${app}/${env}/system`,
  /** Output of the host's SSM documents (stdout and stderr per command); how ops learns a command's outcome. */
  commands: (app: string, env: string) => `/${app}/${env}/commands`,
} as const;

/** S3 key prefix of an environment's backups; the host may touch nothing outside it. */
export const backupPrefix = (env: string) => `${env}/`;

/** Name of the SSM Command document that performs a host operation in one environment. */
export const hostDocumentName = (app: string, env: string, operation: string) => `${app}-${env}-${operation}`;

/**
 * Issuer of GitHub Actions OIDC tokens: the provider's URL without `https://`, the last part of its
 * IAM ARN, and the prefix of its trust-policy condition keys (`<issuer>:aud`, `<issuer>:sub`).
 */
export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';

/** Audience the `aws-actions/configure-aws-credentials` action requests (the provider's client id). */
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';

/** ARN of the account's GitHub Actions OIDC provider (created once per account by the account stack); IAM fixes it from the issuer. */
export const githubOidcProviderArn = (account: string) => `arn:aws:iam::${account}:oidc-provider/${GITHUB_OIDC_ISSUER}`;

/** Output keys of the account and health stacks (appended; see `outputNames` for the shared ones). */
export const accountOutputNames = {
  githubOidcProviderArn: 'GithubOidcProviderArn',
  anomalyMonitorArn: 'AnomalyMonitorArn',
  budgetName: 'BudgetName',
} as const;

/** CloudWatch alarm on an environment's Route53 health check, named as the runbook has it. */
export const healthAlarmName = (app: string, env: string) => `${app}-health-${env}`;

/** Suffixes of an environment's named alarms, after `<app>-<env>-`: the host's (lib/constructs/host-alarms.ts) and the backup-age alarm of the data stack. */
export const HOST_ALARM_SUFFIXES = ['cpu', 'status-check', 'disk', 'backup-age'] as const;

/**
 * Every named CloudWatch alarm of one environment. Matched exactly by `ops validate`: a test pins
 * them against the synthesized templates, so `prod` never picks up `preprod`'s alarms.
 */
export const environmentAlarmNames = (app: string, env: string): string[] => [
  healthAlarmName(app, env),
  ...HOST_ALARM_SUFFIXES.map((suffix) => `${app}-${env}-${suffix}`),
];
/**
 * One environment's CDK bootstrap: its own qualifier (so its bootstrap roles are disjoint from every
 * other environment's), the CloudFormation execution policy those roles use and the permissions
 * boundary every role of the environment carries (both created by `bootstrap.policiesStack`).
 */
export const bootstrapNames = {
  /** CDK bootstrap qualifier: lowercase alphanumerics, at most 10 (CDK's limit), app then env. */
  qualifier: (app: string, env: string) => {
    const e = env.toLowerCase().replace(/[^a-z0-9]/g, '');
    return `${app
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, Math.max(1, 10 - e.length))}${e}`.slice(0, 10);
  },
  /** Stack holding the execution policy and the boundary; deployed by an administrator (`npm run bootstrap`). */
  policiesStack: (app: string, env: string) => `${app}-${env}-bootstrap-policies`,
  executionPolicy: (app: string, env: string) => `${app}-${env}-cfn-execution`,
  permissionsBoundary: (app: string, env: string) => `${app}-${env}-permissions-boundary`,
} as const;

/** The CDK bootstrap roles a pipeline assumes to diff and deploy (modern bootstrap template). */
export const CDK_BOOTSTRAP_ROLES = ['deploy-role', 'file-publishing-role', 'lookup-role'] as const;

/** Name of a CDK bootstrap role: `cdk-<qualifier>-<role>-<account>-<region>`. */
export const cdkBootstrapRoleName = (qualifier: string, role: (typeof CDK_BOOTSTRAP_ROLES)[number] | 'cfn-exec-role', account: string, region: string) =>
  `cdk-${qualifier}-${role}-${account}-${region}`;

/**
 * Name of the Auto Scaling group of one that runs an environment's host. Fixed (not generated) so
 * the instance's own lifecycle settings, the narrow IAM statements (CompleteLifecycleAction on this
 * one group) and `ops` (the `aws:autoscaling:groupName` tag) name it without a lookup.
 */
export const hostGroupName = (app: string, env: string) => `${app}-${env}-host`;

/** The group's termination lifecycle hook: the host's clean stop (scripts/host/host-stop.sh) completes it. */
export const HOST_TERMINATION_HOOK = 'clean-stop';

/** Names the Kubernetes side of an environment uses, beside its manifests (charts/, docs/kubernetes.md). */
export const kubernetesNames = {
  /** The environment's own Argo CD AppProject (unless `kubernetes.gitops.project` names another). */
  appProject: (app: string, env: string) => `${app}-${env}`,
  /**
   * The IAM role the environment's SecretStore assumes through its service account (IRSA): created
   * by an administrator with the trust and policy docs/kubernetes.md gives, reading only `/<app>/<env>/`.
   */
  externalSecretsRole: (app: string, env: string) => `${app}-${env}-external-secrets`,
} as const;
