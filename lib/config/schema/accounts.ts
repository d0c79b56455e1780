import { bootstrapNames } from '../../names';

/*
 * How environments map to AWS accounts, and the names their CDK bootstraps take. One account per
 * environment is the default AWS recommends (an account is the only boundary IAM cannot be talked
 * out of); two environments in one account only where the config says so (`sharedAccount: true`
 * on each of them), and then each is still fenced in by its own permissions boundary
 * (lib/stacks/bootstrap-policies-stack.ts; proven by test/iam/).
 */

/** Where a problem is: the key path under `environments`, and the rule it breaks. */
export interface EnvironmentIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

interface AccountFields {
  readonly account: string;
  readonly sharedAccount: boolean;
}

/** Accounts that more than one environment uses, each with those environments in file order. */
export function sharedAccounts(environments: Readonly<Record<string, AccountFields>>): { account: string; environments: string[] }[] {
  const byAccount = new Map<string, string[]>();
  for (const [name, env] of Object.entries(environments)) byAccount.set(env.account, [...(byAccount.get(env.account) ?? []), name]);
  return [...byAccount].filter(([, names]) => names.length > 1).map(([account, names]) => ({ account, environments: names }));
}

/**
 * Two environments in one account without `sharedAccount: true` on each: one problem per
 * environment that has not said so, on its `account` key.
 */
export function accountSharingIssues(environments: Readonly<Record<string, AccountFields>>): EnvironmentIssue[] {
  const issues: EnvironmentIssue[] = [];
  for (const { environments: names } of sharedAccounts(environments)) {
    for (const name of names) {
      if (environments[name].sharedAccount) continue;
      const others = names.filter((n) => n !== name).map((n) => `environments.${n}`);
      issues.push({
        path: [name, 'account'],
        message: `is also the account of ${others.join(', ')}: give each environment an account of its own (docs/first-deploy.md, step 1), or set sharedAccount: true on each environment of that account to accept sharing it (docs/aws.md, "What a shared account shares")`,
      });
    }
  }
  return issues;
}

/**
 * Environments whose CDK bootstrap qualifiers (`bootstrapNames.qualifier`: the app and environment
 * names cut to CDK's 10 characters) coincide: they would share bootstrap roles, staging bucket and
 * toolkit stack. One problem per later environment, on its name.
 */
export function qualifierIssues(appName: string, environmentNames: readonly string[]): EnvironmentIssue[] {
  const owner = new Map<string, string>();
  const issues: EnvironmentIssue[] = [];
  for (const name of environmentNames) {
    const qualifier = bootstrapNames.qualifier(appName, name);
    const first = owner.get(qualifier);
    if (first === undefined) owner.set(qualifier, name);
    else
      issues.push({
        path: [name],
        message: `name "${name}" gives the CDK bootstrap qualifier "${qualifier}" that environments.${first} gives too (app and environment names cut to 10 characters): the two would share bootstrap roles and staging bucket; rename one of them`,
      });
  }
  return issues;
}

/**
 * What synth prints for each shared account: which environments share it and what they still
 * share whatever their boundaries say (docs/aws.md, "What a shared account shares").
 */
export function sharedAccountNotes(environments: Readonly<Record<string, AccountFields>>): string[] {
  return sharedAccounts(environments).map(
    ({ account, environments: names }) =>
      `environments ${names.join(', ')} share AWS account ${account} (sharedAccount: true): each is fenced in by its own permissions boundary, but they share the account's administrators and root user, service quotas, the GitHub OIDC provider, budget and anomaly alerts (one account stack), CloudTrail, the AWS-managed keys aws/ssm and aws/s3, Route53 health checks and metric namespaces (which IAM cannot fence), and account-wide settings; separate accounts remove this (docs/aws.md, "What a shared account shares")`,
  );
}
