/*
 * Weekly running hours of an instance started and stopped by EventBridge Scheduler cron
 * expressions, read from synthesized `AWS::Scheduler::Schedule` resources.
 * Kept apart so it can be unified with the config schema's cron parser (lib/config/cron.ts).
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
 */

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MINUTES_PER_WEEK = 7 * 24 * 60;

/** The moments of a week (minute of the week, Sunday 00:00 = 0) an expression fires at. */
export interface WeeklyTimes {
  readonly minutesOfWeek: readonly number[];
}

/** Day of week of one token: `MON` or EventBridge's numbering 1-7 = SUN-SAT. */
function dayOf(token: string): number | undefined {
  if (/^[1-7]$/.test(token)) return Number(token) - 1;
  const index = DAY_NAMES.indexOf(token.toUpperCase());
  return index < 0 ? undefined : index;
}

/** Days a day-of-week field selects (`*`, `?`, `MON-FRI`, `2-6`, `MON,WED`, `FRI-MON`), or undefined. */
export function daysOfWeek(field: string): Set<number> | undefined {
  if (field === '*' || field === '?') return new Set([0, 1, 2, 3, 4, 5, 6]);
  const days = new Set<number>();
  for (const part of field.split(',')) {
    const [fromToken, toToken, ...rest] = part.split('-');
    const from = dayOf(fromToken);
    const to = toToken === undefined ? from : dayOf(toToken);
    if (from === undefined || to === undefined || rest.length > 0) return undefined;
    // Ranges may wrap around the week (FRI-MON).
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return days;
}

/**
 * When a `cron(M H DOM MON DOW YEAR)` expression fires in a week, for the weekly shapes a
 * start/stop schedule uses: one minute and hour, every day of the month (`*` or `?`), every
 * month, any day-of-week field. Returns undefined for anything else (steps, lists of hours,
 * days of the month), which the caller prices as always on.
 */
export function weeklyTimes(expression: string): WeeklyTimes | undefined {
  const m = /^cron\((\d{1,2}) (\d{1,2}) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expression.trim());
  if (!m) return undefined;
  const [, minute, hour, dayOfMonth, month, dayOfWeek] = m;
  if (!['*', '?'].includes(dayOfMonth) || month !== '*') return undefined;
  // EventBridge requires one of the two day fields to be `?`; `* ... *` is read as every day.
  const days = daysOfWeek(dayOfWeek);
  if (!days || Number(minute) > 59 || Number(hour) > 23) return undefined;
  const minuteOfDay = Number(hour) * 60 + Number(minute);
  return { minutesOfWeek: [...days].map((d) => d * 1440 + minuteOfDay).sort((a, b) => a - b) };
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
  if (bad) return { unreadable: `schedule "${bad[0]}" is not a weekly cron(M H * * DOW *)` };
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
