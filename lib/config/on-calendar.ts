/*
 * systemd calendar events (`OnCalendar=`, systemd.time(7)), checked before the timer unit reaches
 * the host: a bad expression there makes systemd refuse the timer and backups silently stop.
 * Pure: the schema uses it to reject what systemd would refuse and to compute the longest gap
 * between two backups; tests compare it with `systemd-analyze calendar` where that exists.
 *
 * Grammar: a shorthand (`daily`, `hourly`, ...) or `[weekdays] [date] [time] [timezone]`, at least
 * one of weekdays, date and time, where
 *   weekdays  Mon,Wed or Mon..Fri (names or abbreviations)
 *   date      [year-]month-day, `~` for days from the month's end (`*-02~03`)
 *   time      hour:minute[:second]
 * and each date or time component is `*`, a number, `a..b`, `a/step` or a comma list of them.
 */

/** Shorthands as systemd.time(7) spells them out. */
const SHORTHANDS: Readonly<Record<string, string>> = {
  minutely: '*-*-* *:*:00',
  hourly: '*-*-* *:00:00',
  daily: '*-*-* 00:00:00',
  weekly: 'Mon *-*-* 00:00:00',
  monthly: '*-*-01 00:00:00',
  yearly: '*-01-01 00:00:00',
  annually: '*-01-01 00:00:00',
  quarterly: '*-01,04,07,10-01 00:00:00',
  semiannually: '*-01,07-01 00:00:00',
};
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WEEKDAY_LONG = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

interface Component {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

/** One calendar event, its components expanded to the values they allow. */
export interface CalendarEvent {
  /** Weekdays it fires on, 0 = Monday to 6 = Sunday; all seven when it names none. */
  readonly weekdays: readonly number[];
  /** True when the date is absent or `*-*-*`: the event fires on every day its weekdays allow. */
  readonly everyDate: boolean;
  readonly hours: readonly number[];
  readonly minutes: readonly number[];
  /** Whole seconds (systemd's fractions dropped). */
  readonly seconds: readonly number[];
  /** The trailing time zone, when one is given. */
  readonly timeZone?: string;
  /** The date's components, when a date is given: years (undefined: any), months and days allowed. */
  readonly date?: CalendarDate;
}

/** The values a calendar date allows. */
export interface CalendarDate {
  /** Years allowed; undefined when the date names no year (`*-02-30`, `02-30`) or `*`. */
  readonly years?: readonly number[];
  readonly months: readonly number[];
  readonly days: readonly number[];
  /** `~`: the days count back from the month's end (`~01` is the last day). */
  readonly fromEnd: boolean;
}

export type CalendarParse = { readonly ok: true; readonly event: CalendarEvent } | { readonly ok: false; readonly reason: string };

class CalendarSyntaxError extends Error {}

function weekdayIndex(token: string): number {
  const t = token.toLowerCase();
  const short = WEEKDAYS.indexOf(t);
  return short >= 0 ? short : WEEKDAY_LONG.indexOf(t);
}

function isWeekday(token: string): boolean {
  return weekdayIndex(token) >= 0;
}

/** `Mon,Wed..Fri` → weekdays; a range may wrap around the week (`Fri..Mon`). */
function weekdayValues(token: string): number[] {
  const days = new Set<number>();
  for (const part of token.split(',')) {
    const ends = part.split('..');
    if (ends.length > 2 || !ends.every(isWeekday)) throw new CalendarSyntaxError(`"${token}" is not a weekday list (e.g. Mon..Fri or Sat,Sun)`);
    const from = weekdayIndex(ends[0]);
    const to = weekdayIndex(ends[ends.length - 1]);
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

function checkNumber(text: string, c: Component): number {
  if (!/^\d+$/.test(text)) throw new CalendarSyntaxError(`${c.name} "${text}" is not a number`);
  const n = Number(text);
  if (n < c.min || n > c.max) throw new CalendarSyntaxError(`${c.name} ${n} is outside ${c.min}-${c.max}`);
  return n;
}

/** `*`, `n`, `a..b`, `a/step`, `a..b/step`, `*`/step, comma lists → the values allowed, ascending. */
function componentValues(text: string, c: Component): number[] {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [base, stepText, extra] = part.split('/');
    if (extra !== undefined || base === '') throw new CalendarSyntaxError(`${c.name} "${text}" is not a calendar component`);
    if (stepText !== undefined && (!/^\d+$/.test(stepText) || Number(stepText) < 1))
      throw new CalendarSyntaxError(`${c.name} step "${stepText}" is not a positive number`);
    let from = c.min;
    let to = c.max;
    if (base !== '*') {
      const ends = base.split('..');
      if (ends.length > 2) throw new CalendarSyntaxError(`${c.name} "${base}" is not a range`);
      from = checkNumber(ends[0], c);
      // `a/step` repeats from a to the end of the range; a lone `a` is just a.
      to = ends.length === 2 ? checkNumber(ends[1], c) : stepText === undefined ? from : c.max;
      if (from > to) throw new CalendarSyntaxError(`${c.name} range "${base}" runs backwards`);
    }
    for (let n = from; n <= to; n += Number(stepText ?? 1)) values.add(n);
  }
  return [...values].sort((a, b) => a - b);
}

const YEAR: Component = { name: 'year', min: 1970, max: 2199 };
const MONTH: Component = { name: 'month', min: 1, max: 12 };
const DAY: Component = { name: 'day', min: 1, max: 31 };
const HOUR: Component = { name: 'hour', min: 0, max: 23 };
const MINUTE: Component = { name: 'minute', min: 0, max: 59 };
const SECOND: Component = { name: 'second', min: 0, max: 59 };

/** Parses a date; `everyDate` when it is `*-*-*` (or `*-*`). */
function parseDate(token: string): { readonly everyDate: boolean; readonly date: CalendarDate } {
  // `~` replaces the `-` before the day and counts the day from the month's end: `*-02~03`.
  const [front, fromEnd, extra] = token.split('~');
  const parts = fromEnd === undefined ? front.split('-') : [...front.split('-'), fromEnd];
  if (extra !== undefined || parts.length < 2 || parts.length > 3) throw new CalendarSyntaxError(`"${token}" is not a date (year-month-day)`);
  const [year, month, day] = parts.length === 3 ? parts : [undefined, ...parts];
  const date: CalendarDate = {
    years: year === undefined || year === '*' ? undefined : componentValues(year, YEAR),
    months: componentValues(month as string, MONTH),
    days: componentValues(day as string, DAY),
    fromEnd: fromEnd !== undefined,
  };
  return { everyDate: fromEnd === undefined && parts.every((part) => part === '*'), date };
}

function parseTime(token: string): Pick<CalendarEvent, 'hours' | 'minutes' | 'seconds'> {
  const parts = token.split(':');
  if (parts.length < 2 || parts.length > 3) throw new CalendarSyntaxError(`"${token}" is not a time (hour:minute[:second])`);
  return {
    hours: componentValues(parts[0], HOUR),
    minutes: componentValues(parts[1], MINUTE),
    // systemd accepts fractional seconds (`00:00:00.5`): the whole part is what fires.
    seconds: parts[2] === undefined ? [0] : componentValues(parts[2].replace(/\.\d+$/, ''), SECOND),
  };
}

function isTimeZone(token: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: token });
    return true;
  } catch {
    return false;
  }
}

/** Parses a systemd calendar event: `[weekdays] [date] [time] [time zone]` or a shorthand such as `daily`. */
export function parseOnCalendar(expression: string): CalendarParse {
  const trimmed = expression.trim();
  const tokens = (SHORTHANDS[trimmed.toLowerCase()] ?? trimmed).split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return { ok: false, reason: 'is empty' };
  try {
    let i = 0;
    let parts = 0;
    let weekdays = [0, 1, 2, 3, 4, 5, 6];
    let everyDate = true;
    let date: CalendarDate | undefined;
    // systemd's default time is midnight.
    let time: Pick<CalendarEvent, 'hours' | 'minutes' | 'seconds'> = { hours: [0], minutes: [0], seconds: [0] };
    if (/^[A-Za-z]/.test(tokens[i]) && (isWeekday(tokens[i].split(/,|\.\./)[0]) || !tokens[i].includes('-'))) {
      weekdays = weekdayValues(tokens[i++]);
      parts++;
    }
    if (i < tokens.length && tokens[i].includes('-') && !tokens[i].includes(':')) {
      ({ everyDate, date } = parseDate(tokens[i++]));
      parts++;
    }
    if (i < tokens.length && tokens[i].includes(':')) {
      time = parseTime(tokens[i++]);
      parts++;
    }
    let timeZone: string | undefined;
    if (i < tokens.length && i === tokens.length - 1 && parts > 0 && isTimeZone(tokens[i])) timeZone = tokens[i++];
    if (i < tokens.length) throw new CalendarSyntaxError(`"${tokens[i]}" is not a weekday, date (year-month-day), time (hour:minute) or time zone`);
    return { ok: true, event: { weekdays, everyDate, ...time, timeZone, date } };
  } catch (error) {
    if (error instanceof CalendarSyntaxError) return { ok: false, reason: error.message };
    throw error;
  }
}

/** The reason `expression` is not a systemd calendar event, or `undefined` when it is one. */
export function onCalendarProblem(expression: string): string | undefined {
  const parsed = parseOnCalendar(expression);
  return parsed.ok ? undefined : parsed.reason;
}

/**
 * The moments of a week a systemd OnCalendar expression fires at, in seconds from Monday 00:00,
 * ascending; undefined when it is not one, or does not repeat every week the same way: a date
 * other than `*-*-*`, or a time zone (whose daylight-saving shifts move runs). A backup schedule
 * repeats at least weekly (`*:0/15`, `Mon..Fri *-*-* 03:00:00`, `hourly`, `daily`).
 */
function weeklyRunSeconds(expression: string): number[] | undefined {
  const parsed = parseOnCalendar(expression);
  if (!parsed.ok || !parsed.event.everyDate || parsed.event.timeZone !== undefined) return undefined;
  const { weekdays, hours, minutes, seconds } = parsed.event;
  return weekdays.flatMap((day) => hours.flatMap((h) => minutes.flatMap((m) => seconds.map((s) => ((day * 24 + h) * 60 + m) * 60 + s))));
}

/** The longest time, in seconds, between two consecutive runs of an OnCalendar expression, over a week (see `weeklyRunSeconds`). */
export function onCalendarGapSeconds(expression: string): number | undefined {
  const runs = weeklyRunSeconds(expression);
  if (runs === undefined) return undefined;
  const week = 7 * 24 * 3600;
  let gap = runs[0] + week - (runs.at(-1) as number);
  for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i] - runs[i - 1]);
  return gap;
}

/** How many times an OnCalendar expression fires in a week (see `weeklyRunSeconds`): `*:0/15` 672, `hourly` 168, `daily` 7. */
export function onCalendarRunsPerWeek(expression: string): number | undefined {
  return weeklyRunSeconds(expression)?.length;
}

/** Days in `month` (1-12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Years in which weekdays, leap days and dates repeat: the Gregorian calendar's 400-year cycle. */
const GREGORIAN_CYCLE_YEARS = 400;

/**
 * Whether an expression ever fires from the start of `fromYear` on: some date must exist that its
 * year, month, day and weekdays all allow. `*-02-30`, `*-04-31`, `Mon 2030-01-01` (a Tuesday) and
 * a year gone by never do (systemd-analyze: "Never elapses"), and a timer that never fires is a
 * backup that never runs. Undefined when the expression does not parse.
 */
export function onCalendarCanFire(expression: string, fromYear: number = new Date().getUTCFullYear()): boolean | undefined {
  const parsed = parseOnCalendar(expression);
  if (!parsed.ok) return undefined;
  const { weekdays, date } = parsed.event;
  if (!date) return true; // every day, or every week on the weekdays it names
  const years = date.years?.filter((y) => y >= fromYear) ?? Array.from({ length: GREGORIAN_CYCLE_YEARS }, (_, i) => fromYear + i);
  for (const year of years) {
    for (const month of date.months) {
      const length = daysInMonth(year, month);
      for (const n of date.days) {
        if (n > length) continue;
        const day = date.fromEnd ? length - n + 1 : n;
        // getUTCDay: 0 = Sunday; weekdays here: 0 = Monday.
        if (weekdays.includes((new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7)) return true;
      }
    }
  }
  return false;
}

/**
 * The shortest time, in seconds, between two consecutive runs of an OnCalendar expression (how
 * often it can fire at its busiest); undefined when it does not parse. Weekly-repeating schedules
 * are measured over the week; others over a day, counting the step over midnight.
 */
export function onCalendarMinGapSeconds(expression: string): number | undefined {
  const parsed = parseOnCalendar(expression);
  if (!parsed.ok) return undefined;
  const weekly = weeklyRunSeconds(expression);
  const period = weekly ? 7 * 24 * 3600 : 24 * 3600;
  const { hours, minutes, seconds } = parsed.event;
  const runs = weekly ?? hours.flatMap((h) => minutes.flatMap((m) => seconds.map((s) => (h * 60 + m) * 60 + s)));
  let gap = runs[0] + period - (runs.at(-1) as number);
  for (let i = 1; i < runs.length; i++) gap = Math.min(gap, runs[i] - runs[i - 1]);
  return gap;
}
