import { z } from 'zod';
import { AWS_REGIONS } from '../aws-regions';
import { isPinnedGitRef } from '../git-ref';
import { accountId, email, gitRef, hostedZoneId, hostname, region, typeError, urlPath } from '../primitives';
import { blueGreenOverrideSchema } from './blue-green';
import { dataChecks, dataVolumeSchema } from './data-volume';
import { availabilityZone, backupsSchema, hasUnderTwoGiB, instanceSchema, logsSchema } from './host';
import { kubernetesSchema } from './kubernetes';
import { environmentSecretsSchema } from './secrets';
import { smokeOverrideSchema } from './smoke';

export const hostedZoneSchema = z.strictObject({
  /** Route53 hosted zone id; given explicitly, never looked up, so synth needs no credentials. */
  id: hostedZoneId,
  /** The zone's domain name, e.g. `example.com`. */
  name: hostname,
});

export const healthCheckSchema = z.strictObject({
  /** Path the Route53 health check requests. @default app.healthPath */
  path: urlPath.optional(),
  /** HTTPS where the environment has TLS, HTTP otherwise. @default - from the environment's `tls` */
  protocol: z.enum(['HTTP', 'HTTPS'], typeError('must be HTTP or HTTPS')).optional(),
});

const environmentFields = z.strictObject({
  /** 12-digit AWS account id, quoted in YAML. */
  account: accountId,
  /**
   * This environment shares its AWS account with another environment of the config, on purpose.
   * Without it, two environments in one account are refused: give each its own account (AWS
   * Organizations, free; docs/first-deploy.md). With it, each environment is still fenced in by
   * its own permissions boundary, and synth prints what the account still shares.
   * @default false
   */
  sharedAccount: z.boolean(typeError('must be true or false')).default(false),
  /** AWS region of the environment's stacks. */
  region: region,
  /** Git ref the host deploys by default (the runbook uses `origin/master`). */
  gitRef: gitRef.default('origin/master'),
  /**
   * Deploy only pinned refs: `gitRef` must then be `refs/tags/<tag>` or a full commit sha, and the
   * host's deploy refuses any other ref (a branch moves under you; a bare name can be a branch).
   * @default false
   */
  requirePinnedRef: z.boolean(typeError('must be true or false')).default(false),
  /** Public domain name of the API in this environment. */
  domain: hostname,
  /** Serve HTTPS (prod) or HTTP only (dev, as the runbook has it). */
  tls: z.boolean(typeError('must be true or false')),
  /** Who receives this environment's alarms (SNS e-mail subscription). */
  alarmEmail: email,
  /** Route53 zone for the A record of `domain`. Absent: no DNS record is managed. */
  hostedZone: hostedZoneSchema.optional(),
  /** Route53 health check settings. */
  healthCheck: healthCheckSchema.default({}),
  instance: instanceSchema.prefault({}),
  backups: backupsSchema,
  /** The EBS volume holding Postgres, Redis, the state file and the audit log, and its snapshots. */
  dataVolume: dataVolumeSchema.prefault({}),
  logs: logsSchema.default({ retentionDays: 14 }),
  kubernetes: kubernetesSchema,
  /** Where this environment's secrets live. @default - path /<app>/<env>/ */
  secrets: environmentSecretsSchema.prefault({}),
  /** This environment's smoke login and checks, replacing the app's by name. @default - the app's */
  smoke: smokeOverrideSchema.optional(),
  /** This environment's blue/green settings, replacing the app's key by key. @default - the app's */
  blueGreen: blueGreenOverrideSchema.optional(),
});

/** One deployment target: an AWS account/region with its EC2 host, and a Kubernetes namespace. */
export const environmentSchema = environmentFields.superRefine(environmentChecks);

/**
 * Checks that relate two fields of one environment. They live here, not at the root, so that a
 * problem in one environment does not hide the cross-field problems of another (zod skips a
 * refinement whose object already failed).
 */
// zod runs this refinement even when a field failed a refinement of its own (not a type check),
// so each check first makes sure the fields it compares are themselves valid.
function environmentChecks(env: z.output<typeof environmentFields>, ctx: z.RefinementCtx): void {
  dataChecks(env, ctx);
  if (hasUnderTwoGiB(env.instance.type) && env.instance.swapGiB === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['instance', 'swapGiB'],
      message: `must be at least 1 on ${env.instance.type}, which has less than 2 GiB for the API, PostgreSQL and Redis`,
    });
  }
  if (env.requirePinnedRef && !isPinnedGitRef(env.gitRef)) {
    ctx.addIssue({
      code: 'custom',
      path: ['gitRef'],
      message: `is not pinned, and this environment has requirePinnedRef: true: use refs/tags/<tag> or a full 40-character commit sha`,
    });
  }
  if (env.tls && !env.kubernetes.tlsSecretName) {
    ctx.addIssue({ code: 'custom', path: ['kubernetes', 'tlsSecretName'], message: 'is required when this environment has tls: true' });
  }
  if (!env.tls && env.healthCheck.protocol === 'HTTPS') {
    ctx.addIssue({
      code: 'custom',
      path: ['healthCheck', 'protocol'],
      message: 'cannot be HTTPS when this environment has tls: false (the host serves HTTP only)',
    });
  }
  if (env.hostedZone && hostname.safeParse(env.domain).success && !isWithinZone(env.domain, env.hostedZone.name)) {
    ctx.addIssue({ code: 'custom', path: ['domain'], message: `is not inside this environment's hostedZone.name "${env.hostedZone.name}"` });
  }
  if (env.instance.schedule && !env.hostedZone) {
    ctx.addIssue({
      code: 'custom',
      path: ['hostedZone'],
      message: 'is required when instance.schedule is set: a scheduled host has no Elastic IP and writes its own address into this zone at boot',
    });
  }
  const zone = env.instance.availabilityZone;
  // An unknown region is reported on its own; the zone is only compared with a known one.
  if (zone !== undefined && AWS_REGIONS.includes(env.region) && availabilityZone.safeParse(zone).success && !new RegExp(`^${env.region}[a-z]$`).test(zone)) {
    ctx.addIssue({ code: 'custom', path: ['instance', 'availabilityZone'], message: `is not in this environment's region "${env.region}"` });
  }
  const transition = env.backups.transitionToInfrequentAccessDays;
  if (transition !== undefined && transition >= env.backups.retentionDays) {
    ctx.addIssue({
      code: 'custom',
      path: ['backups', 'transitionToInfrequentAccessDays'],
      message: `must be less than backups.retentionDays (${env.backups.retentionDays}), or backups expire before they move`,
    });
  }
}

function isWithinZone(domain: string, zone: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const z = zone.toLowerCase().replace(/\.$/, '');
  return d === z || d.endsWith(`.${z}`);
}
