/*
 * systemd calendar events (`OnCalendar=`, systemd.time(7)), checked before the timer unit reaches
 * the host: a bad expression there makes systemd refuse the timer and backups silently stop.
 * Pure: the schema uses it; tests compare it with `systemd-analyze calendar` where that exists.
 *
 * Grammar: a shorthand (`daily`, `hourly`, ...) or `[weekdays] [date] [time] [timezone]`, at least
 * one of weekdays, date and time, where
 *   weekdays  Mon,Wed or Mon..Fri (names or abbreviations)
 *   date      [year-]month-day, `~` for days from the month's end (`*-02~03`)
 *   time      hour:minute[:second]
 * and each date or time component is `*`, a number, `a..b`, `a/step` or a comma list of them.
 */

const SHORTHANDS = ['minutely', 'hourly', 'daily', 'monthly', 'weekly', 'yearly', 'annually', 'quarterly', 'semiannually'];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WEEKDAY_LONG = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

interface Component {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

class CalendarSyntaxError extends Error {}

function isWeekday(token: string): boolean {
  const t = token.toLowerCase();
  return WEEKDAYS.includes(t) || WEEKDAY_LONG.includes(t);
}

function checkWeekdays(token: string): void {
  for (const part of token.split(',')) {
    const ends = part.split('..');
    if (ends.length > 2 || !ends.every(isWeekday)) throw new CalendarSyntaxError(`"${token}" is not a weekday list (e.g. Mon..Fri or Sat,Sun)`);
  }
}

function checkNumber(text: string, c: Component): number {
  if (!/^\d+$/.test(text)) throw new CalendarSyntaxError(`${c.name} "${text}" is not a number`);
  const n = Number(text);
  if (n < c.min || n > c.max) throw new CalendarSyntaxError(`${c.name} ${n} is outside ${c.min}-${c.max}`);
  return n;
}

/** `*`, `n`, `a..b`, `a/step`, `a..b/step`, `*`/step, comma lists. */
function checkComponent(text: string, c: Component): void {
  for (const part of text.split(',')) {
    const [base, step, extra] = part.split('/');
    if (extra !== undefined || base === '') throw new CalendarSyntaxError(`${c.name} "${text}" is not a calendar component`);
    if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1)) throw new CalendarSyntaxError(`${c.name} step "${step}" is not a positive number`);
    if (base === '*') continue;
    const ends = base.split('..');
    if (ends.length > 2) throw new CalendarSyntaxError(`${c.name} "${base}" is not a range`);
    const [from, to] = ends.map((e) => checkNumber(e, c));
    if (to !== undefined && from > to) throw new CalendarSyntaxError(`${c.name} range "${base}" runs backwards`);
  }
}

const YEAR: Component = { name: 'year', min: 1970, max: 2199 };
const MONTH: Component = { name: 'month', min: 1, max: 12 };
const DAY: Component = { name: 'day', min: 1, max: 31 };
const HOUR: Component = { name: 'hour', min: 0, max: 23 };
const MINUTE: Component = { name: 'minute', min: 0, max: 59 };
const SECOND: Component = { name: 'second', min: 0, max: 59 };

function checkDate(token: string): void {
  // `~` replaces the `-` before the day and counts the day from the month's end: `*-02~03`.
  const [front, fromEnd, extra] = token.split('~');
  const parts = fromEnd === undefined ? front.split('-') : [...front.split('-'), fromEnd];
  if (extra !== undefined || parts.length < 2 || parts.length > 3) throw new CalendarSyntaxError(`"${token}" is not a date (year-month-day)`);
  const [year, month, day] = parts.length === 3 ? parts : [undefined, ...parts];
  if (year !== undefined) checkComponent(year, YEAR);
  checkComponent(month as string, MONTH);
  checkComponent(day as string, DAY);
}

function checkTime(token: string): void {
  const parts = token.split(':');
  if (parts.length < 2 || parts.length > 3) throw new CalendarSyntaxError(`"${token}" is not a time (hour:minute[:second])`);
  checkComponent(parts[0], HOUR);
  checkComponent(parts[1], MINUTE);
  // systemd accepts fractional seconds (`00:00:00.5`): drop the fraction, check the whole part.
  if (parts[2] !== undefined) checkComponent(parts[2].replace(/\.\d+$/, ''), SECOND);
}

function isTimeZone(token: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: token });
    return true;
  } catch {
    return false;
  }
}

/** The reason `expression` is not a systemd calendar event, or `undefined` when it is one. */
export function onCalendarProblem(expression: string): string | undefined {
  const tokens = expression.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return 'is empty';
  if (tokens.length === 1 && SHORTHANDS.includes(tokens[0].toLowerCase())) return undefined;
  try {
    let i = 0;
    let parts = 0;
    if (/^[A-Za-z]/.test(tokens[i]) && (isWeekday(tokens[i].split(/,|\.\./)[0]) || !tokens[i].includes('-'))) {
      checkWeekdays(tokens[i++]);
      parts++;
    }
    if (i < tokens.length && tokens[i].includes('-') && !tokens[i].includes(':')) {
      checkDate(tokens[i++]);
      parts++;
    }
    if (i < tokens.length && tokens[i].includes(':')) {
      checkTime(tokens[i++]);
      parts++;
    }
    if (i < tokens.length && i === tokens.length - 1 && parts > 0 && isTimeZone(tokens[i])) i++;
    if (i < tokens.length) throw new CalendarSyntaxError(`"${tokens[i]}" is not a weekday, date (year-month-day), time (hour:minute) or time zone`);
    return undefined;
  } catch (error) {
    if (error instanceof CalendarSyntaxError) return error.message;
    throw error;
  }
}
