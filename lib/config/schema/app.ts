import { z } from 'zod';
import { dnsLabel, githubRepository, gitRepositoryUrl, pinnedImage, port, relativeFile, urlPath } from '../primitives';
import { blueGreenSchema } from './blue-green';
import { appSecretsSchema, SECRET_NAME_PATTERN } from './secrets';
import { migrationSchema, smokeSchema } from './smoke';

/** The fields of the app section. */
const appFields = z.strictObject({
  /** DNS label naming the checkout (`/opt/<name>`), log groups, stacks and Kubernetes labels. */
  name: dnsLabel,
  /** Container image for Kubernetes, pinned by tag or digest. */
  image: pinnedImage,
  /** Port the API listens on inside the container. */
  port: port,
  /** Port serving `/metrics`, kept apart from the app port so NetworkPolicy can fence it. */
  metricsPort: port.default(9464),
  /** Liveness path (the runbook's `/healthz`). */
  healthPath: urlPath.default('/healthz'),
  /** Readiness path: fails while Postgres is unavailable. */
  readyPath: urlPath.default('/ready'),
  /** Git remote the EC2 host clones into `/opt/<name>`. */
  repository: gitRepositoryUrl,
  /** Compose file inside the checkout. */
  composeFile: relativeFile.default('compose.prod.yml'),
  /** Env file inside the checkout holding secrets; never committed, mode 0600 on the host. */
  envFile: relativeFile.default('.env.production'),
  /** Secret names and rotation settings (values live in Parameter Store). @default - no secrets */
  secrets: appSecretsSchema.prefault({}),
  /** Smoke checks run after every deploy (lib/config/schema/smoke.ts). @default - health only */
  smoke: smokeSchema.optional(),
  /** One-shot migration run before a release takes traffic. @default - none */
  migration: migrationSchema.optional(),
  /** Blue/green releases on the host (lib/config/schema/blue-green.ts). @default - in-place restart */
  blueGreen: blueGreenSchema.optional(),
});

/** The application every environment runs: the same image on Kubernetes, the same repository on the EC2 host. */
export const appSchema = appFields.superRefine((app, ctx) => {
  // One container port cannot be both: the Service and the NetworkPolicies tell them apart by number.
  if (app.metricsPort === app.port) ctx.addIssue({ code: 'custom', path: ['metricsPort'], message: `must differ from app.port (${app.port})` });
  // The migration Job reads its secrets by name from the environment's Secret: only declared names exist there.
  const declared = new Set([...(app.secrets?.required ?? []), ...(app.secrets?.optional ?? [])]);
  app.migration?.secrets?.forEach((name, index) => {
    // A malformed name already has its own message.
    if (!declared.has(name) && new RegExp(SECRET_NAME_PATTERN).test(name))
      ctx.addIssue({
        code: 'custom',
        path: ['migration', 'secrets', index],
        message: 'is not a declared secret (list it in app.secrets.required or optional)',
      });
  });
});

export const githubSchema = z.strictObject({
  /** `owner/name` of the repository whose Actions may assume the deploy roles. */
  repository: githubRepository,
});
