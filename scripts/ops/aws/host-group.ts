import {
  type AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';

/*
 * The environment's host is whichever instance its Auto Scaling group of one runs now: ops asks the
 * group (DescribeAutoScalingGroups), never a stack output with a fixed instance id.
 */

async function describeGroup(client: AutoScalingClient, groupName: string): Promise<AutoScalingGroup> {
  const result = await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }));
  const group = result.AutoScalingGroups?.[0];
  if (!group) throw new Error(`the host group ${groupName} does not exist in this account and region (deploy the host stack first)`);
  return group;
}

const inService = (group: AutoScalingGroup) => (group.Instances ?? []).filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId as string);

/** The id of the one instance in service in the group; an error that says why there is none. */
export async function currentInstanceId(client: AutoScalingClient, groupName: string): Promise<string> {
  const group = await describeGroup(client, groupName);
  const ids = inService(group);
  if (ids.length === 1) return ids[0];
  if (ids.length > 1)
    throw new Error(`the host group ${groupName} has ${ids.length} instances in service (${ids.join(', ')}); it should run one: check its capacity`);
  const others = (group.Instances ?? []).map((i) => `${i.InstanceId} ${i.LifecycleState}`).join(', ');
  throw new Error(
    `no instance of the host group ${groupName} is in service (desired capacity ${group.DesiredCapacity ?? '?'}${others ? `; ${others}` : ''}): outside working hours, or a replacement is under way; try again when one is InService`,
  );
}

/** How `replaceHost` waits and what it checks; time and sleep are injected so tests run instantly. */
export interface ReplaceOptions {
  /** True once the environment's public health check passes on the new host. */
  readonly healthy: () => Promise<boolean>;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 10 */
  readonly pollSeconds?: number;
  /** Gives up (and says where it stopped) after this long. @default 1800 */
  readonly timeoutSeconds?: number;
  readonly progress?: (line: string) => void;
}

/** What a replacement measured: each moment in ms since the epoch, undefined when not reached. */
export interface Replacement {
  readonly ok: boolean;
  readonly refreshId: string;
  readonly oldInstanceId: string;
  readonly newInstanceId?: string;
  /** The old instance left service (Terminating, or gone from the group). */
  readonly oldLeftAt?: number;
  /** The new instance reached InService (booted, volume attached, address moved, app started). */
  readonly newInServiceAt?: number;
  /** The public health check first passed. */
  readonly healthyAt?: number;
  /** healthyAt - oldLeftAt: what users saw. */
  readonly outageMs?: number;
  readonly problem?: string;
}

/**
 * Replaces the host on purpose with an instance refresh at 0 % minimum healthy: the data volume
 * attaches to one instance at a time, so the old host stops (clean stop, volume detached) before the
 * new one can serve. Measures the outage from the old instance leaving service to the first passing
 * health check of the new one.
 */
export async function replaceHost(client: AutoScalingClient, groupName: string, options: ReplaceOptions): Promise<Replacement> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = (options.pollSeconds ?? 10) * 1000;
  const deadline = now() + (options.timeoutSeconds ?? 1800) * 1000;
  const progress = options.progress ?? (() => {});
  const oldInstanceId = await currentInstanceId(client, groupName);

  const started = await client.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: groupName,
      Strategy: 'Rolling',
      Preferences: { MinHealthyPercentage: 0, MaxHealthyPercentage: 100, SkipMatching: false },
    }),
  );
  const refreshId = started.InstanceRefreshId;
  if (!refreshId) throw new Error(`Auto Scaling accepted the instance refresh of ${groupName} but returned no id`);
  progress(`instance refresh ${refreshId} started; ${oldInstanceId} is replaced`);

  let oldLeftAt: number | undefined;
  let newInServiceAt: number | undefined;
  let newInstanceId: string | undefined;
  const result = (fields: Partial<Replacement>): Replacement => ({ ok: false, refreshId, oldInstanceId, newInstanceId, oldLeftAt, newInServiceAt, ...fields });

  for (;;) {
    const group = await describeGroup(client, groupName);
    const at = now();
    const old = group.Instances?.find((i) => i.InstanceId === oldInstanceId);
    if (oldLeftAt === undefined && old?.LifecycleState !== 'InService') {
      oldLeftAt = at;
      progress(`${oldInstanceId} left service (${old?.LifecycleState ?? 'gone'})`);
    }
    const fresh = inService(group).find((id) => id !== oldInstanceId);
    if (fresh && newInServiceAt === undefined) {
      newInstanceId = fresh;
      newInServiceAt = at;
      progress(`${fresh} is in service; waiting for the health check`);
    }
    if (newInServiceAt !== undefined && (await options.healthy())) {
      const healthyAt = now();
      return result({ ok: true, healthyAt, outageMs: oldLeftAt === undefined ? 0 : healthyAt - oldLeftAt });
    }
    const refresh = (await client.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: groupName, InstanceRefreshIds: [refreshId] })))
      .InstanceRefreshes?.[0];
    if (refresh && ['Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'].includes(refresh.Status ?? '')) {
      return result({ problem: `instance refresh ${refreshId} ended ${refresh.Status}${refresh.StatusReason ? `: ${refresh.StatusReason}` : ''}` });
    }
    if (now() >= deadline) {
      const where =
        newInServiceAt !== undefined
          ? `${newInstanceId} is in service but the health check has not passed`
          : oldLeftAt !== undefined
            ? 'no new instance is in service yet'
            : `${oldInstanceId} has not left service`;
      return result({
        problem: `gave up after ${options.timeoutSeconds ?? 1800} s: ${where} (instance refresh ${refreshId} is ${refresh?.Status ?? 'unknown'})`,
      });
    }
    await sleep(pollMs);
  }
}

/** `4 min 12 s` */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** The report lines of one replacement. */
export function replacementReport(env: string, groupName: string, r: Replacement): string {
  const iso = (ms?: number) => (ms === undefined ? 'not reached' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));
  const parts = `old left service ${iso(r.oldLeftAt)}, new in service ${iso(r.newInServiceAt)}, health check passed ${iso(r.healthyAt)}`;
  if (r.ok)
    return `[${env}] replace-host: ${r.oldInstanceId} → ${r.newInstanceId}; outage ${formatDuration(r.outageMs ?? 0)} (${parts}; instance refresh ${r.refreshId})`;
  return `[${env}] replace-host FAILED: ${r.problem} (${parts}); see the group's activity: aws autoscaling describe-scaling-activities --auto-scaling-group-name ${groupName}`;
}
