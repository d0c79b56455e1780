/*
 * Weekly running hours of an instance started and stopped by EventBridge Scheduler cron
 * expressions, read from synthesized `AWS::Scheduler::Schedule` resources. The expressions are
 * read by the config schema's parser (lib/config/cron.ts), the one cron model of the project.
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
 */
import { parseEventBridgeCron } from '../config/cron';

const MINUTES_PER_WEEK = 7 * 24 * 60;
const MINUTES_PER_DAY = 24 * 60;

/** The moments of a week (minute of the week, Sunday 00:00 = 0) an expression fires at. */
export interface WeeklyTimes {
  readonly minutesOfWeek: readonly number[];
}

/**
 * When a `cron(M H DOM MON DOW YEAR)` expression fires in a week, for expressions that fire at the
 * same minutes every week: every day of the month (`?` or `*`), every month, every year, days of
 * the week as any list, range or step, minutes and hours likewise. Returns undefined for anything
 * else (days of the month, `L`, `#`, some months or years, or an expression AWS would reject),
 * which the caller prices as always on.
 */
export function weeklyTimes(expression: string): WeeklyTimes | undefined {
  const parsed = parseEventBridgeCron(expression);
  if (!parsed.ok) return undefined;
  const { minutes, hours, daysOfMonth, months, daysOfWeek, years, calendarDays } = parsed.fields;
  const every = (values: readonly number[] | undefined, count: number) => values === undefined || values.length === count;
  if (calendarDays.length > 0 || !every(daysOfMonth, 31) || !every(months, 12) || !every(years, 2199 - 1970 + 1)) return undefined;
  // Cron numbers days of the week 1 = SUN to 7 = SAT; `?` there means every day.
  const days = (daysOfWeek ?? [1, 2, 3, 4, 5, 6, 7]).map((d) => d - 1);
  const times = days.flatMap((d) => hours.flatMap((h) => minutes.map((m) => d * MINUTES_PER_DAY + h * 60 + m)));
  return { minutesOfWeek: times.sort((a, b) => a - b) };
}

/** Hours a week between starts and stops, or why it could not be read (then the instance is priced as always on). */
export type WeeklyHours = { readonly hours: number } | { readonly unreadable: string };

/**
 * Running hours a week of an instance that the `start` expressions start and the `stop`
 * expressions stop: walks the week's start and stop events in order (windows may cross
 * midnight and days may differ, e.g. 22:00 MON,WED,FRI to 06:00 TUE,THU,SAT).
 * Start and stop at the same moment cannot be ordered: unreadable.
 */
export function weeklyRunningHours(start: readonly string[], stop: readonly string[]): WeeklyHours {
  const read = (expressions: readonly string[]) => expressions.map((e) => [e, weeklyTimes(e)] as const);
  const starts = read(start);
  const stops = read(stop);
  const bad = [...starts, ...stops].find(([, times]) => times === undefined);
  if (bad) return { unreadable: `schedule "${bad[0]}" does not fire at the same minutes every week` };
  const events = [
    ...starts.flatMap(([, t]) => (t as WeeklyTimes).minutesOfWeek.map((at) => ({ at, running: true }))),
    ...stops.flatMap(([, t]) => (t as WeeklyTimes).minutesOfWeek.map((at) => ({ at, running: false }))),
  ].sort((a, b) => a.at - b.at);
  const startTimes = new Set(events.filter((e) => e.running).map((e) => e.at));
  const clash = events.find((e) => !e.running && startTimes.has(e.at));
  if (clash) return { unreadable: 'start and stop fire at the same moment' };
  if (!events.some((e) => !e.running)) return { hours: 168 };
  if (!events.some((e) => e.running)) return { hours: 0 };
  let runningMinutes = 0;
  events.forEach((event, i) => {
    const next = events[(i + 1) % events.length];
    const gap = (next.at - event.at + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
    if (event.running) runningMinutes += gap;
  });
  return { hours: runningMinutes / 60 };
}
