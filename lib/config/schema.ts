import { z } from 'zod';
import { dnsLabel } from './primitives';
import { appSchema, githubSchema } from './schema/app';
import { costGuardrailsSchema } from './schema/cost-guardrails';
import { environmentSchema } from './schema/environment';
import { smokeAuthIssues } from './schema/smoke';

/**
 * The whole project configuration, as `config/environments.yaml` holds it.
 * Each section validates its own fields; see `./schema/*`.
 */
export const configSchema = z.strictObject({
  app: appSchema,
  github: githubSchema,
  costGuardrails: costGuardrailsSchema,
  /** Environments by name; each name is a DNS label used in stack names, prefixes and namespaces. */
  environments: z
    .record(dnsLabel, environmentSchema)
    .refine((envs) => Object.keys(envs).length > 0, { message: 'must define at least one environment' }),
})
  .superRefine((config, ctx) => {
    for (const issue of smokeAuthIssues(config.app, config.environments)) ctx.addIssue({ code: 'custom', ...issue });
  });
