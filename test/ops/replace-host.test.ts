import {
  AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { currentInstanceId, replaceHost, replacementReport } from '../../scripts/ops/aws/host-group';
import { parseArgs } from '../../scripts/ops/commands/parse-args';
import { runOps } from '../../scripts/ops/ops';
import { shippedConfig } from '../helpers/synth';

/*
 * replace-host and the group lookup with the Auto Scaling API mocked at the network edge: the group
 * moves through the states an instance refresh at 0 % healthy takes it through, one state per poll,
 * on a fake clock (10 s per poll), so the measured outage is exact.
 */

const autoscaling = mockClient(AutoScalingClient);
const GROUP = 'auraxis-prod-host';

const group = (...instances: [string, string][]): { AutoScalingGroups: AutoScalingGroup[] } => ({
  AutoScalingGroups: [
    {
      AutoScalingGroupName: GROUP,
      MinSize: 1,
      MaxSize: 1,
      DesiredCapacity: 1,
      DefaultCooldown: 300,
      AvailabilityZones: ['us-east-1a'],
      HealthCheckType: 'EC2',
      CreatedTime: new Date(0),
      Instances: instances.map(([InstanceId, LifecycleState]) => ({
        InstanceId,
        LifecycleState: LifecycleState as never,
        HealthStatus: 'Healthy',
        AvailabilityZone: 'us-east-1a',
        ProtectedFromScaleIn: false,
      })),
    },
  ],
});

/** A clock that moves only when the code under test sleeps. */
function fakeTime(start = Date.parse('2026-12-06T06:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

/** The group's states, one per DescribeAutoScalingGroups call; the last one repeats. */
function groupStates(...states: ReturnType<typeof group>[]) {
  const stub = autoscaling.on(DescribeAutoScalingGroupsCommand);
  for (const state of states.slice(0, -1)) stub.resolvesOnce(state);
  stub.resolves(states[states.length - 1]);
}

beforeEach(() => {
  autoscaling.reset();
  autoscaling.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'refresh-1' });
  autoscaling.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [{ InstanceRefreshId: 'refresh-1', Status: 'InProgress' }] });
});

describe('currentInstanceId', () => {
  test('the one instance in service, whatever else the group holds', async () => {
    groupStates(group(['i-old', 'Terminating:Wait'], ['i-new', 'InService']));
    await expect(currentInstanceId(new AutoScalingClient({}), GROUP)).resolves.toBe('i-new');
    expect(autoscaling).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [GROUP] });
  });

  test('none in service: says why, with the desired capacity and what the group holds', async () => {
    groupStates(group(['i-new', 'Pending']));
    await expect(currentInstanceId(new AutoScalingClient({}), GROUP)).rejects.toThrow(
      'no instance of the host group auraxis-prod-host is in service (desired capacity 1; i-new Pending): outside working hours, or a replacement is under way; try again when one is InService',
    );
  });

  test('no group: names it and what fixes it', async () => {
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    await expect(currentInstanceId(new AutoScalingClient({}), GROUP)).rejects.toThrow(
      'the host group auraxis-prod-host does not exist in this account and region (deploy the host stack first)',
    );
  });
});

describe('replaceHost', () => {
  test('an instance refresh at 0 % healthy; the outage runs from the old instance leaving service to the first passing health check', async () => {
    const time = fakeTime();
    groupStates(
      group(['i-old', 'InService']), // the lookup before the refresh
      group(['i-old', 'InService']), // poll 1, t=0
      group(['i-old', 'Terminating:Wait']), // poll 2, t=10: the clean stop runs
      group(['i-new', 'Pending']), // poll 3, t=20
      group(['i-new', 'Pending:Wait']), // poll 4, t=30
      group(['i-new', 'InService']), // poll 5, t=40: booted, volume, address, app
    );
    const health = [false, false, true]; // polls 5, 6, 7
    const result = await replaceHost(new AutoScalingClient({}), GROUP, { healthy: async () => health.shift() ?? true, ...time });

    expect(autoscaling).toHaveReceivedCommandWith(StartInstanceRefreshCommand, {
      AutoScalingGroupName: GROUP,
      Strategy: 'Rolling',
      Preferences: { MinHealthyPercentage: 0, MaxHealthyPercentage: 100, SkipMatching: false },
    });
    const t0 = Date.parse('2026-12-06T06:00:00Z');
    expect(result).toEqual({
      ok: true,
      refreshId: 'refresh-1',
      oldInstanceId: 'i-old',
      newInstanceId: 'i-new',
      oldLeftAt: t0 + 10_000,
      newInServiceAt: t0 + 40_000,
      healthyAt: t0 + 60_000,
      outageMs: 50_000,
    });
    expect(replacementReport('prod', GROUP, result)).toBe(
      '[prod] replace-host: i-old → i-new; outage 50 s (old left service 2026-12-06T06:00:10Z, new in service 2026-12-06T06:00:40Z, health check passed 2026-12-06T06:01:00Z; instance refresh refresh-1)',
    );
  });

  test('a refresh that fails is reported as failed, with its reason and where it stopped', async () => {
    const time = fakeTime();
    groupStates(group(['i-old', 'InService']), group(['i-old', 'InService']), group());
    autoscaling
      .on(DescribeInstanceRefreshesCommand)
      .resolves({ InstanceRefreshes: [{ InstanceRefreshId: 'refresh-1', Status: 'Failed', StatusReason: 'launch failed: InsufficientInstanceCapacity' }] });
    const result = await replaceHost(new AutoScalingClient({}), GROUP, { healthy: async () => true, ...time });
    expect(result.ok).toBe(false);
    expect(replacementReport('prod', GROUP, result)).toBe(
      "[prod] replace-host FAILED: instance refresh refresh-1 ended Failed: launch failed: InsufficientInstanceCapacity (old left service not reached, new in service not reached, health check passed not reached); see the group's activity: aws autoscaling describe-scaling-activities --auto-scaling-group-name auraxis-prod-host",
    );
  });

  test('a new host that never passes the health check: gives up at the timeout and says so, never ok', async () => {
    const time = fakeTime();
    groupStates(group(['i-old', 'InService']), group(['i-new', 'InService']));
    const result = await replaceHost(new AutoScalingClient({}), GROUP, { healthy: async () => false, timeoutSeconds: 60, ...time });
    expect(result).toMatchObject({
      ok: false,
      newInstanceId: 'i-new',
      problem: 'gave up after 60 s: i-new is in service but the health check has not passed (instance refresh refresh-1 is InProgress)',
    });
  });

  test('the health check is not asked before a new instance is in service (the old one may still answer)', async () => {
    const time = fakeTime();
    groupStates(group(['i-old', 'InService']), group(['i-old', 'InService']), group(['i-old', 'Terminating']), group(['i-new', 'InService']));
    const asked: number[] = [];
    await replaceHost(new AutoScalingClient({}), GROUP, {
      healthy: async () => {
        asked.push(time.now());
        return true;
      },
      ...time,
    });
    expect(asked).toEqual([Date.parse('2026-12-06T06:00:20Z')]);
  });
});

describe('ops replace-host', () => {
  test('probes the environment’s public health URL and reports the measured outage; exit 0 only when healthy', async () => {
    const time = fakeTime();
    groupStates(group(['i-old', 'InService']), group(['i-old', 'Terminating:Wait']), group(['i-new', 'InService']));
    const urls: string[] = [];
    const fetchImpl = (async (url: string) => {
      urls.push(String(url));
      return new Response('ok', { status: 200 });
    }) as unknown as typeof fetch;
    const outcome = await runOps(
      { config: shippedConfig(), actor: 'tester', fetchImpl, now: time.now, sleep: time.sleep, progress: () => {} },
      parseArgs(['replace-host', '--env', 'prod'], ['dev', 'prod']),
    );
    expect(outcome.ok).toBe(true);
    expect(outcome.text).toMatch(/^\[prod\] replace-host: i-old → i-new; outage 10 s \(/);
    expect(urls).toEqual(['https://api.auraxis.com.br/healthz']);
    expect(autoscaling).toHaveReceivedCommandWith(StartInstanceRefreshCommand, { AutoScalingGroupName: 'auraxis-prod-host' });
  });
});
