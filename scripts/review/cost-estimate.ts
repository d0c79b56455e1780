#!/usr/bin/env node
/*
 * Monthly cost estimate of a config, as a Markdown table the PR pipeline can post:
 *   npx ts-node --swc scripts/review/cost-estimate.ts [config.yaml]
 * `estimateMonthlyCost` is pure (config in, lines out); `main` only reads the file and prints.
 */
import { environmentsOf, healthCheckProtocol, loadConfigFile, type NamedEnvironment, type ProjectConfig } from '../../lib/config';

/**
 * On-demand us-east-1 list prices in USD, the only place they are written down.
 * Recorded 2026-11-24 from AWS's public pricing pages (EC2, EBS, VPC public IPv4, Route53,
 * CloudWatch, S3); AWS changes them rarely, check the pages before relying on a cent.
 */
export const PRICES = {
  pricesRecorded: '2026-11-24',
  /** EC2 Linux on-demand, per instance-hour. */
  ec2Hourly: {
    't4g.nano': 0.0042,
    't4g.micro': 0.0084,
    't4g.small': 0.0168,
    't4g.medium': 0.0336,
    't4g.large': 0.0672,
    't3.micro': 0.0104,
    't3.small': 0.0208,
    't3.medium': 0.0416,
    't3a.medium': 0.0376,
    'm7g.large': 0.0816,
  } as Record<string, number>,
  /** EBS gp3 storage, per GiB-month (baseline 3,000 IOPS and 125 MB/s included). */
  gp3GbMonth: 0.08,
  /** Public IPv4 address (Elastic IP attached or idle), per hour. */
  publicIpv4Hourly: 0.005,
  /** Route53 basic health check of an AWS endpoint (an Elastic IP in the same account), per month. */
  healthCheckAwsEndpoint: 0.5,
  /** Route53 optional feature (HTTPS, string match, fast interval, latency) on an AWS endpoint, per month each. */
  healthCheckOptionalFeature: 1.0,
  /** CloudWatch standard-resolution alarm, per alarm-month. */
  alarmMonth: 0.1,
  /** CloudWatch custom metric (the agent's disk_used_percent), per metric-month. */
  customMetricMonth: 0.3,
  /** CloudWatch Logs ingestion (standard class), per GB. */
  logsIngestGb: 0.5,
  /** CloudWatch Logs storage, per GB-month. */
  logsStoredGbMonth: 0.03,
  /** S3 Standard storage, per GB-month. */
  s3StandardGbMonth: 0.023,
  /** S3 Standard-IA storage, per GB-month. */
  s3InfrequentGbMonth: 0.0125,
  /**
   * CloudWatch's always-free tier, per account and month (not the 12-month new-account tier):
   * 10 alarms, 10 custom metrics, 5 GB of log data.
   */
  cloudwatchFreeTier: { alarms: 10, customMetrics: 10, logsGb: 5 },
} as const;

/** Usage the config does not state; the estimate's assumptions, in one place. */
export const ASSUMPTIONS = {
  /** AWS bills a month as 730 hours. */
  hoursPerMonth: 730,
  /**
   * Host alarms per environment besides the health alarm: auto-recovery (system status check),
   * status checks, CPU, disk (lib/constructs/compose-host.ts, host-alarms.ts; a test counts them
   * in the synthesized host stack so this cannot drift).
   */
  hostAlarmsPerEnvironment: 4,
  /** Custom metrics the CloudWatch agent publishes per host (disk_used_percent for the disk alarm). */
  customMetricsPerEnvironment: 1,
  /** Container and system logs shipped by a host that runs all month, in GB. */
  logGbPerFullMonth: 0.5,
  /** Size of one compressed daily Postgres backup, in GB. */
  backupGb: 0.05,
} as const;

export interface CostLine {
  /** Environment name, or `account` for account-wide items. */
  readonly environment: string;
  readonly item: string;
  /** Quantity and unit price in words, e.g. `260.7 h × $0.0168`. */
  readonly basis: string;
  /** USD per month, rounded to cents. */
  readonly usd: number;
}

export interface EstimateOptions {
  /** Alarms per environment other than the health alarm. @default ASSUMPTIONS.hostAlarmsPerEnvironment */
  readonly hostAlarmsPerEnvironment?: number;
}

const cents = (usd: number) => Math.round(usd * 100) / 100;
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Days of week an EventBridge cron's day-of-week field selects (`MON-FRI`, `MON,WED`, `*`, `1-5`), or undefined. */
function daysOfWeek(field: string): Set<number> | undefined {
  if (field === '*' || field === '?') return new Set([0, 1, 2, 3, 4, 5, 6]);
  const day = (token: string) => (/^\d$/.test(token) ? Number(token) - 1 : DAYS.indexOf(token.toUpperCase()));
  const days = new Set<number>();
  for (const part of field.split(',')) {
    const [from, to] = part.split('-').map(day);
    if (from === undefined || from < 0 || (to !== undefined && to < 0)) return undefined;
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (to === undefined || d === to) break;
    }
  }
  return days;
}

/** Minute of day and days of a `cron(M H ? * DOW *)` expression, or undefined for other shapes. */
function parseCron(expression: string): { minute: number; days: Set<number> } | undefined {
  const m = /^cron\((\d{1,2}) (\d{1,2}) (\?|\*) \* (\S+) \*\)$/.exec(expression);
  if (!m) return undefined;
  const days = daysOfWeek(m[4]);
  return days && { minute: Number(m[2]) * 60 + Number(m[1]), days };
}

/**
 * Hours a month the instance runs: 730 without a schedule; with one, the daily window between
 * the start and stop expressions on the start's days, times the 730/168 weeks of a month.
 * Expressions it cannot read are priced as always on (the safe side).
 */
export function runningHoursPerMonth(environment: NamedEnvironment): number {
  const schedule = environment.instance.schedule;
  if (!schedule) return ASSUMPTIONS.hoursPerMonth;
  const start = parseCron(schedule.start);
  const stop = parseCron(schedule.stop);
  if (!start || !stop) return ASSUMPTIONS.hoursPerMonth;
  const dailyMinutes = (stop.minute - start.minute + 1440) % 1440;
  const weeklyHours = (start.days.size * dailyMinutes) / 60;
  return (weeklyHours * ASSUMPTIONS.hoursPerMonth) / 168;
}

function alarmsPerEnvironment(options: EstimateOptions): number {
  return 1 + (options.hostAlarmsPerEnvironment ?? ASSUMPTIONS.hostAlarmsPerEnvironment);
}

function logIngestGb(environment: NamedEnvironment): number {
  return (ASSUMPTIONS.logGbPerFullMonth * runningHoursPerMonth(environment)) / ASSUMPTIONS.hoursPerMonth;
}

/**
 * The always-free CloudWatch allowance, once per account, as a negative line: what the
 * environments of that account use of it, up to the allowance.
 */
function cloudwatchFreeTierLine(account: string, environments: readonly NamedEnvironment[], options: EstimateOptions): CostLine {
  const free = PRICES.cloudwatchFreeTier;
  const alarms = Math.min(free.alarms, environments.length * alarmsPerEnvironment(options));
  const metrics = Math.min(free.customMetrics, environments.length * ASSUMPTIONS.customMetricsPerEnvironment);
  const logsGb = Math.min(free.logsGb, environments.reduce((sum, e) => sum + logIngestGb(e), 0));
  return {
    environment: 'account',
    item: `CloudWatch always-free tier (account ${account})`,
    basis: `${alarms} alarms, ${metrics} custom metrics, ${logsGb.toFixed(2)} GB logs of the free ${free.alarms} / ${free.customMetrics} / ${free.logsGb} GB`,
    usd: -cents(alarms * PRICES.alarmMonth + metrics * PRICES.customMetricMonth + logsGb * PRICES.logsIngestGb),
  };
}

function environmentLines(environment: NamedEnvironment, options: EstimateOptions): CostLine[] {
  const env = environment.name;
  const line = (item: string, basis: string, usd: number): CostLine => ({ environment: env, item, basis, usd: cents(usd) });
  const lines: CostLine[] = [];
  const hours = runningHoursPerMonth(environment);
  const type = environment.instance.type;
  const hourly = PRICES.ec2Hourly[type];
  if (hourly === undefined) {
    throw new Error(`environments.${env}.instance.type "${type}" has no price in scripts/review/cost-estimate.ts PRICES.ec2Hourly; add it`);
  }
  const schedule = environment.instance.schedule ? ' (scheduled)' : '';
  lines.push(line(`EC2 ${type}${schedule}`, `${hours.toFixed(1)} h × $${hourly}`, hours * hourly));
  const gib = environment.instance.rootVolumeGiB;
  lines.push(line(`EBS gp3 root volume`, `${gib} GiB × $${PRICES.gp3GbMonth}`, gib * PRICES.gp3GbMonth));
  lines.push(
    line('Public IPv4 (Elastic IP, billed running or stopped)', `${ASSUMPTIONS.hoursPerMonth} h × $${PRICES.publicIpv4Hourly}`, ASSUMPTIONS.hoursPerMonth * PRICES.publicIpv4Hourly),
  );
  const https = healthCheckProtocol(environment) === 'HTTPS';
  lines.push(
    https
      ? line('Route53 health check, HTTPS', `$${PRICES.healthCheckAwsEndpoint} + HTTPS option $${PRICES.healthCheckOptionalFeature}`, PRICES.healthCheckAwsEndpoint + PRICES.healthCheckOptionalFeature)
      : line('Route53 health check, HTTP', `$${PRICES.healthCheckAwsEndpoint}`, PRICES.healthCheckAwsEndpoint),
  );
  const alarms = alarmsPerEnvironment(options);
  lines.push(line('CloudWatch alarms (health + host)', `${alarms} × $${PRICES.alarmMonth}`, alarms * PRICES.alarmMonth));
  const metrics = ASSUMPTIONS.customMetricsPerEnvironment;
  lines.push(line('CloudWatch agent custom metrics', `${metrics} × $${PRICES.customMetricMonth}`, metrics * PRICES.customMetricMonth));
  const ingestGb = logIngestGb(environment);
  const storedGb = (ingestGb * environment.logs.retentionDays) / 30;
  lines.push(
    line(
      `CloudWatch Logs (${environment.logs.retentionDays} d retention)`,
      `${ingestGb.toFixed(2)} GB in × $${PRICES.logsIngestGb} + ${storedGb.toFixed(2)} GB kept × $${PRICES.logsStoredGbMonth}`,
      ingestGb * PRICES.logsIngestGb + storedGb * PRICES.logsStoredGbMonth,
    ),
  );
  const { retentionDays, transitionToInfrequentAccessDays: ia } = environment.backups;
  const standardGb = ASSUMPTIONS.backupGb * Math.min(retentionDays, ia ?? retentionDays);
  const infrequentGb = ASSUMPTIONS.backupGb * (ia === undefined ? 0 : retentionDays - ia);
  lines.push(
    line(
      `S3 backups (${retentionDays} daily dumps)`,
      `${standardGb.toFixed(2)} GB Standard${infrequentGb > 0 ? ` + ${infrequentGb.toFixed(2)} GB Standard-IA` : ''}`,
      standardGb * PRICES.s3StandardGbMonth + infrequentGb * PRICES.s3InfrequentGbMonth,
    ),
  );
  return lines;
}

/** Per-resource monthly cost of every environment, plus the account-wide guardrails and free tier. */
export function estimateMonthlyCost(config: ProjectConfig, options: EstimateOptions = {}): CostLine[] {
  const environments = environmentsOf(config);
  const accounts = [...new Set(environments.map((e) => e.account))];
  return [
    ...environments.flatMap((environment) => environmentLines(environment, options)),
    ...accounts.map((account) => cloudwatchFreeTierLine(account, environments.filter((e) => e.account === account), options)),
    {
      environment: 'account',
      item: 'Budget, Cost Anomaly Detection, GitHub OIDC provider',
      basis: `${accounts.length} account(s): one budget without actions, anomaly monitor and IAM provider are free`,
      usd: 0,
    },
  ];
}

/** Sum of the (already rounded) lines, rounded to cents, optionally of one environment. */
export function totalUsd(lines: readonly CostLine[], environment?: string): number {
  return cents(lines.filter((l) => environment === undefined || l.environment === environment).reduce((sum, l) => sum + l.usd, 0));
}

/** The estimate as a Markdown table with per-environment and overall totals. */
export function formatMarkdown(lines: readonly CostLine[]): string {
  const rows = ['| Environment | Item | Basis | USD/month |', '| --- | --- | --- | ---: |'];
  for (const l of lines) rows.push(`| ${l.environment} | ${l.item} | ${l.basis} | ${l.usd.toFixed(2)} |`);
  for (const env of [...new Set(lines.map((l) => l.environment))].filter((e) => e !== 'account')) {
    rows.push(`| **${env}** | **total** | | **${totalUsd(lines, env).toFixed(2)}** |`);
  }
  rows.push(`| **all** | **total** | | **${totalUsd(lines).toFixed(2)}** |`);
  return rows.join('\n');
}

function main(argv: readonly string[]): void {
  const path = argv[0] ?? 'config/environments.yaml';
  const lines = estimateMonthlyCost(loadConfigFile(path));
  console.log(`### Estimated monthly cost (on-demand us-east-1, prices of ${PRICES.pricesRecorded})\n`);
  console.log(formatMarkdown(lines));
}

if (require.main === module) main(process.argv.slice(2));
