import { spawnSync } from 'node:child_process';
import { budgetShortfalls } from '../../bin/budget-check';
import { ARGOCD_DIR } from '../../charts/gitops-application';
import { parseEventBridgeCron } from '../../lib/config/cron';
import { INSTANCE_TYPES } from '../../lib/config/instance-types';
import { onCalendarProblem } from '../../lib/config/on-calendar';
import { RESERVED_ENVIRONMENT_NAMES } from '../../lib/config/schema';
import { estimateMonthlyCost, totalUsd } from '../../lib/cost/estimate';
import { PRICES } from '../../lib/cost/prices';
import { readSynthOutput } from '../../scripts/review/synth-output';
import { problemsOf, shippedConfig, shippedConfigInput } from '../helpers/config-fixtures';
import { sharedSynthDir } from '../helpers/synth';

/*
 * The config a new user could write that used to be accepted (or crash synth): each is rejected
 * with one line naming its key path, the value and the rule. GIVEN the shipped config with one
 * edit, WHEN validated, THEN exactly that line.
 */

// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, broken on purpose
type Raw = Record<string, any>;

function brokenBy(edit: (raw: Raw) => void): readonly string[] {
  const raw = shippedConfigInput();
  edit(raw);
  return problemsOf(raw);
}

const CRON_EXAMPLE = 'is not a valid EventBridge Scheduler cron expression';
const ON_CALENDAR = 'is not a systemd OnCalendar expression (e.g. *-*-* 03:00:00 or daily)';

test.each<[string, (raw: Raw) => void, string]>([
  [
    'a cron minute out of range',
    (c) => (c.environments.dev.instance.schedule.start = 'cron(99 * * * ? *)'),
    `environments.dev.instance.schedule.start: "cron(99 * * * ? *)" ${CRON_EXAMPLE}: minutes 99 is outside 0-59`,
  ],
  [
    'a cron with both day fields set',
    (c) => (c.environments.dev.instance.schedule.start = 'cron(0 8 * * MON-FRI *)'),
    `environments.dev.instance.schedule.start: "cron(0 8 * * MON-FRI *)" ${CRON_EXAMPLE}: must have "?" in exactly one of day-of-month and day-of-week (e.g. cron(0 8 ? * MON-FRI *))`,
  ],
  [
    'a schedule that stops when it starts (written differently)',
    (c) => (c.environments.dev.instance.schedule.stop = 'cron(0 8 ? * 2-6 *)'),
    'environments.dev.instance.schedule.stop: "cron(0 8 ? * 2-6 *)" fires when start does (cron(0 8 ? * MON-FRI *)): the instance would stop as it starts',
  ],
  [
    'an OnCalendar time out of range',
    (c) => (c.environments.dev.backups.schedule = '*-*-* 25:99:00'),
    `environments.dev.backups.schedule: "*-*-* 25:99:00" ${ON_CALENDAR}: hour 25 is outside 0-23`,
  ],
  [
    'an OnCalendar in prose',
    (c) => (c.environments.dev.backups.schedule = 'every day at 3'),
    `environments.dev.backups.schedule: "every day at 3" ${ON_CALENDAR}: "every" is not a weekday list (e.g. Mon..Fri or Sat,Sun)`,
  ],
  [
    'two environments with one domain',
    (c) => {
      c.environments.prod.domain = 'dev.api.auraxis.com.br';
      delete c.environments.prod.hostedZone;
    },
    'environments.prod.domain: "dev.api.auraxis.com.br" is also environments.dev.domain; each environment needs its own',
  ],
  [
    'two environments with one ingress host',
    (c) => (c.environments.prod.kubernetes.host = 'DEV.api.auraxis.com.br'),
    'environments.prod.kubernetes.host: "DEV.api.auraxis.com.br" is also environments.dev.kubernetes.host; each environment needs its own',
  ],
  [
    'two environments with one namespace',
    (c) => (c.environments.prod.kubernetes.namespace = 'auraxis-dev'),
    'environments.prod.kubernetes.namespace: "auraxis-dev" is also environments.dev.kubernetes.namespace; each environment needs its own',
  ],
  [
    'egress to anywhere',
    (c) => (c.environments.prod.kubernetes.egress.redis.cidrs = ['10.20.16.0/20', '0.0.0.0/0']),
    'environments.prod.kubernetes.egress.redis.cidrs[1]: "0.0.0.0/0" allows every IPv4 destination: name the service\'s ranges, or set allowAnyDestination: true',
  ],
  [
    'an instance type no stack or price knows',
    (c) => (c.environments.prod.instance.type = 't4g.gigantic'),
    `environments.prod.instance.type: "t4g.gigantic" is not an instance type this project knows (one of ${Object.keys(INSTANCE_TYPES).join(', ')}; add others to lib/config/instance-types.ts with a price)`,
  ],
  ['the metrics port on the app port', (c) => (c.app.metricsPort = 3000), 'app.metricsPort: 3000 must differ from app.port (3000)'],
  [
    'an environment named argocd',
    (c) => {
      c.environments.argocd = c.environments.dev;
      delete c.environments.dev;
    },
    'environments.argocd: name "argocd" is reserved (argocd, all mean something else to the manifests and the ops CLI): rename the environment',
  ],
  [
    'an environment named all',
    (c) => {
      c.environments.all = c.environments.dev;
      delete c.environments.dev;
    },
    'environments.all: name "all" is reserved (argocd, all mean something else to the manifests and the ops CLI): rename the environment',
  ],
  [
    'a misspelt instance key (used to give prod t4g.small)',
    (c) => (c.environments.prod.instance = { tpye: 't4g.large', availabilityZone: 'us-east-1a' }),
    'environments.prod.instance.tpye: is not a known key (remove it or check its spelling)',
  ],
])('%s is rejected with one line', (_, edit, expected) => {
  expect(brokenBy(edit)).toEqual([expected]);
});

describe('explicit allowances and the negative controls', () => {
  test('0.0.0.0/0 egress is accepted with allowAnyDestination: true', () => {
    expect(
      brokenBy((c) => {
        c.environments.prod.kubernetes.egress.redis.cidrs = ['0.0.0.0/0'];
        c.environments.prod.kubernetes.egress.redis.allowAnyDestination = true;
      }),
    ).toEqual([]);
  });

  test('a different stop time, and the same start hour on other days, are accepted', () => {
    expect(brokenBy((c) => (c.environments.dev.instance.schedule.stop = 'cron(0 8 ? * SAT *)'))).toEqual([]);
  });

  test('the reserved names include the directory the Argo CD Applications are written to', () => {
    expect(RESERVED_ENVIRONMENT_NAMES).toContain(ARGOCD_DIR);
  });

  test('every known instance type has a price in the cost estimate, and every priced type is known', () => {
    expect(Object.keys(PRICES.ec2Hourly).sort()).toEqual(Object.keys(INSTANCE_TYPES).sort());
  });
});

describe('parseEventBridgeCron', () => {
  test('expands each field', () => {
    expect(parseEventBridgeCron('cron(0/15 8-10 ? JAN,dec MON-FRI 2027)')).toEqual({
      ok: true,
      fields: {
        minutes: [0, 15, 30, 45],
        hours: [8, 9, 10],
        daysOfMonth: undefined,
        months: [1, 12],
        daysOfWeek: [2, 3, 4, 5, 6],
        years: [2027],
        calendarDays: [],
      },
    });
    expect(parseEventBridgeCron('cron(30 3 L * ? *)')).toMatchObject({ ok: true, fields: { daysOfMonth: [], calendarDays: ['L'] } });
    expect(parseEventBridgeCron('cron(0 9 ? * 2#1 *)')).toMatchObject({ ok: true, fields: { daysOfWeek: [], calendarDays: ['2#1'] } });
  });

  test.each([
    ['cron(0 8 ? * MON-FRI)', 'has 5 fields; EventBridge cron needs 6 (minutes hours day-of-month month day-of-week year)'],
    ['cron(0 8 ? * ? *)', 'must have "?" in exactly one of day-of-month and day-of-week (e.g. cron(0 8 ? * MON-FRI *))'],
    ['cron(0 24 ? * * *)', 'hours 24 is outside 0-23'],
    ['cron(0 8 ? * FOO *)', 'day-of-week "FOO" is not a number or SUN-SAT'],
    ['cron(0 8 ? 13 * *)', 'month 13 is outside 1-12'],
    ['cron(0 8 ? * FRI-MON *)', 'day-of-week range "FRI-MON" runs backwards'],
    ['cron(0/0 8 ? * * *)', 'minutes step "0" is not a positive number'],
    ['cron(0 8 32W * ? *)', 'day-of-month 32 is outside 1-31'],
    ['cron(0 8 ? * 2#6 *)', 'day-of-week "2#6": the week number must be 1-5'],
    ['cron(0 8 ? * * 1969)', 'year 1969 is outside 1970-2199'],
  ])('%s: %s', (expression, reason) => {
    expect(parseEventBridgeCron(expression)).toEqual({ ok: false, reason });
  });
});

/** Expressions systemd accepts and rejects; where systemd-analyze exists, it is asked too, so the two cannot drift apart. */
const CALENDAR_GOOD = [
  'daily',
  'Weekly',
  '*-*-* 03:00:00',
  '*-*-* 03:00',
  'Mon..Fri *-*-* 02:30:00',
  'Sat,Sun 04:00',
  '2027-01-01',
  '*-*-01 00:00:00',
  '*-02~03 12:00',
  '*:0/15',
  'Mon *-*-* 03:00:00 UTC',
  '*-*-* 03:00:00.5',
];
const CALENDAR_BAD: [string, string][] = [
  ['*-*-* 25:99:00', 'hour 25 is outside 0-23'],
  ['every day at 3', '"every" is not a weekday list (e.g. Mon..Fri or Sat,Sun)'],
  ['*-*-* 03:60:00', 'minute 60 is outside 0-59'],
  ['*-13-01', 'month 13 is outside 1-12'],
  ['Funday 03:00', '"Funday" is not a weekday list (e.g. Mon..Fri or Sat,Sun)'],
  ['*-*-* 03:00:00 nowhere', '"nowhere" is not a weekday, date (year-month-day), time (hour:minute) or time zone'],
  ['*-*-* 3', '"3" is not a weekday, date (year-month-day), time (hour:minute) or time zone'],
  ['', 'is empty'],
];

describe('onCalendarProblem', () => {
  test.each(CALENDAR_GOOD)('accepts %s', (expression) => {
    expect(onCalendarProblem(expression)).toBeUndefined();
  });
  test.each(CALENDAR_BAD)('rejects %s: %s', (expression, reason) => {
    expect(onCalendarProblem(expression)).toBe(reason);
  });

  const systemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  const maybe = systemdAnalyze ? test : test.skip;
  maybe('agrees with systemd-analyze calendar on every example (skipped where systemd-analyze is absent)', () => {
    const accepted = (expression: string) => spawnSync('systemd-analyze', ['calendar', expression], { encoding: 'utf8' }).status === 0;
    expect(CALENDAR_GOOD.filter((e) => !accepted(e))).toEqual([]);
    expect(CALENDAR_BAD.map(([e]) => e).filter((e) => accepted(e))).toEqual([]);
  });
});

describe('budgetShortfalls (printed as a warning by npm run synth and cdk synth)', () => {
  // The estimate of what deploys: the shared synth output of the shipped config.
  const shipped = () => estimateMonthlyCost(readSynthOutput(sharedSynthDir, 'shipped'));
  const account = shippedConfig().environments.prod.account;

  test('the shipped budget is below the estimate of its account, and says so in one line', () => {
    // One account per environment: each account's budget is compared with its own environment.
    const estimate = shipped();
    const total = totalUsd([...estimate.lines.filter((l) => l.environment === 'prod' || l.key === `account ${account} free tier`)]);
    expect(budgetShortfalls(estimate).map((s) => s.message)).toEqual([
      `costGuardrails.monthlyBudgetUsd: ${shippedConfig().costGuardrails.monthlyBudgetUsd} is below the estimated USD ${total.toFixed(2)} a month of account ${account} (prod; see npm run review:cost): the budget would alert every month`,
    ]);
  });

  test('a budget at or above the estimate gives no warning', () => {
    const estimate = shipped();
    expect(budgetShortfalls({ ...estimate, budgets: new Map([[account, totalUsd(estimate.lines)]]) })).toEqual([]);
  });

  test('each account is compared with its own environments only', () => {
    const estimate = shipped();
    const prodOnly = { ...estimate, accounts: new Map([[account, ['prod']]]), budgets: new Map([[account, totalUsd(estimate.lines, 'prod')]]) };
    expect(budgetShortfalls(prodOnly)).toEqual([]);
  });
});
