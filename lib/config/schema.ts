import { z } from 'zod';
import { dnsLabel } from './primitives';
import { accountSharingIssues, qualifierIssues } from './schema/accounts';
import { appSchema, githubSchema } from './schema/app';
import { blueGreenIssues } from './schema/blue-green';
import { costGuardrailsSchema } from './schema/cost-guardrails';
import { environmentSchema } from './schema/environment';
import { kubernetesIssues } from './schema/kubernetes';
import { overlappingSecretPaths } from './schema/secrets';
import { smokeAuthIssues } from './schema/smoke';

/**
 * The whole project configuration, as `config/environments.yaml` holds it.
 * Each section validates its own fields; see `./schema/*`.
 */
/**
 * Environment names something else already means: `argocd` is the directory of the Argo CD
 * Applications beside `dist/<env>/` (charts/gitops-application.ts), `all` is the ops CLI's
 * `--env all`.
 */
export const RESERVED_ENVIRONMENT_NAMES: readonly string[] = ['argocd', 'all'];

/**
 * Environment names that would make another stack's or alarm's name look like the environment's
 * own: `<app>-account-<id>` is the account stack, `<app>-health-<env>` every health alarm, and the
 * permissions boundary of an environment named so would reach them through `<app>-<env>-*`.
 */
export const NAMES_OF_OTHER_STACKS: readonly string[] = ['account', 'health'];

const environmentName = dnsLabel
  .refine((name) => !RESERVED_ENVIRONMENT_NAMES.includes(name), {
    message: `is reserved (${RESERVED_ENVIRONMENT_NAMES.join(', ')} mean something else to the manifests and the ops CLI): rename the environment`,
  })
  // `<app>-<env>-` and `/<app>/<env>/` must name one environment only: with `dev-eu` allowed,
  // dev's `auraxis-dev-*` roles, buckets and stacks would also be dev-eu's.
  .refine((name) => !name.includes('-'), {
    message:
      'must not contain "-": the permissions of environment <env> reach names starting <app>-<env>-, which must not also start another environment\'s names (use e.g. deveu, not dev-eu)',
  })
  .refine((name) => !NAMES_OF_OTHER_STACKS.includes(name), {
    message: `is reserved (<app>-account-… is the account stack, <app>-health-<env> every health alarm: an environment named ${NAMES_OF_OTHER_STACKS.join(' or ')} would reach them): rename the environment`,
  });

type Environments = Record<string, z.output<typeof environmentSchema>>;

/** Values that must differ between environments, or two environments would fight over one name. */
const UNIQUE_ACROSS_ENVIRONMENTS: readonly { readonly path: readonly string[]; readonly of: (env: Environments[string]) => string }[] = [
  { path: ['domain'], of: (env) => env.domain },
  { path: ['kubernetes', 'host'], of: (env) => env.kubernetes.host },
  { path: ['kubernetes', 'namespace'], of: (env) => env.kubernetes.namespace },
];

function uniqueAcrossEnvironments(envs: Environments, ctx: z.RefinementCtx): void {
  for (const { path, of } of UNIQUE_ACROSS_ENVIRONMENTS) {
    const firstOwner = new Map<string, string>();
    for (const [name, env] of Object.entries(envs)) {
      const value = of(env).toLowerCase();
      const owner = firstOwner.get(value);
      if (owner === undefined) firstOwner.set(value, name);
      else ctx.addIssue({ code: 'custom', path: [name, ...path], message: `is also environments.${owner}.${path.join('.')}; each environment needs its own` });
    }
  }
}

export const configSchema = z
  .strictObject({
    app: appSchema,
    github: githubSchema,
    costGuardrails: costGuardrailsSchema,
    /** Environments by name; each name is a DNS label used in stack names, prefixes and namespaces. */
    environments: z
      .record(environmentName, environmentSchema)
      .refine((envs) => Object.keys(envs).length > 0, { message: 'must define at least one environment' })
      .superRefine(uniqueAcrossEnvironments),
  })
  // Across environments: no instance may be able to read another environment's secrets.
  .superRefine((config, ctx) => {
    for (const problem of overlappingSecretPaths(config.app.name, config.environments)) {
      ctx.addIssue({ code: 'custom', path: ['environments', problem.env, 'secrets', 'path'], message: problem.message });
    }
    // A check that needs a token needs a login to get it from (in the app's or the environment's smoke).
    for (const issue of smokeAuthIssues(config.app, config.environments)) ctx.addIssue({ code: 'custom', ...issue });
    // Blue/green: the app's settings with each environment's over them must still hold together.
    for (const issue of blueGreenIssues(config.app, config.environments)) ctx.addIssue({ code: 'custom', ...issue });
    // Accounts: one per environment unless the config says otherwise; bootstrap qualifiers distinct.
    for (const issue of accountSharingIssues(config.environments))
      ctx.addIssue({ code: 'custom', path: ['environments', ...issue.path], message: issue.message });
    for (const issue of qualifierIssues(config.app.name, Object.keys(config.environments)))
      ctx.addIssue({ code: 'custom', path: ['environments', ...issue.path], message: issue.message, params: { showValue: false } });
    // Kubernetes: an AppProject per environment; an ExternalSecret reading only its own path.
    for (const issue of kubernetesIssues(config.app, config.environments)) ctx.addIssue({ code: 'custom', ...issue });
  });
