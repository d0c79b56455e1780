import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackNames } from '../../lib/names';
import { ASSUMPTIONS, estimateMonthlyCost, formatMarkdown, PRICES, runningHoursPerMonth, totalUsd } from '../../scripts/review/cost-estimate';
import { environmentsOf } from '../../lib/config';
import { configWith } from '../helpers/config-fixtures';
import { projectRoot } from '../helpers/paths';
import { shippedConfig, shippedTemplate } from '../helpers/synth';

const line = (lines: ReturnType<typeof estimateMonthlyCost>, env: string, prefix: string) => {
  const found = lines.filter((l) => l.environment === env && l.item.startsWith(prefix));
  expect(found).toHaveLength(1);
  return found[0];
};

describe('estimateMonthlyCost (shipped config)', () => {
  const lines = estimateMonthlyCost(shippedConfig());

  test('dev runs 12 h on 5 days a week: 60 h × 730/168 = 260.7 h a month; prod runs 730 h', () => {
    const [dev, prod] = environmentsOf(shippedConfig());
    expect(runningHoursPerMonth(dev)).toBeCloseTo((60 * 730) / 168, 6);
    expect(runningHoursPerMonth(prod)).toBe(730);
  });

  test('per-resource lines match the hand computation', () => {
    expect(line(lines, 'dev', 'EC2').usd).toBe(2.19); // 260.714 h × 0.0084 (t4g.micro)
    expect(line(lines, 'prod', 'EC2').usd).toBe(12.26); // 730 h × 0.0168
    expect(line(lines, 'prod', 'EBS').usd).toBe(1.6); // 20 GiB × 0.08
    expect(line(lines, 'dev', 'Public IPv4').usd).toBe(3.65); // 730 h × 0.005, stopped or not
    expect(line(lines, 'dev', 'Route53 health check').usd).toBe(0.5); // HTTP: basic only
    expect(line(lines, 'prod', 'Route53 health check').usd).toBe(1.5); // basic + HTTPS option
    expect(line(lines, 'prod', 'CloudWatch alarms').usd).toBe(0.5); // health + 4 host alarms
    expect(line(lines, 'prod', 'CloudWatch agent custom metrics').usd).toBe(0.3);
    // The always-free CloudWatch tier covers the 10 alarms, 2 custom metrics and 0.68 GB of logs.
    expect(line(lines, 'account', 'CloudWatch always-free tier').usd).toBe(-1.94); // 10 × 0.1 + 2 × 0.3 + 0.68 × 0.5
  });

  test('totals: dev 8.84, prod 20.15, together 27.05 — under the USD 28 target (see docs/cost.md)', () => {
    expect(totalUsd(lines, 'dev')).toBe(8.84);
    expect(totalUsd(lines, 'prod')).toBe(20.15);
    expect(totalUsd(lines)).toBe(27.05);
    expect(totalUsd(lines)).toBeLessThan(28);
  });

  test('the alarm count it prices is the count the synthesized stacks create', () => {
    for (const env of ['dev', 'prod']) {
      const host = Object.keys(shippedTemplate(stackNames.host('auraxis', env)).findResources('AWS::CloudWatch::Alarm')).length;
      const health = Object.keys(shippedTemplate(stackNames.health('auraxis', env)).findResources('AWS::CloudWatch::Alarm')).length;
      expect([env, host, health]).toEqual([env, ASSUMPTIONS.hostAlarmsPerEnvironment, 1]);
    }
  });

  test("docs/cost.md carries this function's table and totals", () => {
    const doc = readFileSync(join(projectRoot, 'docs/cost.md'), 'utf8');
    expect(doc).toContain(formatMarkdown(lines));
    expect(doc).toContain(`prices of ${PRICES.pricesRecorded}`);
  });
});

describe('estimateMonthlyCost (variants)', () => {
  test("switching dev's schedule to 09:00-18:00 MON-FRI changes only dev's EC2 and log lines: 45 h/week × 730/168 × 0.0084", () => {
    const before = estimateMonthlyCost(shippedConfig());
    const after = estimateMonthlyCost(
      configWith((c) => {
        c.environments.dev.instance.schedule.start = 'cron(0 9 ? * MON-FRI *)';
        c.environments.dev.instance.schedule.stop = 'cron(0 18 ? * MON-FRI *)';
      }),
    );
    expect(line(after, 'dev', 'EC2').usd).toBe(1.64); // 195.536 h × 0.0084 = 1.6425
    expect(line(after, 'dev', 'EC2').basis).toBe('195.5 h × $0.0084');
    const changed = after.filter((l, i) => l.usd !== before[i].usd).map((l) => `${l.environment} ${l.item}`);
    // Fewer running hours ship fewer logs, which also uses less of the free tier.
    expect(changed).toEqual(['dev EC2 t4g.micro (scheduled)', 'dev CloudWatch Logs (7 d retention)', 'account CloudWatch always-free tier (account 765480282720)']);
  });

  test('a window that crosses midnight and day lists are read (22:00 to 06:00, MON,WED,FRI = 24 h/week)', () => {
    const config = configWith((c) => {
      c.environments.dev.instance.schedule = { timezone: 'UTC', start: 'cron(0 22 ? * MON,WED,FRI *)', stop: 'cron(0 6 ? * TUE,THU,SAT *)' };
    });
    expect(runningHoursPerMonth(environmentsOf(config)[0])).toBeCloseTo((24 * 730) / 168, 6);
  });

  test('a schedule it cannot read is priced as always on', () => {
    const config = configWith((c) => {
      c.environments.dev.instance.schedule.start = 'cron(0/30 8 ? * MON-FRI *)';
    });
    expect(runningHoursPerMonth(environmentsOf(config)[0])).toBe(730);
  });

  test('no schedule: dev EC2 is priced for 730 h', () => {
    const lines = estimateMonthlyCost(configWith((c) => delete c.environments.dev.instance.schedule));
    expect(line(lines, 'dev', 'EC2').usd).toBe(6.13); // 730 h × 0.0084
  });

  test('dev on t4g.small doubles its EC2 line and takes the pair over USD 28', () => {
    const lines = estimateMonthlyCost(configWith((c) => (c.environments.dev.instance.type = 't4g.small')));
    expect(line(lines, 'dev', 'EC2').usd).toBe(4.38);
    expect(totalUsd(lines)).toBe(29.24);
  });

  test('environments beyond the free tier pay for their alarms: 4 environments use 10 of 20 alarms free', () => {
    const lines = estimateMonthlyCost(
      configWith((c) => {
        for (const env of ['qa', 'staging']) {
          // Each environment has its own domain, ingress host and namespace (the schema requires it).
          c.environments[env] = structuredClone(c.environments.dev);
          c.environments[env].domain = `${env}.api.auraxis.com.br`;
          c.environments[env].kubernetes.host = `${env}.api.auraxis.com.br`;
          c.environments[env].kubernetes.namespace = `auraxis-${env}`;
        }
      }),
    );
    expect(line(lines, 'account', 'CloudWatch always-free tier').basis).toMatch(/^10 alarms, 4 custom metrics/);
  });

  test('prod with an HTTP health check drops the USD 1 HTTPS option', () => {
    const lines = estimateMonthlyCost(configWith((c) => (c.environments.prod.healthCheck = { protocol: 'HTTP' })));
    expect(line(lines, 'prod', 'Route53 health check').usd).toBe(0.5);
  });

  test('the host alarm count is an option (the CLI can pass the count from the synthesized host stack)', () => {
    const lines = estimateMonthlyCost(shippedConfig(), { hostAlarmsPerEnvironment: 5 });
    expect(line(lines, 'prod', 'CloudWatch alarms').usd).toBe(0.6);
  });

  test('an instance type without a price is named, not priced as zero', () => {
    // The schema admits only priced types (lib/config/instance-types.ts); this is the estimate's own guard behind it.
    const config = structuredClone(shippedConfig()); // the shared copy stays as shipped
    (config.environments.prod.instance as { type: string }).type = 'm7g.xlarge';
    expect(() => estimateMonthlyCost(config)).toThrow(
      'environments.prod.instance.type "m7g.xlarge" has no price in scripts/review/cost-estimate.ts PRICES.ec2Hourly; add it',
    );
  });
});
