import { z } from 'zod';
import { instanceType, onCalendar, positiveInt, schedulerCron, timeZone } from '../primitives';

/** Retention values CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const instanceScheduleSchema = z.strictObject({
  /** IANA time zone of the start and stop expressions. */
  timezone: timeZone.default('UTC'),
  /** When the instance starts, as an EventBridge Scheduler cron expression. */
  start: schedulerCron,
  /** When the instance stops. */
  stop: schedulerCron,
});

export const instanceSchema = z.strictObject({
  /** EC2 instance type; Graviton (`t4g`) is the cheapest per GiB of memory. */
  type: instanceType.default('t4g.small'),
  /** Size of the encrypted gp3 root volume. */
  rootVolumeGiB: positiveInt.default(20),
  /** Stop the instance outside working hours (dev). Absent: always on. */
  schedule: instanceScheduleSchema.optional(),
});

export const backupsSchema = z.strictObject({
  /** systemd OnCalendar expression for the host's backup timer. */
  schedule: onCalendar.default('*-*-* 03:00:00'),
  /** Days a backup object is kept before the bucket's lifecycle expires it. */
  retentionDays: positiveInt,
  /** Move backups to S3 Standard-IA after this many days (S3 requires at least 30). Absent: stay in Standard. */
  transitionToInfrequentAccessDays: positiveInt.min(30, { message: 'must be at least 30 (S3 Standard-IA minimum)' }).optional(),
});

export const logsSchema = z.strictObject({
  /** CloudWatch Logs retention in days. */
  retentionDays: z
    .number()
    .refine((value) => (LOG_RETENTION_DAYS as readonly number[]).includes(value), {
      message: `is not a CloudWatch Logs retention (one of ${LOG_RETENTION_DAYS.join(', ')})`,
    })
    .default(14),
});
