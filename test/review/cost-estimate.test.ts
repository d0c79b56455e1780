import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cents, estimateMonthlyCost, formatMarkdown, PRICES_HEADING, totalUsd } from '../../lib/cost/estimate';
import { ASSUMPTIONS, PRICES, SPOT_PRICES } from '../../lib/cost/prices';
import { readSynthOutput } from '../../scripts/review/synth-output';
import { shippedConfig } from '../helpers/config-fixtures';
import { projectRoot } from '../helpers/paths';
import { sharedSynthDir } from '../helpers/synth';
import { scenario } from './scenario';

/*
 * Every expectation is computed from the price table (lib/cost/prices.ts) and the shipped
 * config, never copied from the estimator's output.
 */
const shipped = () => estimateMonthlyCost(readSynthOutput(sharedSynthDir, 'shipped'));
const lineOf = (estimate: ReturnType<typeof estimateMonthlyCost>, env: string, prefix: string) => {
  const found = estimate.lines.filter((l) => l.environment === env && l.item.startsWith(prefix));
  expect(found.map((l) => l.item)).toHaveLength(1);
  return found[0];
};
const config = shippedConfig();
const devHours = (12 * 5 * ASSUMPTIONS.hoursPerMonth) / 168; // 08:00-20:00 MON-FRI
const H = ASSUMPTIONS.hoursPerMonth;

describe('estimateMonthlyCost of the shipped synth output, line by line', () => {
  const estimate = shipped();

  test("EC2: dev's t4g.micro on Spot for its scheduled hours (dated Spot price), prod's t4g.small on-demand all month", () => {
    expect(config.environments.dev.instance).toMatchObject({ type: 't4g.micro', purchase: 'spot' });
    expect(config.environments.prod.instance.purchase).toBe('on-demand');
    const spot = SPOT_PRICES.hourly['us-east-1']['t4g.micro'];
    expect(lineOf(estimate, 'dev', 'EC2')).toMatchObject({
      item: 'EC2 t4g.micro Spot (scheduled)',
      basis: `${devHours.toFixed(1)} h × $${spot} (Spot us-east-1, ${SPOT_PRICES.recorded})`,
      usd: cents(devHours * spot),
    });
    expect(lineOf(estimate, 'prod', 'EC2')).toMatchObject({ item: 'EC2 t4g.small on-demand', usd: cents(H * PRICES.ec2Hourly['t4g.small']) });
  });

  test('EBS: the root volume from the launch template, at the gp3 price, only while an instance runs (deleted with it)', () => {
    expect(lineOf(estimate, 'prod', 'EBS gp3 root volume').usd).toBe(cents(8 * PRICES.ebsGbMonth.gp3));
    expect(lineOf(estimate, 'dev', 'EBS gp3 root volume')).toMatchObject({
      item: 'EBS gp3 root volume, deleted with its instance',
      usd: cents((8 * PRICES.ebsGbMonth.gp3 * devHours) / H),
    });
  });

  test('public IPv4: prod’s Elastic IP every hour of the month; dev’s auto-assigned address only while it runs', () => {
    expect(lineOf(estimate, 'prod', 'Public IPv4')).toMatchObject({
      item: 'Public IPv4 (Elastic IP, billed running or stopped)',
      usd: cents(H * PRICES.publicIpv4Hourly),
    });
    expect(lineOf(estimate, 'dev', 'Public IPv4')).toMatchObject({
      item: 'Public IPv4 (auto-assigned, billed while running)',
      usd: cents(devHours * PRICES.publicIpv4Hourly),
    });
  });

  test('goals: the shipped config at most USD 25 a month', () => {
    expect(totalUsd(estimate.lines)).toBeLessThanOrEqual(25);
  });

  test('health checks: basic for HTTP (dev), basic + HTTPS option for prod', () => {
    expect(lineOf(estimate, 'dev', 'Route53 health check').usd).toBe(PRICES.healthCheckAwsEndpoint);
    expect(lineOf(estimate, 'prod', 'Route53 health check').usd).toBe(cents(PRICES.healthCheckAwsEndpoint + PRICES.healthCheckOptionalFeature));
  });

  test('alarms: the host (3: the group replaces an impaired instance, no recovery alarm), health (1) and backup-age (1) alarms; the agent disk metric and the backup age are the custom metrics', () => {
    expect(lineOf(estimate, 'prod', 'CloudWatch alarms').usd).toBe(cents(5 * PRICES.alarmMonth));
    expect(lineOf(estimate, 'prod', 'CloudWatch custom metrics').usd).toBe(cents(2 * PRICES.customMetricMonth));
  });

  test("logs: ingestion pro rata of the host's hours, storage for the log groups' retention", () => {
    const devIn = (ASSUMPTIONS.logGbPerFullMonth * devHours) / H;
    const devDays = config.environments.dev.logs.retentionDays;
    expect(lineOf(estimate, 'dev', 'CloudWatch Logs').usd).toBe(cents(devIn * PRICES.logsIngestGb + ((devIn * devDays) / 30) * PRICES.logsStoredGbMonth));
    const prodDays = config.environments.prod.logs.retentionDays;
    expect(lineOf(estimate, 'prod', 'CloudWatch Logs').item).toBe(`CloudWatch Logs (${prodDays} d retention)`);
  });

  test("backups: every run of the deployed backup timer kept the bucket's expiration, Standard-IA after the transition, and their uploads", () => {
    // prod backs up every 15 minutes all month; dev hourly, only while it runs.
    const { schedule, retentionDays, transitionToInfrequentAccessDays } = config.environments.prod.backups;
    expect(schedule).toBe('*:0/15');
    const prodPerDay = 24 * 4;
    const ia = transitionToInfrequentAccessDays as number;
    const prodUploads = (prodPerDay * H) / 24;
    const prodExpected =
      prodPerDay * ASSUMPTIONS.backupGb * (ia * PRICES.s3GbMonth.STANDARD + (retentionDays - ia) * PRICES.s3GbMonth.STANDARD_IA) +
      (prodUploads * (PRICES.s3PutPer1000 + PRICES.s3TransitionIaPer1000)) / 1000;
    expect(lineOf(estimate, 'prod', 'S3 backups')).toMatchObject({ item: 'S3 backups (96.0 a day, kept 90 d)', usd: cents(prodExpected) });
    expect(lineOf(estimate, 'prod', 'S3 backups').basis).toMatch(/^OnCalendar \*:0\/15: /);

    expect(config.environments.dev.backups.schedule).toBe('hourly');
    const devPerDay = 24 * (devHours / H);
    const devExpected =
      devPerDay * ASSUMPTIONS.backupGb * config.environments.dev.backups.retentionDays * PRICES.s3GbMonth.STANDARD +
      (((devPerDay * H) / 24) * PRICES.s3PutPer1000) / 1000;
    expect(lineOf(estimate, 'dev', 'S3 backups').usd).toBe(cents(devExpected));
    expect(lineOf(estimate, 'dev', 'S3 backups').basis).toMatch(/^OnCalendar hourly, 36 % of the time running: /);
  });

  test('the always-free CloudWatch tier of each account (dev and prod have their own): its 5 alarms (3 host alarms by group, health, backup age), 2 custom metrics and its logs', () => {
    const tier = (env: 'dev' | 'prod') => estimate.lines.find((l) => l.item === `CloudWatch always-free tier (account ${config.environments[env].account})`);
    const free = (hours: number) => PRICES.alarmMonth * 5 + PRICES.customMetricMonth * 2 + PRICES.logsIngestGb * ASSUMPTIONS.logGbPerFullMonth * (hours / H);
    expect(tier('dev')?.usd).toBe(-cents(free(devHours)));
    expect(tier('prod')?.usd).toBe(-cents(free(H)));
    expect(estimate.lines.filter((l) => l.environment === 'account')).toHaveLength(2);
  });

  test('every resource of the shipped output is priced or known to be free: nothing is "not estimated"', () => {
    expect(estimate.notEstimated).toEqual([]);
  });

  test("the budget is the account stack's AWS::Budgets::Budget, which is the config's costGuardrails.monthlyBudgetUsd", () => {
    // One budget per account stack: dev's account and prod's.
    expect([...estimate.budgets.values()]).toEqual([config.costGuardrails.monthlyBudgetUsd, config.costGuardrails.monthlyBudgetUsd]);
  });

  test("docs/cost.md carries this estimate's table and the date of its prices", () => {
    const doc = readFileSync(join(projectRoot, 'docs/cost.md'), 'utf8');
    expect(doc).toContain(formatMarkdown(estimate));
    expect(doc).toContain(PRICES_HEADING);
  });
});

describe('estimateMonthlyCost on changed templates', () => {
  test('an unknown resource type is listed as not estimated and adds nothing to the totals', () => {
    const s = scenario();
    s.template('auraxis-prod-data', (t) => {
      t.Resources.Database = { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceClass: 'db.t4g.micro' } };
    });
    const estimate = estimateMonthlyCost(readSynthOutput(s.dir, 'head'));
    expect(estimate.notEstimated).toEqual([
      { environment: 'prod', subject: 'auraxis-prod-data Database (AWS::RDS::DBInstance)', reason: 'no price in lib/cost/prices.ts' },
    ]);
    expect(totalUsd(estimate.lines)).toBe(totalUsd(shipped().lines));
    expect(formatMarkdown(estimate)).toContain('**Not estimated** (1; not counted in the totals):\n- prod: auraxis-prod-data Database (AWS::RDS::DBInstance)');
  });

  test('an instance type without a price is not estimated, never zero', () => {
    const s = scenario();
    const id = s.logicalId('auraxis-prod-host', 'AWS::EC2::LaunchTemplate');
    s.template('auraxis-prod-host', (t) => {
      t.Resources[id].Properties.LaunchTemplateData.InstanceType = 'm7g.xlarge';
    });
    const estimate = estimateMonthlyCost(readSynthOutput(s.dir, 'head'));
    expect(estimate.lines.filter((l) => l.environment === 'prod' && l.item.startsWith('EC2'))).toEqual([]);
    expect(estimate.notEstimated.map((n) => n.reason)).toEqual(['instance type m7g.xlarge has no price in lib/cost/prices.ts']);
  });

  test("dev's schedule in numeric days (2-6 = MON-FRI) prices the same hours as MON-FRI", () => {
    const s = scenario();
    s.template('auraxis-dev-host', (t) => {
      for (const r of Object.values(t.Resources)) {
        if (r.Type === 'AWS::Scheduler::Schedule') r.Properties.ScheduleExpression = r.Properties.ScheduleExpression.replace('MON-FRI', '2-6');
      }
    });
    expect(lineOf(estimateMonthlyCost(readSynthOutput(s.dir, 'head')), 'dev', 'EC2').usd).toBe(cents(devHours * SPOT_PRICES.hourly['us-east-1']['t4g.micro']));
  });

  test("the backup line follows the backup document's schedule; without one it says so and prices one a day", () => {
    const s = scenario();
    s.template('auraxis-prod-host', (t) => {
      for (const doc of Object.values(t.Resources).filter((r) => r.Type === 'AWS::SSM::Document')) {
        const inputs = doc.Properties.Content.mainSteps[0].inputs;
        inputs.runCommand = inputs.runCommand.map((l: unknown) => (l === 'BACKUP_SCHEDULE=*:0/15' ? 'BACKUP_SCHEDULE=daily' : l));
      }
    });
    const daily = lineOf(estimateMonthlyCost(readSynthOutput(s.dir, 'head')), 'prod', 'S3 backups');
    expect(daily.item).toBe('S3 backups (1.0 a day, kept 90 d)');
    expect(daily.usd).toBeLessThan(lineOf(shipped(), 'prod', 'S3 backups').usd);

    const none = scenario();
    none.template('auraxis-prod-host', (t) => {
      for (const [id, r] of Object.entries(t.Resources)) if (r.Type === 'AWS::SSM::Document') delete t.Resources[id];
    });
    const unknown = lineOf(estimateMonthlyCost(readSynthOutput(none.dir, 'head')), 'prod', 'S3 backups');
    expect(unknown.item).toBe('S3 backups (1.0 a day, kept 90 d)');
    expect(unknown.basis).toMatch(/^no backup document found: priced as 1 a day: /);
  });

  test('a data volume is priced from its size and type', () => {
    const s = scenario();
    s.template('auraxis-prod-data', (t) => {
      t.Resources.ExtraVolume = { Type: 'AWS::EC2::Volume', Properties: { Size: 30, VolumeType: 'gp3', AvailabilityZone: 'us-east-1a' } };
    });
    expect(lineOf(estimateMonthlyCost(readSynthOutput(s.dir, 'head')), 'prod', 'EBS gp3 volume ExtraVolume').usd).toBe(cents(30 * PRICES.ebsGbMonth.gp3));
  });

  test("the data volume's snapshots are priced by what changes: the used blocks once, then each kept snapshot's changed blocks", () => {
    const { snapshots } = config.environments.prod.dataVolume;
    const days = snapshots.intervalHours / 24;
    const stored = ASSUMPTIONS.snapshotUsedGb + (snapshots.retain - 1) * days * ASSUMPTIONS.snapshotChangedGbPerDay;
    expect(lineOf(shipped(), 'prod', 'EBS snapshots')).toMatchObject({
      item: `EBS snapshots (DLM, ${snapshots.retain} kept every ${snapshots.intervalHours} h: what changes)`,
      usd: cents(stored * PRICES.ebsSnapshotGbMonth),
    });
  });

  test('prod on Spot (the one edit docs/cost.md shows): at most USD 17 a month in all, priced at the configured type with the dearest alternative named', () => {
    const s = scenario();
    const asg = s.logicalId('auraxis-prod-host', 'AWS::AutoScaling::AutoScalingGroup');
    s.template('auraxis-prod-host', (t) => {
      const props = t.Resources[asg].Properties;
      props.MixedInstancesPolicy = {
        LaunchTemplate: {
          LaunchTemplateSpecification: props.LaunchTemplate,
          Overrides: ['t4g.small', 'c6g.medium', 'c7g.medium'].map((InstanceType) => ({ InstanceType })),
        },
        InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'capacity-optimized' },
      };
      delete props.LaunchTemplate;
    });
    const estimate = estimateMonthlyCost(readSynthOutput(s.dir, 'head'));
    const spot = SPOT_PRICES.hourly['us-east-1'];
    expect(lineOf(estimate, 'prod', 'EC2')).toMatchObject({
      item: 'EC2 t4g.small Spot',
      basis: `730.0 h × $${spot['t4g.small']} (Spot us-east-1, ${SPOT_PRICES.recorded}; up to $${spot['c7g.medium']} if EC2 picks c7g.medium of t4g.small, c6g.medium, c7g.medium)`,
      usd: cents(H * spot['t4g.small']),
    });
    expect(totalUsd(estimate.lines)).toBeLessThanOrEqual(17);
  });

  test('a Spot type without a Spot price is not estimated, never zero', () => {
    const s = scenario();
    const asg = s.logicalId('auraxis-dev-host', 'AWS::AutoScaling::AutoScalingGroup');
    s.template('auraxis-dev-host', (t) => {
      t.Resources[asg].Properties.MixedInstancesPolicy.LaunchTemplate.Overrides = [{ InstanceType: 'x9g.huge' }];
    });
    const estimate = estimateMonthlyCost(readSynthOutput(s.dir, 'head'));
    expect(estimate.lines.filter((l) => l.environment === 'dev' && l.item.startsWith('EC2'))).toEqual([]);
    expect(estimate.notEstimated.map((n) => n.reason)).toEqual(['no Spot price for x9g.huge in us-east-1 in lib/cost/prices.ts']);
  });
});
