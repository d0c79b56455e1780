import * as logs from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { parseEventBridgeCron, sameSchedule } from '../cron';
import { INSTANCE_TYPES, isKnownInstanceType } from '../instance-types';
import { instanceType, onCalendar, positiveInt, schedulerCron, timeZone, typeError } from '../primitives';

/** An availability zone name such as `us-east-1b`; that it lies in the environment's region is checked per environment. */
export const availabilityZone = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, { message: 'is not an availability zone name (e.g. us-east-1b)' });

/**
 * Retention values CloudWatch Logs accepts, in days: aws-cdk-lib's `logs.RetentionDays`, the table
 * the LogGroup construct itself takes (9999 is its INFINITE: never expire).
 */
export const LOG_RETENTION_DAYS: readonly number[] = Object.values(logs.RetentionDays).filter((value): value is number => typeof value === 'number');

/** Burstable types with less than 2 GiB of memory: the API, PostgreSQL and Redis need swap on them. */
export function hasUnderTwoGiB(instanceType: string): boolean {
  return isKnownInstanceType(instanceType) && INSTANCE_TYPES[instanceType].memoryGiB < 2;
}

export const instanceScheduleSchema = z
  .strictObject({
    /** IANA time zone of the start and stop expressions. */
    timezone: timeZone.default('UTC'),
    /** When the instance starts, as an EventBridge Scheduler cron expression. */
    start: schedulerCron,
    /** When the instance stops. */
    stop: schedulerCron,
  })
  .superRefine((schedule, ctx) => {
    const start = parseEventBridgeCron(schedule.start);
    const stop = parseEventBridgeCron(schedule.stop);
    if (start.ok && stop.ok && sameSchedule(start.fields, stop.fields)) {
      ctx.addIssue({ code: 'custom', path: ['stop'], message: `fires when start does (${schedule.start}): the instance would stop as it starts` });
    }
  });

export const instanceSchema = z.strictObject({
  /** EC2 instance type; Graviton (`t4g`) is the cheapest per GiB of memory. */
  type: instanceType.default('t4g.small'),
  /**
   * Size of the encrypted gp3 root volume, deleted with its instance (the state is on the data
   * volume); the Amazon Linux 2023 image's snapshot is 8 GiB, the smallest it allows.
   */
  rootVolumeGiB: positiveInt
    .min(8, { message: 'must be at least 8 (the size of the Amazon Linux 2023 image snapshot)' })
    .max(16384, { message: 'must be at most 16384 (the gp3 maximum)' })
    .default(8),
  /**
   * How the host is bought: `on-demand`, or `spot` (a mixed-instances policy over the types of the
   * same architecture and memory, capacity-optimized; interrupted with a two-minute warning that
   * starts the host's clean stop). docs/cost.md has the prices and the risk.
   * @default 'on-demand'
   */
  purchase: z.enum(['on-demand', 'spot'], typeError('must be on-demand or spot')).default('on-demand'),
  /** Stop the instance outside working hours (dev). Absent: always on. */
  schedule: instanceScheduleSchema.optional(),
  /**
   * Availability zone of the VPC's only public subnet, e.g. `us-east-1b`; given explicitly, never
   * looked up, so synth needs no credentials. Change it when the type is not offered in `<region>a`.
   * @default - the region's first zone, chosen by CloudFormation at deploy time (`Fn::GetAZs`)
   */
  availabilityZone: availabilityZone.optional(),
  /**
   * CPU credit mode of burstable types (t3, t3a, t4g): `standard` throttles to the baseline when
   * credits run out, `unlimited` keeps bursting and bills the surplus. Ignored for other types.
   * @default 'standard'
   */
  cpuCredits: z.enum(['standard', 'unlimited'], typeError('must be standard or unlimited')).optional(),
  /**
   * CloudFormation termination protection of the host stack. The instance itself is the Auto
   * Scaling group's to replace (its state is on the data volume), so it carries none.
   * @default - true for an environment named `prod`, false otherwise
   */
  terminationProtection: z.boolean(typeError('must be true or false')).optional(),
  /**
   * Swap file on the root volume, in GiB, so a memory spike pages instead of the kernel killing
   * PostgreSQL. Required (at least 1) on instance types with less than 2 GiB of memory.
   * @default 1
   */
  swapGiB: z
    .number(typeError('must be a whole number of GiB'))
    .int({ message: 'must be a whole number of GiB' })
    .min(0, { message: 'must be 0 (no swap) or more' })
    .max(16, { message: 'must be at most 16' })
    .default(1),
});

/** S3 lifecycle rules take their days as a 32-bit integer: a larger number fails the bucket's deploy. */
export const S3_LIFECYCLE_MAX_DAYS = 2_147_483_647;
const lifecycleDays = positiveInt.max(S3_LIFECYCLE_MAX_DAYS, { message: `must be at most ${S3_LIFECYCLE_MAX_DAYS} (S3 lifecycle days are a 32-bit integer)` });

export const backupsSchema = z.strictObject({
  /** systemd OnCalendar expression for the host's backup timer. */
  schedule: onCalendar.default('*-*-* 03:00:00'),
  /** Days a backup object is kept before the bucket's lifecycle expires it. */
  retentionDays: lifecycleDays,
  /** Move backups to S3 Standard-IA after this many days (S3 requires at least 30). Absent: stay in Standard. */
  transitionToInfrequentAccessDays: lifecycleDays.min(30, { message: 'must be at least 30 (S3 Standard-IA minimum)' }).optional(),
});

export const logsSchema = z.strictObject({
  /** CloudWatch Logs retention in days. */
  retentionDays: z
    .number(typeError('must be a number of days'))
    .refine((value) => LOG_RETENTION_DAYS.includes(value), {
      message: `is not a CloudWatch Logs retention (one of ${LOG_RETENTION_DAYS.join(', ')})`,
    })
    .default(14),
});
