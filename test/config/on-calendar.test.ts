import { onCalendarGapSeconds, onCalendarProblem, onCalendarRunsPerWeek, parseOnCalendar } from '../../lib/config/on-calendar';

/*
 * One OnCalendar parser serves the schema's check (onCalendarProblem, compared with systemd-analyze
 * in hardening.test.ts) and the backup-age alarm's gap (onCalendarGapSeconds, also in
 * test/stacks/data-volume.test.ts): what one accepts, the other reads the same way.
 */

describe('parseOnCalendar', () => {
  test('expands weekdays, hours, minutes and seconds; midnight when no time is given', () => {
    expect(parseOnCalendar('Fri..Mon *-*-* 03,15:00/30')).toEqual({
      ok: true,
      event: {
        weekdays: [0, 4, 5, 6],
        everyDate: true,
        hours: [3, 15],
        minutes: [0, 30],
        seconds: [0],
        timeZone: undefined,
        date: { years: undefined, months: Array.from({ length: 12 }, (_, i) => i + 1), days: Array.from({ length: 31 }, (_, i) => i + 1), fromEnd: false },
      },
    });
    expect(parseOnCalendar('Sat')).toEqual({
      ok: true,
      event: { weekdays: [5], everyDate: true, hours: [0], minutes: [0], seconds: [0], timeZone: undefined, date: undefined },
    });
  });

  test.each([
    ['weekly', { weekdays: [0], everyDate: true }],
    ['Monthly', { everyDate: false }],
    ['quarterly', { everyDate: false }],
    ['2027-01-01', { everyDate: false }],
    ['*-02~03 12:00', { everyDate: false }],
  ])('%s: shorthands and dates', (expression, fields) => {
    const parsed = parseOnCalendar(expression);
    expect(parsed.ok && parsed.event).toEqual(expect.objectContaining(fields));
  });
});

describe('onCalendarGapSeconds reads what onCalendarProblem accepts', () => {
  test.each<[string, number | undefined]>([
    ['Fri..Mon 03:00', 4 * 86400],
    ['Mon,Wed,Fri 03:00', 3 * 86400],
    ['*-*-* 03:00:00.5', 86400],
    ['weekly', 7 * 86400],
    ['minutely', 60],
    ['Mon *-*-* 03:00:00 UTC', undefined],
    ['monthly', undefined],
    ['*-*-01 03:00', undefined],
  ])('%j: longest gap %s s', (expression, gap) => {
    expect(onCalendarProblem(expression)).toBeUndefined();
    expect(onCalendarGapSeconds(expression)).toBe(gap);
  });

  test.each(['every day', '*:61', '*-*-* 03:00:00:00', 'Mon..Funday 03:00'])('%j is refused by both', (expression) => {
    expect(onCalendarProblem(expression)).toBeDefined();
    expect(onCalendarGapSeconds(expression)).toBeUndefined();
  });
});

describe('onCalendarRunsPerWeek counts the runs the cost estimate prices (one backup each)', () => {
  test.each<[string, number | undefined]>([
    ['*:0/15', 7 * 24 * 4],
    ['hourly', 7 * 24],
    ['daily', 7],
    ['Mon..Fri *-*-* 03:00:00', 5],
    ['Mon,Wed 08,20:00', 4],
    ['*-*-* 00/6:30', 7 * 4],
    ['Mon *-*-* 03:00:00 UTC', undefined],
    ['monthly', undefined],
    ['not a calendar', undefined],
  ])('%j: %s runs a week', (expression, runs) => {
    expect(onCalendarRunsPerWeek(expression)).toBe(runs);
  });
});
