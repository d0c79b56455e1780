import { onCalendarProblem } from '../on-calendar';
import { z } from 'zod';
import { positiveInt, typeError } from '../primitives';

/*
 * The data volume of an environment (Postgres, Redis, the state file and the audit log live on it)
 * and its snapshots, plus the checks that tie backups and the volume to the rest of the environment.
 * TODO(lib/config/cron.ts): `onCalendarGapSeconds` is the one OnCalendar parser here; when the
 * schema's own cron module lands, move it there and have `backups.schedule` use it directly.
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

export type DataVolumeConfig = z.output<typeof dataVolumeSchema>;

// ---------------------------------------------------------------------------------------------
// OnCalendar: the subset of systemd.time(7) calendar events a backup timer needs, parsed for real
// so the alarm threshold (twice the longest gap between two runs) follows from the schedule.

const SHORTHANDS: Record<string, string> = {
  minutely: '*-*-* *:*:00',
  hourly: '*-*-* *:00:00',
  daily: '*-*-* 00:00:00',
  weekly: 'Mon *-*-* 00:00:00',
};
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Values of one time component (`*`, `N`, `N/S`, `*\/S`, `A..B`, comma lists) within 0..max. */
function componentValues(text: string, max: number): number[] | undefined {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|\d{1,2})(?:\.\.(\d{1,2}))?(?:\/(\d{1,2}))?$/.exec(part);
    if (!m) return undefined;
    const start = m[1] === '*' ? 0 : Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : m[1] === '*' || m[3] !== undefined ? max : start;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (start > max || end > max || start > end || step < 1) return undefined;
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/** Weekdays (0 = Monday) of a `Mon,Wed..Fri` list, or undefined when it is not one. */
function weekdayValues(text: string): number[] | undefined {
  const days = new Set<number>();
  for (const part of text.toLowerCase().split(',')) {
    const [from, to] = part.split('..');
    const a = WEEKDAYS.indexOf(from.slice(0, 3));
    const b = to === undefined ? a : WEEKDAYS.indexOf(to.slice(0, 3));
    if (a < 0 || b < 0 || from.length < 3 || (to !== undefined && to.length < 3)) return undefined;
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days];
}

/**
 * The longest time, in seconds, between two consecutive runs of a systemd OnCalendar expression,
 * over a week; undefined when the expression is outside the supported subset: an optional weekday
 * list, an optional `*-*-*` date, and `H:M[:S]` with `*`, numbers, ranges, lists and `/step`
 * (`*:0/15`, `Mon..Fri *-*-* 03:00:00`, `hourly`, `daily`). Calendar dates other than `*-*-*` are
 * refused: a backup schedule repeats at least weekly.
 */
export function onCalendarGapSeconds(expression: string): number | undefined {
  const words = (SHORTHANDS[expression.trim().toLowerCase()] ?? expression).trim().split(/\s+/);
  let days = [0, 1, 2, 3, 4, 5, 6];
  if (words.length > 0 && /^[A-Za-z]/.test(words[0])) {
    const parsed = weekdayValues(words.shift() as string);
    if (!parsed) return undefined;
    days = parsed;
  }
  if (words.length > 0 && words[0].includes('-')) {
    if (words.shift() !== '*-*-*') return undefined;
  }
  if (words.length !== 1) return undefined;
  const time = words[0].split(':');
  if (time.length < 2 || time.length > 3) return undefined;
  const hours = componentValues(time[0], 23);
  const minutes = componentValues(time[1], 59);
  const seconds = time.length === 3 ? componentValues(time[2], 59) : [0];
  if (!hours || !minutes || !seconds) return undefined;

  const runs: number[] = [];
  for (const day of [...days].sort((a, b) => a - b)) {
    for (const h of hours) for (const m of minutes) for (const s of seconds) runs.push(((day * 24 + h) * 60 + m) * 60 + s);
  }
  const week = 7 * 24 * 3600;
  let gap = runs[0] + week - (runs.at(-1) as number);
  for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i] - runs[i - 1]);
  return gap;
}

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
  // An expression systemd would refuse is reported once, by the OnCalendar check of the backups
  // section (lib/config/on-calendar.ts); here only what parses there but not here.
  if (gap === undefined && onCalendarProblem(env.backups.schedule) === undefined) {
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
