import { z } from 'zod';
import { onCalendarCanFire, onCalendarGapSeconds, onCalendarMinGapSeconds, onCalendarProblem } from '../on-calendar';
import { positiveInt, typeError } from '../primitives';

/*
 * The data volume of an environment (Postgres, Redis, the state file and the audit log live on it)
 * and its snapshots, plus the checks that tie backups and the volume to the rest of the environment.
 * The backup schedule is read by ../on-calendar.ts, the one OnCalendar parser.
 */

/** Hours Data Lifecycle Manager accepts as a snapshot interval. @see https://docs.aws.amazon.com/dlm/latest/APIReference/API_CreateRule.html */
export const DLM_INTERVAL_HOURS = [1, 2, 3, 4, 6, 8, 12, 24] as const;

/** DLM keeps at most this many snapshots per schedule (count-based retention). */
export const DLM_MAX_RETAIN = 1000;

export const dataVolumeSnapshotsSchema = z.strictObject({
  /** Hours between Data Lifecycle Manager snapshots of the volume (one of 1, 2, 3, 4, 6, 8, 12, 24). */
  intervalHours: z
    .number(typeError('must be a number of hours'))
    .refine((value) => (DLM_INTERVAL_HOURS as readonly number[]).includes(value), {
      message: `is not an interval Data Lifecycle Manager accepts (one of ${DLM_INTERVAL_HOURS.join(', ')} hours)`,
    })
    .default(24),
  /** How many snapshots DLM keeps; the oldest is deleted when a new one is taken. At least 1. */
  retain: positiveInt.max(DLM_MAX_RETAIN, { message: `must be at most ${DLM_MAX_RETAIN} (the DLM limit)` }).default(7),
});

export const dataVolumeSchema = z.strictObject({
  /**
   * Size of the encrypted gp3 data volume in GiB. It can grow (EBS resizes in place; grow the file
   * system with `resize2fs`), never shrink: EBS refuses, and the PR review flags a smaller size
   * (`dataVolumeShrinks` in scripts/review/data-volume-resize.ts).
   * @default 20
   */
  sizeGiB: positiveInt.max(16384, { message: 'must be at most 16384 (the gp3 maximum)' }).default(20),
  snapshots: dataVolumeSnapshotsSchema.prefault({}),
});

/** CloudWatch evaluates an alarm over at most 7 days of hourly periods. */
export const MAX_EVALUATION_HOURS = 168;

/** The longest backup schedule gap the backup-age alarm can watch: it fires at twice the gap. */
export const MAX_BACKUP_GAP_SECONDS = (MAX_EVALUATION_HOURS * 3600) / 2;

/**
 * The floor between two backups, in seconds. Each run dumps the whole database and uploads it
 * (docs/cost.md: 4 s for a 36 MB database here, growing with the data and slower on a burst-credit
 * host); a run that starts while the previous one holds the backup lock is skipped (backup.sh,
 * exit 75), so a schedule tighter than a dump can run only adds skipped runs, S3 requests and
 * storage. Five minutes leaves room for a database many times this size; an RPO under that needs
 * WAL archiving, not dumps.
 */
export const MIN_BACKUP_INTERVAL_SECONDS = 5 * 60;

export type DataVolumeConfig = z.output<typeof dataVolumeSchema>;

/** Seconds of the longest gap of a schedule the config already accepted (schema-checked). */
export function backupGapSeconds(schedule: string): number {
  const gap = onCalendarGapSeconds(schedule);
  if (gap === undefined) throw new Error(`backups.schedule "${schedule}" is not a supported OnCalendar expression (the config check should have refused it)`);
  return gap;
}

/** The fields of one environment that `dataChecks` reads. */
interface DataCheckInput {
  readonly instance: { readonly availabilityZone?: string };
  readonly backups: { readonly schedule: string };
}

/**
 * Checks of one environment's durable data (called from the environment schema's refinement):
 * the backup schedule parses as OnCalendar, and the availability zone is fixed in the config,
 * because an EBS volume lives in one zone and the host must start there.
 */
export function dataChecks(env: DataCheckInput, ctx: z.RefinementCtx): void {
  const gap = onCalendarGapSeconds(env.backups.schedule);
  if (gap !== undefined && gap > MAX_BACKUP_GAP_SECONDS) {
    ctx.addIssue({
      code: 'custom',
      path: ['backups', 'schedule'],
      message: `leaves ${Math.round(gap / 3600)} h between two backups; at most ${MAX_BACKUP_GAP_SECONDS / 3600} h, so the backup-age alarm (twice the gap) fits the 7 days CloudWatch evaluates`,
    });
  }
  const closest = onCalendarMinGapSeconds(env.backups.schedule);
  if (closest !== undefined && closest < MIN_BACKUP_INTERVAL_SECONDS) {
    ctx.addIssue({
      code: 'custom',
      path: ['backups', 'schedule'],
      message: `runs backups ${closest} s apart at its closest; at least ${MIN_BACKUP_INTERVAL_SECONDS / 60} minutes apart, as a dump and its upload must finish before the next starts (a run that finds the previous one still going is skipped)`,
    });
  }
  // An expression systemd would refuse is reported once, by the OnCalendar check of the backups
  // section (lib/config/on-calendar.ts); here only what parses there but not here.
  // Nor what never elapses: that check says why (lib/config/primitives.ts).
  if (gap === undefined && onCalendarProblem(env.backups.schedule) === undefined && onCalendarCanFire(env.backups.schedule) !== false) {
    ctx.addIssue({
      code: 'custom',
      path: ['backups', 'schedule'],
      message:
        'is not a supported systemd OnCalendar expression: [weekdays] [*-*-*] H:M[:S] with *, numbers, a..b, lists and /step (e.g. *:0/15 for every 15 minutes, *-*-* 03:00:00, hourly, daily)',
    });
  }
  if (env.instance.availabilityZone === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['instance', 'availabilityZone'],
      message: 'is required: the data volume and the host must stay in one fixed zone (e.g. us-east-1a), or a zone change strands the data',
    });
  }
}
