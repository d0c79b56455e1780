import { z } from 'zod';
import { AWS_REGIONS } from './aws-regions';
import { cronCanFire, parseEventBridgeCron } from './cron';
import { isGitRef } from './git-ref';
import { INSTANCE_TYPES, isKnownInstanceType } from './instance-types';
import { onCalendarCanFire, onCalendarProblem } from './on-calendar';

/*
 * Reusable field schemas. Each message is a predicate phrase ("is not ...", "must be ...")
 * because the error formatter prefixes it with the key path and the offending value:
 *   environments.prod.account: "12345" is not a 12-digit AWS account id
 */

/**
 * A message for a wrong type that leaves a missing key to the generic "is required".
 * zod applies a schema's own message to every issue, including an absent value.
 */
export function typeError(message: string) {
  return { error: (issue: { input?: unknown }) => (issue.input === undefined ? undefined : message) };
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A lower-case RFC 1123 DNS label: names of environments, apps, namespaces. */
export const dnsLabel = z.string().regex(DNS_LABEL, { message: 'is not a DNS label (lower-case letters, digits and "-", at most 63 characters)' });

export const accountId = z.string(typeError('is not a 12-digit AWS account id (quote it in YAML so leading zeros survive)')).regex(/^\d{12}$/, {
  message: 'is not a 12-digit AWS account id',
});

/** A commercial or GovCloud region from aws-cdk-lib's region table (./aws-regions.ts). */
export const region = z.string().refine((value) => AWS_REGIONS.includes(value), { message: 'is not a known AWS region (e.g. us-east-1)' });

const NOT_A_HOSTNAME = 'is not a hostname (e.g. api.example.com)';

/**
 * A fully qualified RFC 1123 hostname such as `api.example.com`: zod's format, plus what a
 * public DNS name needs beyond it (zod also accepts `localhost`, `1.2.3.4` and a trailing dot).
 */
export const hostname = z
  .hostname({ ...typeError(NOT_A_HOSTNAME), abort: true })
  .refine((value) => /\.[a-z0-9-]*[a-z-][a-z0-9-]*$/i.test(value), { message: NOT_A_HOSTNAME });

export const email = z.email(typeError('is not an e-mail address'));

export const githubRepository = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/, {
  message: 'is not a GitHub repository of the form owner/name',
});

export const positiveInt = z
  .number(typeError('must be a whole number'))
  .int({ message: 'must be a whole number' })
  .positive({ message: 'must be a positive whole number' });

export const positiveNumber = z.number(typeError('must be a positive number')).positive({ message: 'must be a positive number' });

export const port = z
  .number(typeError('must be a port number'))
  .int({ message: 'must be a port number' })
  .min(1, { message: 'must be a port number from 1 to 65535' })
  .max(65535, {
    message: 'must be a port number from 1 to 65535',
  });

export const urlPath = z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, { message: 'is not an absolute URL path (e.g. /healthz)' });

/** Kubernetes/Docker image reference pinned by a tag (not `latest`) or a sha256 digest. */
export const pinnedImage = z
  .string()
  .regex(/^[a-z0-9]+(?:[._/:-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/, {
    message: 'is not an image pinned by tag or digest (e.g. ghcr.io/org/api:1.2.3 or ...@sha256:<64 hex>)',
  })
  .refine((value) => !/:latest$/.test(value), { message: 'uses the mutable tag "latest": pin a version tag or a digest' });

/** A git ref the host can check out: a branch, tag, `origin/<branch>` or a commit sha (grammar in ./git-ref). */
export const gitRef = z.string().refine(isGitRef, {
  message: 'is not a git ref (branch, refs/tags/<tag>, origin/<branch> or commit sha; no "..", no leading "-" or ".", at most 200 characters)',
});

const URL_HOST = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+';
/** Path segments that cannot start an option (`-`) or climb (`.`, `..`). */
const URL_PATH = '[A-Za-z0-9_][A-Za-z0-9._~-]*(?:/[A-Za-z0-9_][A-Za-z0-9._~-]*)*';
const URL_USER = '[A-Za-z0-9_][A-Za-z0-9_.-]*';

/**
 * A git remote URL the host clones and Argo CD follows, of one strict shape: `https://host/owner/repo(.git)`,
 * `ssh://git@host(:port)/owner/repo.git` or scp-like `git@host:owner/repo.git`. The URL travels
 * into host.env and the deploy's git command line, so no quote, space, `$`, `;` or other shell
 * syntax, no credentials (`user:token@`: use a deploy key), no query or fragment.
 */
export const gitRepositoryUrl = z
  .string(typeError('is not a git remote URL'))
  .max(256, { message: 'is not a git remote URL (at most 256 characters)' })
  .regex(
    new RegExp(
      `^(?:https://${URL_HOST}(?::\\d{1,5})?/${URL_PATH}/?|ssh://(?:${URL_USER}@)?${URL_HOST}(?::\\d{1,5})?/${URL_PATH}|${URL_USER}@${URL_HOST}:${URL_PATH})$`,
    ),
    {
      message:
        'is not a git remote URL of the accepted shapes: https://host/owner/repo.git, ssh://git@host/owner/repo.git or git@host:owner/repo.git (letters, digits and ._~- in the path; no credentials, quotes, spaces or shell syntax)',
    },
  );

/** Relative file name inside the app checkout, never escaping it. */
export const relativeFile = z.string().regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/, { message: 'is not a relative file path inside the checkout' });

/** EventBridge Scheduler cron expression, e.g. `cron(0 8 ? * MON-FRI *)`, parsed field by field (./cron.ts). */
export const schedulerCron = z.string(typeError('is not an EventBridge Scheduler cron expression (e.g. cron(0 8 ? * MON-FRI *))')).superRefine((value, ctx) => {
  if (!/^cron\(.*\)$/.test(value.trim())) {
    ctx.addIssue({ code: 'custom', message: 'is not an EventBridge Scheduler cron expression (e.g. cron(0 8 ? * MON-FRI *))' });
    return;
  }
  const parsed = parseEventBridgeCron(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `is not a valid EventBridge Scheduler cron expression: ${parsed.reason}` });
  else if (!cronCanFire(parsed.fields)) {
    ctx.addIssue({
      code: 'custom',
      message:
        'can never fire: no date from this year on has its day-of-month in its months and years (e.g. 30 in February); EventBridge would accept it and never run it',
    });
  }
});

/** IANA time zone such as `America/Sao_Paulo` or `UTC`. */
export const timeZone = z.string().refine(
  (value) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not an IANA time zone (e.g. America/Sao_Paulo)' },
);

/** systemd OnCalendar expression, parsed (./on-calendar.ts) so a timer systemd would refuse never reaches the host. */
export const onCalendar = z.string(typeError('is not a systemd OnCalendar expression (e.g. *-*-* 03:00:00 or daily)')).superRefine((value, ctx) => {
  const problem = onCalendarProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `is not a systemd OnCalendar expression (e.g. *-*-* 03:00:00 or daily): ${problem}` });
  else if (onCalendarCanFire(value) === false) {
    ctx.addIssue({
      code: 'custom',
      message:
        'never elapses: no date from this year on matches its year, month, day and weekdays (e.g. *-02-30); systemd would load the timer and never run it',
    });
  }
});

/** An EC2 instance type the stacks and the cost estimate know (./instance-types.ts). */
export const instanceType = z.string(typeError('must be an EC2 instance type (e.g. t4g.small)')).refine(isKnownInstanceType, {
  message: `is not an instance type this project knows (one of ${Object.keys(INSTANCE_TYPES).join(', ')}; add others to lib/config/instance-types.ts with a price)`,
});

/** Route53 hosted zone id such as `Z0123456789ABCDEFGHIJ`. */
export const hostedZoneId = z.string().regex(/^Z[A-Z0-9]{4,31}$/, { message: 'is not a Route53 hosted zone id (e.g. Z0123456789ABCDEFGHIJ)' });

/** IPv4 CIDR such as `10.0.0.0/16`. */
export const ipv4Cidr = z.cidrv4(typeError('is not an IPv4 CIDR (e.g. 10.0.0.0/16)'));
