import { GetCommandInvocationCommand, InvocationDoesNotExist, SendCommandCommand, type SendCommandCommandInput, type SSMClient } from '@aws-sdk/client-ssm';

/** How a host command ended, as SSM reports it. */
export interface CommandResult {
  readonly commandId: string;
  /** SSM's final status: Success, Failed, TimedOut, Cancelled, ... */
  readonly status: string;
  /** The script's exit code; -1 when SSM has none (e.g. delivery timed out). */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface WaitOptions {
  /** Milliseconds between polls. @default 2000 */
  readonly pollIntervalMs?: number;
  /** Give up waiting after this many milliseconds (the command keeps running on the host). @default 900000 */
  readonly timeoutMs?: number;
  /** Injected for tests. @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
}

const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled', 'Cancelling', 'DeliveryTimedOut', 'ExecutionTimedOut', 'Undeliverable', 'Terminated', 'InvalidPlatform', 'AccessDenied']);

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends a command and waits for its one invocation to finish. The only place the ops CLI talks to
 * SSM's command APIs; everything it sends is built by pure functions in `commands/`.
 */
export async function runCommand(client: SSMClient, input: SendCommandCommandInput, options: WaitOptions = {}): Promise<CommandResult> {
  const instanceId = input.InstanceIds?.[0];
  if (!instanceId || input.InstanceIds?.length !== 1) throw new Error('runCommand targets exactly one instance id');
  const sent = await client.send(new SendCommandCommand(input));
  const commandId = sent.Command?.CommandId;
  if (!commandId) throw new Error(`SSM accepted ${input.DocumentName} but returned no command id`);

  const sleep = options.sleep ?? defaultSleep;
  const interval = options.pollIntervalMs ?? 2000;
  const deadline = Date.now() + (options.timeoutMs ?? 900_000);
  for (;;) {
    await sleep(interval);
    try {
      const invocation = await client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
      const status = invocation.Status ?? 'Pending';
      if (TERMINAL.has(status)) {
        return {
          commandId,
          status,
          exitCode: invocation.ResponseCode ?? -1,
          stdout: invocation.StandardOutputContent ?? '',
          stderr: invocation.StandardErrorContent ?? '',
        };
      }
    } catch (error) {
      // Right after SendCommand the invocation may not exist yet: keep polling.
      if (!(error instanceof InvocationDoesNotExist)) throw error;
    }
    if (Date.now() > deadline) {
      throw new Error(`command ${commandId} (${input.DocumentName}) still running after ${Math.round((options.timeoutMs ?? 900_000) / 1000)} s; check it with: aws ssm list-command-invocations --command-id ${commandId} --details`);
    }
  }
}
