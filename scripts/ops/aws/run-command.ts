import { type CloudWatchLogsClient, type FilteredLogEvent, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { SendCommandCommand, type SendCommandCommandInput, type SSMClient } from '@aws-sdk/client-ssm';
import { createWaiter, WaiterState } from '@smithy/core/client';
import { parseOutcome } from '../../../lib/host-runtime/outcome';
import { filterEventPages } from './logs';

/**
 * Exit code of ops when no outcome marker arrived within the wait: the command may still run, or
 * was killed without reporting. Not an exit code of any host script (sysexits' EX_UNAVAILABLE).
 */
export const NO_OUTCOME_EXIT_CODE = 69;

/** How a host command ended, as its document reported it in the command log group. */
export interface CommandResult {
  readonly commandId: string;
  readonly instanceId: string;
  /** `Success` (marker 0), `Failed` (marker non-zero) or `NoOutcome` (no marker within the wait). */
  readonly status: 'Success' | 'Failed' | 'NoOutcome';
  /** The script's exit code from the marker; `NO_OUTCOME_EXIT_CODE` when none arrived. */
  readonly exitCode: number;
  /** Standard output without the marker, read whole from the log group. */
  readonly stdout: string;
  readonly stderr: string;
  /** Seconds from sending to the outcome (or to giving up). */
  readonly waitedSeconds: number;
}

export interface WaitOptions {
  /** Seconds the document may run (its `timeoutSeconds`); the wait adds SendCommand's delivery timeout and `marginSeconds`. @default 600 */
  readonly executionTimeoutSeconds?: number;
  /** Seconds added to the wait for SSM to deliver and the agent to upload the last lines. @default 60 */
  readonly marginSeconds?: number;
  /** Overrides the whole wait. @default - the input's delivery timeout + `executionTimeoutSeconds` + `marginSeconds` */
  readonly maxWaitSeconds?: number;
  /** Shortest and longest pause between reads of the log group (the waiter backs off between them). @default 2 and 10 */
  readonly minDelaySeconds?: number;
  readonly maxDelaySeconds?: number;
  /** Pause after the marker before the last read, so stderr lines uploaded a moment later are not lost. @default 2000 */
  readonly settleMs?: number;
  /** Names the wait in progress lines, e.g. `deploy dev`. @default the document name */
  readonly label?: string;
  /** Where progress goes. @default one line on stderr per read */
  readonly progress?: (line: string) => void;
}

/** Output of one command so far, from its streams `<commandId>/<instanceId>/<step>/stdout|stderr`. */
interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: number;
}

/** Every event of the command's streams, oldest first, joined per stream: output longer than SSM's 24,000 characters arrives whole. */
export async function readCommandOutput(logs: CloudWatchLogsClient, logGroupName: string, commandId: string, instanceId: string): Promise<CommandOutput> {
  const events: FilteredLogEvent[] = [];
  try {
    for await (const page of filterEventPages(logs, { logGroupName, logStreamNamePrefix: `${commandId}/${instanceId}/` })) events.push(...page);
  } catch (error) {
    // No group, no outcome ever: say so at once rather than wait out the document's timeout.
    if (error instanceof ResourceNotFoundException) {
      throw new Error(
        `command ${commandId} was sent, but its output log group ${logGroupName} does not exist, so its outcome cannot be read: deploy the environment's data stack (npm run ops -- stacks --env <env> lists it)`,
      );
    }
    throw error;
  }
  // Stable sort: events of one millisecond keep the order CloudWatch returned them in.
  events.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
  const join = (suffix: string) =>
    events
      .filter((e) => e.logStreamName?.endsWith(suffix))
      .map((e) => (e.message ?? '').replace(/\n?$/, '\n'))
      .join('');
  const stdout = join('/stdout');
  const stderr = join('/stderr');
  return { stdout, stderr, lines: `${stdout}${stderr}`.split('\n').length - 1 };
}

const defaultProgress = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Sends a command and waits for its outcome in the environment's command log group (the input's
 * `CloudWatchOutputConfig`): every host document prints `OUTCOME_MARKER <code>` as its last stdout
 * line (lib/host-runtime/outcome.ts). The wait is the SDK's waiter machinery (`createWaiter`, with
 * its backoff) with an acceptor that reads the group, because SDK's `waitUntilCommandExecuted`
 * calls ssm:GetCommandInvocation, which IAM cannot limit to one instance (docs/aws.md). Never
 * reports success without the marker saying 0.
 */
export async function runCommand(
  ssm: SSMClient,
  logs: CloudWatchLogsClient,
  input: SendCommandCommandInput,
  options: WaitOptions = {},
): Promise<CommandResult> {
  const instanceId = input.InstanceIds?.[0];
  if (!instanceId || input.InstanceIds?.length !== 1) throw new Error('runCommand targets exactly one instance id');
  const logGroupName = input.CloudWatchOutputConfig?.CloudWatchOutputEnabled ? input.CloudWatchOutputConfig.CloudWatchLogGroupName : undefined;
  if (!logGroupName) throw new Error(`runCommand needs CloudWatchOutputConfig with a log group: the outcome of ${input.DocumentName} is read from there`);
  const sent = await ssm.send(new SendCommandCommand(input));
  const commandId = sent.Command?.CommandId;
  if (!commandId) throw new Error(`SSM accepted ${input.DocumentName} but returned no command id`);

  const progress = options.progress ?? defaultProgress;
  const label = options.label ?? input.DocumentName;
  const maxWaitTime = options.maxWaitSeconds ?? (input.TimeoutSeconds ?? 0) + (options.executionTimeoutSeconds ?? 600) + (options.marginSeconds ?? 60);
  const started = Date.now();
  let latest: CommandOutput = { stdout: '', stderr: '', lines: 0 };
  const result = await createWaiter(
    { client: logs, minDelay: options.minDelaySeconds ?? 2, maxDelay: options.maxDelaySeconds ?? 10, maxWaitTime },
    undefined,
    async () => {
      latest = await readCommandOutput(logs, logGroupName, commandId, instanceId);
      const seen = parseOutcome(latest.stdout).exitCode !== undefined;
      const elapsed = Math.round((Date.now() - started) / 1000);
      progress(`${label}: ${seen ? 'finished' : 'waiting'} ${elapsed} s (output lines: ${latest.lines}${latest.lines === 0 ? ', none uploaded yet' : ''})`);
      return { state: seen ? WaiterState.SUCCESS : WaiterState.RETRY };
    },
  );

  if (result.state === WaiterState.SUCCESS) {
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 2000));
    latest = await readCommandOutput(logs, logGroupName, commandId, instanceId);
  }
  const outcome = parseOutcome(latest.stdout);
  const waitedSeconds = Math.round((Date.now() - started) / 1000);
  if (outcome.exitCode === undefined) {
    return { commandId, instanceId, status: 'NoOutcome', exitCode: NO_OUTCOME_EXIT_CODE, stdout: latest.stdout, stderr: latest.stderr, waitedSeconds };
  }
  return {
    commandId,
    instanceId,
    status: outcome.exitCode === 0 ? 'Success' : 'Failed',
    exitCode: outcome.exitCode,
    stdout: outcome.output,
    stderr: latest.stderr,
    waitedSeconds,
  };
}

/** The one line ops prints when no outcome arrived (see `NO_OUTCOME_EXIT_CODE`). */
export function noOutcomeLine(document: string, instanceId: string, waitedSeconds: number, env: string): string {
  return `no outcome reported by ${document} on ${instanceId} within ${waitedSeconds} s: it may still be running or was killed; see \`npm run ops -- logs --env ${env}\``;
}
