import type { SendCommandCommandInput } from '@aws-sdk/client-ssm';
import type { HostOperation } from '../../../lib/host-runtime/document-spec';
import { hostDocumentName, logGroupNames } from '../../../lib/names';

/** Where a host command goes: one environment's instance. */
export interface HostTarget {
  /** App name from the config. */
  readonly app: string;
  /** Environment name from the config. */
  readonly env: string;
  /** EC2 instance id, read from the host stack's outputs. */
  readonly instanceId: string;
}

export interface HostCommandOptions {
  /** Shown in SSM's command history: who and why. */
  readonly comment: string;
  /** Seconds SSM waits for the instance to pick the command up. @default 120 */
  readonly deliveryTimeoutSeconds?: number;
}

/**
 * The SSM `SendCommand` input that runs one of the host's reviewed documents on one instance.
 * Targets the instance by id (never by tag) so a command cannot fan out to another environment,
 * and ships output to the environment's command log group: ops reads the outcome and the whole
 * output there (SSM's inline output stops at 24,000 characters, and reading it needs
 * ssm:GetCommandInvocation, which the deploy role does not have).
 */
export function hostCommandInput(
  target: HostTarget,
  operation: HostOperation,
  parameters: Readonly<Record<string, string>>,
  options: HostCommandOptions,
): SendCommandCommandInput {
  return {
    DocumentName: hostDocumentName(target.app, target.env, operation),
    // The documents are updated in place as new versions: run the newest, the one CloudFormation
    // deployed from the reviewed scripts, not whatever version is marked default.
    DocumentVersion: '$LATEST',
    InstanceIds: [target.instanceId],
    Parameters: Object.fromEntries(Object.entries(parameters).map(([name, value]) => [name, [value]])),
    Comment: options.comment.slice(0, 100),
    TimeoutSeconds: options.deliveryTimeoutSeconds ?? 120,
    CloudWatchOutputConfig: {
      CloudWatchOutputEnabled: true,
      CloudWatchLogGroupName: logGroupNames.commands(target.app, target.env),
    },
  };
}
