/*
 * EventBridge (Scheduler and Rules) cron expressions, parsed into the values each field allows.
 * Pure: no clock, no I/O. The config schema uses it to reject what AWS would reject at deploy
 * time (and what AWS accepts but cannot mean what was written); the cost estimate uses the
 * expanded fields to count running hours.
 *
 * Grammar (AWS "Cron expressions reference"): `cron(minutes hours day-of-month month day-of-week year)`
 *   minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT
 *   (1 = SUN), year 1970-2199; each field `*`, a value, `a-b`, a list `a,b`, or a step `a/n`, `*`/n.
 *   Exactly one of day-of-month and day-of-week is `?`. Day-of-month also takes `L` and `<d>W`;
 *   day-of-week takes `<d>L` (last such weekday of the month) and `<d>#<n>` (n-th such weekday).
 *
 * aws-cron-parser (npm) was tried first: it accepts `cron(0 8 * * MON-FRI *)` and turns an unknown
 * day name into `null`, the two mistakes this module exists to catch.
 */

import { daysInMonth } from './on-calendar';

/** The values one expression allows, field by field, each sorted ascending. */
export interface CronFields {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** Days of the month; `undefined` when the field is `?` (days then come from `daysOfWeek`). */
  readonly daysOfMonth?: readonly number[];
  readonly months: readonly number[];
  /** Days of the week, 1 = Sunday to 7 = Saturday; `undefined` when the field is `?`. */
  readonly daysOfWeek?: readonly number[];
  readonly years: readonly number[];
  /**
   * Day tokens that depend on the calendar month (`L`, `15W`, `6L`, `2#1`), kept verbatim; days
   * they select are not in `daysOfMonth` / `daysOfWeek`.
   */
  readonly calendarDays: readonly string[];
}

export type CronParse = { readonly ok: true; readonly fields: CronFields } | { readonly ok: false; readonly reason: string };

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MINUTES: FieldSpec = { name: 'minutes', min: 0, max: 59 };
const HOURS: FieldSpec = { name: 'hours', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] };
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 1, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] };
const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2199 };

class CronSyntaxError extends Error {}

function value(token: string, spec: FieldSpec): number {
  const index = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (index >= 0) return spec.min + index;
  if (!/^\d+$/.test(token)) {
    const names = spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : '';
    throw new CronSyntaxError(`${spec.name} "${token}" is not a number${names}`);
  }
  const n = Number(token);
  if (n < spec.min || n > spec.max) throw new CronSyntaxError(`${spec.name} ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n += step) out.push(n);
  return out;
}

/** `*`, `a`, `a-b`, `a/n`, `a-b/n`, `*`/n and comma lists of them. */
function expand(field: string, spec: FieldSpec): number[] {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const [base, stepText, extra] = part.split('/');
    if (extra !== undefined || base === '') throw new CronSyntaxError(`${spec.name} "${field}" is not a cron field`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new CronSyntaxError(`${spec.name} step "${stepText}" is not a positive number`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (base === '*') {
      from = spec.min;
      to = spec.max;
    } else if (base.includes('-')) {
      const [a, b, more] = base.split('-');
      if (more !== undefined) throw new CronSyntaxError(`${spec.name} "${base}" is not a range`);
      from = value(a, spec);
      to = value(b, spec);
      if (from > to) throw new CronSyntaxError(`${spec.name} range "${base}" runs backwards`);
    } else {
      from = value(base, spec);
      to = stepText === undefined ? from : spec.max;
    }
    for (const n of range(from, to, step)) values.add(n);
  }
  return [...values].sort((a, b) => a - b);
}

/** Splits `L`, `<d>W`, `<d>L`, `<d>#<n>` tokens from the plain values of a day field. */
function dayField(field: string, spec: FieldSpec, calendarDays: string[]): number[] {
  const plain: string[] = [];
  for (const part of field.split(',')) {
    const upper = part.toUpperCase();
    if (spec === DAY_OF_MONTH && (upper === 'L' || upper === 'LW')) calendarDays.push(upper);
    else if (spec === DAY_OF_MONTH && /^\d+W$/.test(upper)) {
      value(upper.slice(0, -1), spec);
      calendarDays.push(upper);
    } else if (spec === DAY_OF_WEEK && /^[A-Z0-9]+L$/.test(upper) && upper !== 'L') {
      value(upper.slice(0, -1), spec);
      calendarDays.push(upper);
    } else if (spec === DAY_OF_WEEK && /^[A-Z0-9]+#\d+$/.test(upper)) {
      const [day, nth] = upper.split('#');
      value(day, spec);
      if (Number(nth) < 1 || Number(nth) > 5) throw new CronSyntaxError(`day-of-week "${part}": the week number must be 1-5`);
      calendarDays.push(upper);
    } else plain.push(part);
  }
  return plain.length > 0 ? expand(plain.join(','), spec) : [];
}

/**
 * Parses `cron(...)` (or the six fields alone). Returns the expanded fields, or the reason the
 * expression is not one EventBridge runs as written.
 */
export function parseEventBridgeCron(expression: string): CronParse {
  const match = /^cron\((.*)\)$/.exec(expression.trim());
  const body = (match ? match[1] : expression).trim();
  const parts = body.split(/\s+/);
  if (parts.length !== 6)
    return { ok: false, reason: `has ${parts.length} fields; EventBridge cron needs 6 (minutes hours day-of-month month day-of-week year)` };
  const [min, hour, dom, month, dow, year] = parts;
  if ((dom === '?') === (dow === '?')) {
    return { ok: false, reason: 'must have "?" in exactly one of day-of-month and day-of-week (e.g. cron(0 8 ? * MON-FRI *))' };
  }
  try {
    const calendarDays: string[] = [];
    const fields: CronFields = {
      minutes: expand(min, MINUTES),
      hours: expand(hour, HOURS),
      daysOfMonth: dom === '?' ? undefined : dayField(dom, DAY_OF_MONTH, calendarDays),
      months: expand(month, MONTH),
      daysOfWeek: dow === '?' ? undefined : dayField(dow, DAY_OF_WEEK, calendarDays),
      years: expand(year, YEAR),
      calendarDays,
    };
    return { ok: true, fields };
  } catch (error) {
    if (error instanceof CronSyntaxError) return { ok: false, reason: error.message };
    throw error;
  }
}

/**
 * True when two parsed expressions fire at exactly the same minutes: a schedule whose start and
 * stop coincide would stop the instance the moment it starts.
 */
export function sameSchedule(a: CronFields, b: CronFields): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Whether a parsed expression ever fires from the start of `fromYear` on: a year still to come, and,
 * when it names days of the month, a month that has one of them (`cron(0 8 30 2 ? *)` and
 * `cron(0 8 31 4,6,9,11 ? *)` never do; AWS accepts them and the schedule silently never runs).
 * Day-of-week expressions and `L`, `W`, `#` days exist in every month with enough weeks.
 */
export function cronCanFire(fields: CronFields, fromYear: number = new Date().getUTCFullYear()): boolean {
  const years = fields.years.filter((y) => y >= fromYear);
  if (years.length === 0) return false;
  if (fields.daysOfMonth === undefined || fields.calendarDays.length > 0) return true;
  const days = fields.daysOfMonth;
  return years.some((year) => fields.months.some((month) => days.some((day) => day <= daysInMonth(year, month))));
}
