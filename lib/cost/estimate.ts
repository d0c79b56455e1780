/*
 * Monthly cost of what deploys, read from a synthesized cloud assembly (the templates, not the
 * config): `npm run review:cost -- [synth-dir]` prints it as Markdown, the review comment
 * (`npm run review`) compares two of them, and synth warns when a budget is below it
 * (bin/budget-check.ts). Prices and assumptions: lib/cost/prices.ts.
 */
import { onCalendarRunsPerWeek } from '../config/on-calendar';
import { stagedFiles, stagedSettings } from '../host-runtime/documents';
import type { CfnResource, SynthStack } from '../synth-output/stacks';
import { ASSUMPTIONS, FREE_TYPES, PRICES, SPOT_PRICES } from './prices';
import { weeklyRunningHours } from './schedule-hours';

export interface CostLine {
  /** Stable identity across base and head: environment, stack, logical id and what is priced. */
  readonly key: string;
  /** Environment name, or `account` for account-wide items. */
  readonly environment: string;
  readonly item: string;
  /** Quantity and unit price in words, e.g. `260.7 h × $0.0084`. */
  readonly basis: string;
  /** USD per month, rounded to cents. */
  readonly usd: number;
}

/** A resource the estimator has no price for: listed, never counted as zero. */
export interface NotEstimated {
  readonly environment: string;
  readonly subject: string;
  readonly reason: string;
}

export interface CostEstimate {
  readonly lines: readonly CostLine[];
  readonly notEstimated: readonly NotEstimated[];
  /** Monthly budget (AWS::Budgets::Budget) per account, in USD. */
  readonly budgets: ReadonlyMap<string, number>;
  /** Environments by account. */
  readonly accounts: ReadonlyMap<string, readonly string[]>;
}

export const cents = (usd: number) => Math.round(usd * 100) / 100;

type Props = Record<string, unknown>;
const propsOf = (r: CfnResource) => (r.Properties ?? {}) as Props;

/** Hours a month each instance of a stack runs, from the stack's start/stop schedules. */
function runningHours(stack: SynthStack): { hours: number; scheduled: boolean; note?: string } {
  const schedules = Object.values(stack.template.Resources ?? {}).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
  // A fixed instance started and stopped (ec2 start/stopInstances), or an Auto Scaling group of
  // one whose desired capacity is set to 1 and 0 (autoscaling updateAutoScalingGroup).
  const target = (s: CfnResource) => (propsOf(s).Target as Props | undefined) ?? {};
  const desired = (s: CfnResource) => /"DesiredCapacity":(\d+)/.exec(String(target(s).Input ?? ''))?.[1];
  const expressions = (action: string, capacity: string) =>
    schedules
      .filter((s) => {
        const arn = String(target(s).Arn ?? '');
        return arn.includes(`:ec2:${action}`) || (arn.includes(':autoscaling:updateAutoScalingGroup') && desired(s) === capacity);
      })
      .map((s) => String(propsOf(s).ScheduleExpression));
  const start = expressions('startInstances', '1');
  const stop = expressions('stopInstances', '0');
  if (stop.length === 0) return { hours: ASSUMPTIONS.hoursPerMonth, scheduled: false };
  const weekly = weeklyRunningHours(start, stop);
  if ('unreadable' in weekly) return { hours: ASSUMPTIONS.hoursPerMonth, scheduled: true, note: `${weekly.unreadable}: priced as always on` };
  return { hours: (weekly.hours * ASSUMPTIONS.hoursPerMonth) / 168, scheduled: true };
}

/**
 * The region of a host stack, from its subnet's zone: a literal (`us-east-1a`) or
 * `Fn::Select [0, Fn::GetAZs <region>]`. The assembly's own region is not in SynthStack.
 */
function regionOf(stack: SynthStack): string {
  for (const r of Object.values(stack.template.Resources ?? {})) {
    if (r.Type !== 'AWS::EC2::Subnet') continue;
    const zone = propsOf(r).AvailabilityZone;
    if (typeof zone === 'string') return zone.replace(/[a-z]$/, '');
    const getAzs = JSON.stringify(zone ?? '').match(/"Fn::GetAZs":"([a-z0-9-]+)"/)?.[1];
    if (getAzs) return getAzs;
  }
  return 'unknown region';
}

/** How often an environment's host uploads a backup, from what deploys: its backup document's timer schedule. */
interface BackupRate {
  /** Uploads a day on average, the hours the host is stopped counted out (the timer fires only while it runs). */
  readonly perDay: number;
  /** The schedule as the document carries it, or why it could not be read. */
  readonly basis: string;
}

/** The OnCalendar schedule the environment's backup document installs (BACKUP_SCHEDULE in its host.env), if any. */
function backupSchedule(stacks: readonly SynthStack[], environment: string): string | undefined {
  for (const stack of stacks.filter((s) => s.environment === environment)) {
    for (const r of Object.values(stack.template.Resources ?? {})) {
      if (r.Type !== 'AWS::SSM::Document') continue;
      const steps = ((propsOf(r).Content as Props | undefined)?.mainSteps as Props[] | undefined) ?? [];
      for (const step of steps) {
        const runCommand = ((step.inputs as Props | undefined)?.runCommand as unknown[] | undefined) ?? [];
        if (stagedFiles(runCommand).includes('backup.sh')) return stagedSettings(runCommand).BACKUP_SCHEDULE;
      }
    }
  }
  return undefined;
}

function backupRate(stacks: readonly SynthStack[], environment: string, hostHours: number): BackupRate {
  const schedule = backupSchedule(stacks, environment);
  const perWeek = schedule === undefined ? undefined : onCalendarRunsPerWeek(schedule);
  if (perWeek === undefined) {
    const why = schedule === undefined ? 'no backup document found' : `schedule "${schedule}" not read`;
    return { perDay: ASSUMPTIONS.backupsPerDayUnknown, basis: `${why}: priced as ${ASSUMPTIONS.backupsPerDayUnknown} a day` };
  }
  const running = hostHours / ASSUMPTIONS.hoursPerMonth;
  const perDay = (perWeek / 7) * running;
  return { perDay, basis: `OnCalendar ${schedule}${running < 1 ? `, ${Math.round(running * 100)} % of the time running` : ''}` };
}

interface EnvironmentUsage {
  alarms: number;
  customMetrics: Set<string>;
  logGb: number;
}

function stackLines(stack: SynthStack, hostHours: number, backups: BackupRate, usage: EnvironmentUsage, notEstimated: NotEstimated[]): CostLine[] {
  const env = stack.environment;
  const lines: CostLine[] = [];
  const line = (id: string, item: string, basis: string, usd: number) =>
    lines.push({ key: `${env} ${stack.name} ${id}`, environment: env, item, basis, usd: cents(usd) });
  const skip = (subject: string, reason: string) => notEstimated.push({ environment: env, subject: `${stack.name} ${subject}`, reason });
  const resources = Object.entries(stack.template.Resources ?? {});
  const hours = runningHours(stack);
  const retentions: number[] = [];

  for (const [id, resource] of resources) {
    const p = propsOf(resource);
    switch (resource.Type) {
      case 'AWS::EC2::Instance': {
        const type = String(p.InstanceType);
        const hourly = PRICES.ec2Hourly[type];
        if (hourly === undefined) skip(`${id} (EC2 ${type})`, `instance type ${type} has no price in lib/cost/prices.ts`);
        else
          line(
            `${id} instance`,
            `EC2 ${type}${hours.scheduled ? ' (scheduled)' : ''}`,
            `${hours.hours.toFixed(1)} h × $${hourly}${hours.note ? ` (${hours.note})` : ''}`,
            hours.hours * hourly,
          );
        for (const mapping of (p.BlockDeviceMappings as { DeviceName?: string; Ebs?: Props }[] | undefined) ?? []) {
          if (!mapping.Ebs) continue;
          const volumeType = String(mapping.Ebs.VolumeType ?? 'gp2');
          const price = PRICES.ebsGbMonth[volumeType];
          const gib = Number(mapping.Ebs.VolumeSize);
          const what = `EBS ${volumeType} volume ${mapping.DeviceName ?? ''} of ${id}`.replace('  ', ' ');
          if (price === undefined || !Number.isFinite(gib)) skip(what, `volume type ${volumeType} or size unknown to lib/cost/prices.ts`);
          else
            line(
              `${id} ${mapping.DeviceName}`,
              `EBS ${volumeType} ${mapping.DeviceName === '/dev/xvda' ? 'root ' : ''}volume`,
              `${gib} GiB × $${price}`,
              gib * price,
            );
        }
        break;
      }
      case 'AWS::AutoScaling::AutoScalingGroup': {
        // The host: an Auto Scaling group of one. Its instance and root volume exist only while it
        // runs (the root is deleted with each instance), and so does an auto-assigned public IPv4.
        const spec = (p.LaunchTemplate ??
          ((p.MixedInstancesPolicy as Props | undefined)?.LaunchTemplate as Props | undefined)?.LaunchTemplateSpecification ??
          {}) as Props;
        const templateId = String((spec.LaunchTemplateId as Props | undefined)?.Ref ?? '');
        const data = (propsOf(stack.template.Resources?.[templateId] ?? { Type: '' }).LaunchTemplateData ?? {}) as Props;
        const type = String(data.InstanceType);
        const mixed = p.MixedInstancesPolicy as Props | undefined;
        const distribution = (mixed?.InstancesDistribution ?? {}) as Props;
        const spot =
          mixed !== undefined && Number(distribution.OnDemandBaseCapacity ?? 0) === 0 && Number(distribution.OnDemandPercentageAboveBaseCapacity ?? 100) === 0;
        const region = regionOf(stack);
        if (spot) {
          const overrides = (((mixed?.LaunchTemplate as Props | undefined)?.Overrides as Props[] | undefined) ?? []).map((o) => String(o.InstanceType));
          const types = overrides.length > 0 ? overrides : [type];
          const prices = types.map((t) => SPOT_PRICES.hourly[region]?.[t]);
          const first = prices[0];
          if (first === undefined) skip(`${id} (EC2 Spot ${types[0]})`, `no Spot price for ${types[0]} in ${region} in lib/cost/prices.ts`);
          else {
            const highest = Math.max(...prices.map((x) => x ?? first));
            line(
              `${id} instance`,
              `EC2 ${types[0]} Spot${hours.scheduled ? ' (scheduled)' : ''}`,
              `${hours.hours.toFixed(1)} h × $${first} (Spot ${region}, ${SPOT_PRICES.recorded}${types.length > 1 ? `; up to $${highest} if EC2 picks ${types[prices.indexOf(highest)]} of ${types.join(', ')}` : ''})${hours.note ? ` (${hours.note})` : ''}`,
              hours.hours * first,
            );
          }
        } else {
          const hourly = PRICES.ec2Hourly[type];
          if (hourly === undefined) skip(`${id} (EC2 ${type})`, `instance type ${type} has no price in lib/cost/prices.ts`);
          else
            line(
              `${id} instance`,
              `EC2 ${type} on-demand${hours.scheduled ? ' (scheduled)' : ''}`,
              `${hours.hours.toFixed(1)} h × $${hourly}${hours.note ? ` (${hours.note})` : ''}`,
              hours.hours * hourly,
            );
        }
        for (const mapping of (data.BlockDeviceMappings as { DeviceName?: string; Ebs?: Props }[] | undefined) ?? []) {
          if (!mapping.Ebs) continue;
          const volumeType = String(mapping.Ebs.VolumeType ?? 'gp2');
          const price = PRICES.ebsGbMonth[volumeType];
          const gib = Number(mapping.Ebs.VolumeSize);
          const kept = mapping.Ebs.DeleteOnTermination === false;
          if (price === undefined || !Number.isFinite(gib))
            skip(`EBS ${volumeType} volume ${mapping.DeviceName} of ${id}`, `volume type ${volumeType} or size unknown to lib/cost/prices.ts`);
          else {
            // Deleted with its instance: billed only while one runs. Kept: billed all month, and every
            // replacement leaves one more behind (not counted here).
            const share = kept ? 1 : hours.hours / ASSUMPTIONS.hoursPerMonth;
            line(
              `${id} ${mapping.DeviceName}`,
              `EBS ${volumeType} root volume${kept ? ' (kept on termination: one more per replacement)' : ', deleted with its instance'}`,
              `${gib} GiB × $${price}${share < 1 ? ` × ${Math.round(share * 100)} % of the month` : ''}`,
              gib * price * share,
            );
          }
        }
        const eip = resources.some(([, r]) => r.Type === 'AWS::EC2::EIP');
        const autoAssigned = resources.some(([, r]) => r.Type === 'AWS::EC2::Subnet' && propsOf(r).MapPublicIpOnLaunch === true);
        if (!eip && autoAssigned)
          line(
            `${id} public IPv4`,
            'Public IPv4 (auto-assigned, billed while running)',
            `${hours.hours.toFixed(1)} h × $${PRICES.publicIpv4Hourly}`,
            hours.hours * PRICES.publicIpv4Hourly,
          );
        break;
      }
      case 'AWS::EC2::Volume': {
        const volumeType = String(p.VolumeType ?? 'gp2');
        const price = PRICES.ebsGbMonth[volumeType];
        if (price === undefined || typeof p.Size !== 'number')
          skip(`${id} (EBS ${volumeType})`, `volume type ${volumeType} or size unknown to lib/cost/prices.ts`);
        else line(id, `EBS ${volumeType} volume ${id}`, `${p.Size} GiB × $${price}`, p.Size * price);
        break;
      }
      case 'AWS::DLM::LifecyclePolicy': {
        // Snapshots are incremental: the oldest kept one holds the used blocks, each later one only
        // what changed since the one before (ASSUMPTIONS.snapshotUsedGb, snapshotChangedGbPerDay).
        const sizes = resources.filter(([, r]) => r.Type === 'AWS::EC2::Volume').map(([, r]) => propsOf(r).Size);
        const schedule = ((((p.PolicyDetails as Props | undefined)?.Schedules as Props[] | undefined) ?? [])[0] ?? {}) as Props;
        const create = (schedule.CreateRule ?? {}) as Props;
        const retain = Number((schedule.RetainRule as Props | undefined)?.Count);
        const intervalDays = create.IntervalUnit === 'HOURS' ? Number(create.Interval) / 24 : Number.NaN;
        if (sizes.length === 0 || sizes.some((size) => typeof size !== 'number'))
          skip(`${id} (DLM snapshots)`, 'the volumes it snapshots are not in its stack');
        else if (!(retain > 0) || !(intervalDays > 0)) skip(`${id} (DLM snapshots)`, 'its schedule (an hourly interval and a retain count) could not be read');
        else {
          const gib = (sizes as number[]).reduce((sum, size) => sum + size, 0);
          const changed = ASSUMPTIONS.snapshotChangedGbPerDay * intervalDays * (retain - 1);
          const stored = Math.min(gib * retain, Math.min(gib, ASSUMPTIONS.snapshotUsedGb) + changed);
          line(
            id,
            `EBS snapshots (DLM, ${retain} kept every ${create.Interval} h: what changes)`,
            `${Math.min(gib, ASSUMPTIONS.snapshotUsedGb)} GB used + ${retain - 1} × ${(ASSUMPTIONS.snapshotChangedGbPerDay * intervalDays).toFixed(2)} GB changed = ${stored.toFixed(2)} GB × $${PRICES.ebsSnapshotGbMonth}`,
            stored * PRICES.ebsSnapshotGbMonth,
          );
        }
        break;
      }
      case 'AWS::EC2::EIP':
        line(
          id,
          'Public IPv4 (Elastic IP, billed running or stopped)',
          `${ASSUMPTIONS.hoursPerMonth} h × $${PRICES.publicIpv4Hourly}`,
          ASSUMPTIONS.hoursPerMonth * PRICES.publicIpv4Hourly,
        );
        break;
      case 'AWS::Route53::HealthCheck': {
        const config = (p.HealthCheckConfig ?? {}) as Props;
        const type = String(config.Type);
        const options = [
          type.startsWith('HTTPS') && 'HTTPS',
          type.endsWith('_STR_MATCH') && 'string match',
          Number(config.RequestInterval) === 10 && '10 s interval',
          config.MeasureLatency === true && 'latency',
        ].filter((o): o is string => typeof o === 'string');
        const basis = [`$${PRICES.healthCheckAwsEndpoint}`, ...options.map((o) => `${o} option $${PRICES.healthCheckOptionalFeature}`)].join(' + ');
        line(id, `Route53 health check, ${type}`, basis, PRICES.healthCheckAwsEndpoint + options.length * PRICES.healthCheckOptionalFeature);
        break;
      }
      case 'AWS::Route53::HostedZone':
        line(id, 'Route53 hosted zone', `$${PRICES.hostedZoneMonth}`, PRICES.hostedZoneMonth);
        break;
      case 'AWS::CloudWatch::Alarm':
        usage.alarms += 1;
        if (typeof p.Namespace === 'string' && !p.Namespace.startsWith('AWS/')) usage.customMetrics.add(`${p.Namespace}/${String(p.MetricName)}`);
        if (p.Metrics !== undefined) skip(`${id} (metric-math alarm)`, 'metric-math alarms are billed per metric; not estimated');
        break;
      case 'AWS::Logs::LogGroup':
        retentions.push(Number(p.RetentionInDays ?? 3653));
        break;
      case 'AWS::S3::Bucket': {
        const rules = (((p.LifecycleConfiguration as Props | undefined)?.Rules as Props[] | undefined) ?? []).filter((r) => r.Status === 'Enabled');
        const expiring = rules.find((r) => typeof r.ExpirationInDays === 'number');
        if (!expiring) {
          skip(`${id} (S3 bucket)`, 'no expiration rule: its size grows without bound; not estimated');
          break;
        }
        const days = Number(expiring.ExpirationInDays);
        const ia = ((expiring.Transitions as Props[] | undefined) ?? []).find((t) => t.StorageClass === 'STANDARD_IA');
        const iaDays = ia ? Math.min(days, Number(ia.TransitionInDays)) : days;
        // Steady state: every upload of the last `days` days is kept, the older part in Standard-IA.
        const standardGb = backups.perDay * ASSUMPTIONS.backupGb * iaDays;
        const infrequentGb = backups.perDay * ASSUMPTIONS.backupGb * (days - iaDays);
        const uploads = (backups.perDay * ASSUMPTIONS.hoursPerMonth) / 24;
        const requests = uploads * (PRICES.s3PutPer1000 + (ia && iaDays < days ? PRICES.s3TransitionIaPer1000 : 0));
        line(
          id,
          `S3 backups (${backups.perDay.toFixed(1)} a day, kept ${days} d)`,
          `${backups.basis}: ${standardGb.toFixed(2)} GB Standard${infrequentGb > 0 ? ` + ${infrequentGb.toFixed(2)} GB Standard-IA` : ''} + ${Math.round(uploads)} uploads`,
          standardGb * PRICES.s3GbMonth.STANDARD + infrequentGb * PRICES.s3GbMonth.STANDARD_IA + requests / 1000,
        );
        break;
      }
      default:
        if (!(resource.Type in FREE_TYPES)) skip(`${id} (${resource.Type})`, 'no price in lib/cost/prices.ts');
    }
  }
  if (retentions.length > 0) {
    const ingestGb = (ASSUMPTIONS.logGbPerFullMonth * hostHours) / ASSUMPTIONS.hoursPerMonth;
    const retention = Math.max(...retentions);
    const storedGb = (ingestGb * retention) / 30;
    usage.logGb += ingestGb;
    line(
      'logs',
      `CloudWatch Logs (${retention} d retention)`,
      `${ingestGb.toFixed(2)} GB in × $${PRICES.logsIngestGb} + ${storedGb.toFixed(2)} GB kept × $${PRICES.logsStoredGbMonth}`,
      ingestGb * PRICES.logsIngestGb + storedGb * PRICES.logsStoredGbMonth,
    );
  }
  return lines;
}

/** Running hours of each environment's host, for its log volume (logs are written while it runs). */
function hostHoursByEnvironment(stacks: readonly SynthStack[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const stack of stacks) {
    if (Object.values(stack.template.Resources ?? {}).some((r) => r.Type === 'AWS::EC2::Instance' || r.Type === 'AWS::AutoScaling::AutoScalingGroup'))
      result.set(stack.environment, runningHours(stack).hours);
  }
  return result;
}

/** The monthly cost of every stack of a synth output, per environment, with the account-wide free tier. */
export function estimateMonthlyCost(output: { readonly stacks: ReadonlyMap<string, SynthStack> }): CostEstimate {
  const stacks = [...output.stacks.values()];
  const hostHours = hostHoursByEnvironment(stacks);
  const hoursOf = (environment: string) => hostHours.get(environment) ?? ASSUMPTIONS.hoursPerMonth;
  const backupRates = new Map([...new Set(stacks.map((s) => s.environment))].map((env) => [env, backupRate(stacks, env, hoursOf(env))]));
  const usage = new Map<string, EnvironmentUsage>();
  const notEstimated: NotEstimated[] = [];
  const lines: CostLine[] = [];
  const accounts = new Map<string, string[]>();
  const budgets = new Map<string, number>();
  for (const stack of stacks) {
    const envUsage = usage.get(stack.environment) ?? { alarms: 0, customMetrics: new Set<string>(), logGb: 0 };
    usage.set(stack.environment, envUsage);
    if (stack.environment !== 'account') {
      const list = accounts.get(stack.account) ?? [];
      if (!list.includes(stack.environment)) list.push(stack.environment);
      accounts.set(stack.account, list);
    }
    // Logs are written while the host runs, though the log groups live in the data stack.
    lines.push(...stackLines(stack, hoursOf(stack.environment), backupRates.get(stack.environment) as BackupRate, envUsage, notEstimated));
    for (const r of Object.values(stack.template.Resources ?? {})) {
      const amount = (((propsOf(r).Budget as Props | undefined)?.BudgetLimit as Props | undefined)?.Amount as unknown) ?? undefined;
      if (r.Type === 'AWS::Budgets::Budget' && typeof amount === 'number') budgets.set(stack.account, amount);
    }
  }
  for (const [env, u] of usage) {
    if (u.alarms > 0)
      lines.push({
        key: `${env} alarms`,
        environment: env,
        item: 'CloudWatch alarms',
        basis: `${u.alarms} × $${PRICES.alarmMonth}`,
        usd: cents(u.alarms * PRICES.alarmMonth),
      });
    if (u.customMetrics.size > 0) {
      const n = u.customMetrics.size;
      lines.push({
        key: `${env} custom metrics`,
        environment: env,
        item: 'CloudWatch custom metrics',
        basis: `${n} × $${PRICES.customMetricMonth}`,
        usd: cents(n * PRICES.customMetricMonth),
      });
    }
  }
  lines.sort((a, b) => (a.environment === b.environment ? 0 : a.environment < b.environment ? -1 : 1));
  for (const [account, envs] of accounts) {
    const free = PRICES.cloudwatchFreeTier;
    const sum = (f: (u: EnvironmentUsage) => number) => envs.reduce((total, e) => total + f(usage.get(e) as EnvironmentUsage), 0);
    const alarms = Math.min(
      free.alarms,
      sum((u) => u.alarms),
    );
    const metrics = Math.min(
      free.customMetrics,
      sum((u) => u.customMetrics.size),
    );
    const logsGb = Math.min(
      free.logsGb,
      sum((u) => u.logGb),
    );
    lines.push({
      key: `account ${account} free tier`,
      environment: 'account',
      item: `CloudWatch always-free tier (account ${account})`,
      basis: `${alarms} alarms, ${metrics} custom metrics, ${logsGb.toFixed(2)} GB logs of the free ${free.alarms} / ${free.customMetrics} / ${free.logsGb} GB`,
      usd: -cents(alarms * PRICES.alarmMonth + metrics * PRICES.customMetricMonth + logsGb * PRICES.logsIngestGb),
    });
  }
  return { lines, notEstimated, budgets, accounts };
}

/** Sum of the (already rounded) lines, rounded to cents, optionally of one environment. */
export function totalUsd(lines: readonly CostLine[], environment?: string): number {
  return cents(lines.filter((l) => environment === undefined || l.environment === environment).reduce((sum, l) => sum + l.usd, 0));
}

/** Environments of an estimate, `account` last. */
export function environmentsOf(lines: readonly CostLine[]): string[] {
  const envs = [...new Set(lines.map((l) => l.environment))].filter((e) => e !== 'account').sort();
  return lines.some((l) => l.environment === 'account') ? [...envs, 'account'] : envs;
}

/** The estimate as a Markdown table with per-environment and overall totals, then what it did not price. */
export function formatMarkdown(estimate: CostEstimate): string {
  const rows = ['| Environment | Item | Basis | USD/month |', '| --- | --- | --- | ---: |'];
  for (const l of estimate.lines) rows.push(`| ${l.environment} | ${l.item} | ${l.basis} | ${l.usd.toFixed(2)} |`);
  for (const env of environmentsOf(estimate.lines).filter((e) => e !== 'account'))
    rows.push(`| **${env}** | **total** | | **${totalUsd(estimate.lines, env).toFixed(2)}** |`);
  rows.push(`| **all** | **total** | | **${totalUsd(estimate.lines).toFixed(2)}** |`);
  return [rows.join('\n'), formatNotEstimated(estimate.notEstimated)].filter(Boolean).join('\n\n');
}

/** The resources without a price, one line each (empty when there are none). */
export function formatNotEstimated(items: readonly NotEstimated[]): string {
  if (items.length === 0) return '';
  return [`**Not estimated** (${items.length}; not counted in the totals):`, ...items.map((i) => `- ${i.environment}: ${i.subject}: ${i.reason}`)].join('\n');
}

/** Heading of every printed estimate: where the prices come from and when. */
export const PRICES_HEADING = `us-east-1, on-demand prices of ${PRICES.recorded}, Spot prices of ${SPOT_PRICES.recorded} (lib/cost/prices.ts)`;
