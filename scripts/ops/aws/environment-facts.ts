import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { AlarmFact, HealthFact } from '../commands/validate';
import { stackOutputs } from './stack-outputs';

/** Which stacks exist, by name; a missing stack is `false`, any other error propagates. */
export async function deployedStacks(client: CloudFormationClient, stackNames: readonly string[]): Promise<Record<string, boolean>> {
  const result: Record<string, boolean> = {};
  for (const name of stackNames) {
    try {
      await stackOutputs(client, name);
      result[name] = true;
    } catch (error) {
      if (!/is not deployed/.test((error as Error).message)) throw error;
      result[name] = false;
    }
  }
  return result;
}

/** The SSM agent's ping status for an instance, or undefined when SSM does not know it. */
export async function ssmPingStatus(client: SSMClient, instanceId: string): Promise<string | undefined> {
  const info = await client.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }));
  return info.InstanceInformationList?.[0]?.PingStatus;
}

/** Alarms whose names start with `prefix` (the app's alarms are named `<app>-...-<env>`). */
export async function alarmsWithPrefix(client: CloudWatchClient, prefix: string): Promise<AlarmFact[]> {
  const alarms: AlarmFact[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, NextToken: nextToken }));
    for (const alarm of page.MetricAlarms ?? []) alarms.push({ name: alarm.AlarmName ?? '?', state: alarm.StateValue ?? 'INSUFFICIENT_DATA' });
    nextToken = page.NextToken;
  } while (nextToken);
  return alarms;
}

/** GET the health URL with a timeout; a failure to connect is a fact, not an exception. */
export async function probeHealth(url: string, timeoutMs = 10_000, fetchImpl: typeof fetch = fetch): Promise<HealthFact> {
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    return { url, status: response.status };
  } catch (error) {
    return { url, error: (error as Error).message };
  }
}
