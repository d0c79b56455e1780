import { weeklyRunningHours, weeklyTimes } from '../../lib/cost/schedule-hours';

/* Expressions are read by lib/config/cron.ts, the project's one cron model; these are the weekly shapes the estimate needs. */

const at = (day: number, hour: number, minute = 0) => day * 1440 + hour * 60 + minute;

describe('weeklyTimes', () => {
  test.each<[string, number[]]>([
    ['cron(0 8 ? * MON-FRI *)', [1, 2, 3, 4, 5].map((d) => at(d, 8))],
    ['cron(0 8 ? * 2-6 *)', [1, 2, 3, 4, 5].map((d) => at(d, 8))],
    ['cron(0 8 ? * 1,7 *)', [at(0, 8), at(6, 8)]],
    ['cron(30 9 * * ? *)', [0, 1, 2, 3, 4, 5, 6].map((d) => at(d, 9, 30))],
    ['cron(0/30 8 ? * MON *)', [at(1, 8), at(1, 8, 30)]],
    ['cron(0 8,20 ? * SUN *)', [at(0, 8), at(0, 20)]],
  ])('%s', (expression, minutes) => {
    expect(weeklyTimes(expression)).toEqual({ minutesOfWeek: minutes });
  });

  test.each([
    ['cron(0 8 1 * ? *)', 'a day of the month'],
    ['cron(0 8 ? JAN-JUN MON *)', 'some months'],
    ['cron(0 8 ? * MON 2027)', 'one year'],
    ['cron(0 8 ? * 2#1 *)', 'the first Monday'],
    ['cron(0 8 * * * *)', 'no "?" (AWS rejects it)'],
    ['cron(0 8 ? * MON-XYZ *)', 'an unknown day'],
    ['rate(1 hour)', 'not a cron'],
  ])('%s (%s) is not read', (expression) => {
    expect(weeklyTimes(expression)).toBeUndefined();
  });
});

describe('weeklyRunningHours', () => {
  test('08:00 to 20:00 MON-FRI: 60 h', () => {
    expect(weeklyRunningHours(['cron(0 8 ? * MON-FRI *)'], ['cron(0 20 ? * MON-FRI *)'])).toEqual({ hours: 60 });
  });
  test('numeric days of week 2-6 read as MON-FRI', () => {
    expect(weeklyRunningHours(['cron(0 8 ? * 2-6 *)'], ['cron(0 20 ? * 2-6 *)'])).toEqual({ hours: 60 });
  });
  test('every day of the month: every day, 09:30 to 18:00 = 59.5 h', () => {
    expect(weeklyRunningHours(['cron(30 9 * * ? *)'], ['cron(0 18 * * ? *)'])).toEqual({ hours: 59.5 });
  });
  test('a window across midnight with different days: 22:00 MON,WED,FRI to 06:00 TUE,THU,SAT = 24 h', () => {
    expect(weeklyRunningHours(['cron(0 22 ? * MON,WED,FRI *)'], ['cron(0 6 ? * TUE,THU,SAT *)'])).toEqual({ hours: 24 });
  });
  test('start = stop cannot be ordered: unreadable (priced as always on by the estimator)', () => {
    expect(weeklyRunningHours(['cron(0 8 ? * MON-FRI *)'], ['cron(0 8 ? * MON-FRI *)'])).toEqual({ unreadable: 'start and stop fire at the same moment' });
  });
  test('a second start in the window changes nothing: 08:00 (and 08:30) to 20:00 MON-FRI = 60 h', () => {
    expect(weeklyRunningHours(['cron(0/30 8 ? * MON-FRI *)'], ['cron(0 20 ? * MON-FRI *)'])).toEqual({ hours: 60 });
  });
  test('a day of the month is not a weekly window: unreadable', () => {
    expect(weeklyRunningHours(['cron(0 8 1 * ? *)'], ['cron(0 20 ? * MON-FRI *)'])).toEqual({
      unreadable: 'schedule "cron(0 8 1 * ? *)" does not fire at the same minutes every week',
    });
  });
  test('no stop: always on; a stop without a start: never on', () => {
    expect(weeklyRunningHours(['cron(0 8 ? * MON *)'], [])).toEqual({ hours: 168 });
    expect(weeklyRunningHours([], ['cron(0 8 ? * MON *)'])).toEqual({ hours: 0 });
  });
});
