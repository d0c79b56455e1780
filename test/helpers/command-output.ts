import { type CloudWatchLogsClient, type FilteredLogEvent, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { SendCommandCommand, type SendCommandCommandInput, type SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';

type LogsMock = AwsClientStub<CloudWatchLogsClient>;
type SsmMock = AwsClientStub<SSMClient>;

import { OUTCOME_MARKER } from '../../lib/host-runtime/outcome';
import type { WaitOptions } from '../../scripts/ops/aws/run-command';

/** What a host document printed, as the tests make SSM and CloudWatch Logs report it. */
export interface HostAnswer {
  readonly stdout?: string;
  readonly stderr?: string;
  /** The marker's exit code; undefined: no marker (killed, or still running). */
  readonly exitCode?: number;
}

/** Waits of milliseconds instead of seconds, silent: the waiter's machinery, not its pace, is under test. */
export const fastWait: WaitOptions = { minDelaySeconds: 0.001, maxDelaySeconds: 0.002, settleMs: 0, progress: () => undefined };

/**
 * The log events SSM's agent uploads for one command: one event per stdout line in stream
 * `<commandId>/<instanceId>/<step>/stdout`, then the marker line the document's EXIT trap prints,
 * and the stderr lines in `.../stderr`.
 */
export function commandEvents(commandId: string, instanceId: string, answer: HostAnswer, step = 'step'): FilteredLogEvent[] {
  const lines = (text: string | undefined) => (text ? text.replace(/\n$/, '').split('\n') : []);
  const stream = (kind: string) => `${commandId}/${instanceId}/${step}/${kind}`;
  let t = 1_700_000_000_000;
  const events: FilteredLogEvent[] = [
    ...lines(answer.stdout).map((message) => ({ logStreamName: stream('stdout'), timestamp: t++, message })),
    ...(answer.exitCode === undefined ? [] : [{ logStreamName: stream('stdout'), timestamp: t++, message: `${OUTCOME_MARKER} ${answer.exitCode}` }]),
    ...lines(answer.stderr).map((message) => ({ logStreamName: stream('stderr'), timestamp: t++, message })),
  ];
  return events.map((e, i) => ({ ...e, eventId: `${commandId}-${i}` }));
}

/** Makes CloudWatch Logs return `answer` for one command, in one page. */
export function answerCommand(logs: LogsMock, commandId: string, instanceId: string, answer: HostAnswer): void {
  logs.on(FilterLogEventsCommand, { logStreamNamePrefix: `${commandId}/${instanceId}/` }).resolves({ events: commandEvents(commandId, instanceId, answer) });
}

/** Every SendCommand gets the id `cmd-<n>` and its output from `answer(input)`. */
export function answerEveryCommand(ssm: SsmMock, logs: LogsMock, answer: (input: SendCommandCommandInput, n: number) => HostAnswer): void {
  let n = 0;
  ssm.on(SendCommandCommand).callsFake((input: SendCommandCommandInput) => {
    n += 1;
    answerCommand(logs, `cmd-${n}`, input.InstanceIds?.[0] ?? '', answer(input, n));
    return { Command: { CommandId: `cmd-${n}` } };
  });
}
