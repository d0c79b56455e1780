import { daysOfWeek, weeklyRunningHours, weeklyTimes } from '../../scripts/review/schedule-hours';

describe('daysOfWeek', () => {
  test.each([
    ['MON-FRI', [1, 2, 3, 4, 5]],
    ['2-6', [1, 2, 3, 4, 5]],
    ['1,7', [0, 6]],
    ['FRI-MON', [0, 1, 5, 6]],
    ['*', [0, 1, 2, 3, 4, 5, 6]],
    ['?', [0, 1, 2, 3, 4, 5, 6]],
  ])('%s', (field, days) => {
    expect([...(daysOfWeek(field) ?? [])].sort()).toEqual(days);
  });
  test.each(['8', 'MON-XYZ', '1-2-3', 'L'])('%s is not read', (field) => {
    expect(daysOfWeek(field)).toBeUndefined();
  });
});

describe('weeklyRunningHours', () => {
  test('08:00 to 20:00 MON-FRI: 60 h', () => {
    expect(weeklyRunningHours(['cron(0 8 ? * MON-FRI *)'], ['cron(0 20 ? * MON-FRI *)'])).toEqual({ hours: 60 });
  });
  test('numeric days of week 2-6 read as MON-FRI', () => {
    expect(weeklyRunningHours(['cron(0 8 ? * 2-6 *)'], ['cron(0 20 ? * 2-6 *)'])).toEqual({ hours: 60 });
  });
  test('both day fields `*`: every day, 09:30 to 18:00 = 59.5 h', () => {
    expect(weeklyRunningHours(['cron(30 9 * * * *)'], ['cron(0 18 * * * *)'])).toEqual({ hours: 59.5 });
  });
  test('a window across midnight with different days: 22:00 MON,WED,FRI to 06:00 TUE,THU,SAT = 24 h', () => {
    expect(weeklyRunningHours(['cron(0 22 ? * MON,WED,FRI *)'], ['cron(0 6 ? * TUE,THU,SAT *)'])).toEqual({ hours: 24 });
  });
  test('start = stop cannot be ordered: unreadable (priced as always on by the estimator)', () => {
    expect(weeklyRunningHours(['cron(0 8 ? * MON-FRI *)'], ['cron(0 8 ? * MON-FRI *)'])).toEqual({ unreadable: 'start and stop fire at the same moment' });
  });
  test('a step or a day of the month is not a weekly window: unreadable', () => {
    expect(weeklyTimes('cron(0/30 8 ? * MON-FRI *)')).toBeUndefined();
    expect(weeklyTimes('cron(0 8 1 * ? *)')).toBeUndefined();
    expect(weeklyRunningHours(['cron(0/30 8 ? * MON-FRI *)'], ['cron(0 20 ? * MON-FRI *)'])).toEqual({ unreadable: 'schedule "cron(0/30 8 ? * MON-FRI *)" is not a weekly cron(M H * * DOW *)' });
  });
  test('no stop: always on; a stop without a start: never on', () => {
    expect(weeklyRunningHours(['cron(0 8 ? * MON *)'], [])).toEqual({ hours: 168 });
    expect(weeklyRunningHours([], ['cron(0 8 ? * MON *)'])).toEqual({ hours: 0 });
  });
});
