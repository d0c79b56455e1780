import 'aws-sdk-client-mock-jest';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { OUTCOME_MARKER } from '../../lib/host-runtime/outcome';
import { NO_OUTCOME_EXIT_CODE, runCommand, type WaitOptions } from '../../scripts/ops/aws/run-command';
import { parseArgs } from '../../scripts/ops/commands/parse-args';
import { runOps } from '../../scripts/ops/ops';
import { answerCommand, commandEvents, fastWait } from '../helpers/command-output';
import { shippedConfig } from '../helpers/config-fixtures';
import { inService } from '../helpers/host-group';

/*
 * The ops CLI end to end with the AWS SDK mocked at the network edge: what is sent to SSM,
 * CloudFormation and CloudWatch, and what the operator is told.
 */

const ssm = mockClient(SSMClient);
const autoscaling = mockClient(AutoScalingClient);
const cfn = mockClient(CloudFormationClient);
const cloudwatch = mockClient(CloudWatchClient);
const logs = mockClient(CloudWatchLogsClient);
const noWait = fastWait;

function deployedOutputs(stack: string, outputs: Record<string, string>) {
  cfn.on(DescribeStacksCommand, { StackName: stack }).resolves({
    Stacks: [
      {
        StackName: stack,
        CreationTime: new Date(0),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

beforeEach(() => {
  ssm.reset();
  autoscaling.reset();
  cfn.reset();
  cloudwatch.reset();
  logs.reset();
});

describe('runCommand: the outcome from the command log group', () => {
  const input = {
    DocumentName: 'doc',
    InstanceIds: ['i-1'],
    TimeoutSeconds: 0,
    CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/auraxis/dev/commands' },
  };
  const run = (options: WaitOptions = {}) => runCommand(new SSMClient({}), new CloudWatchLogsClient({}), input, { ...fastWait, ...options });

  test('marker 0: Success, exit 0, the output without the marker, read from the streams of this command only', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    answerCommand(logs, 'cmd-1', 'i-1', { stdout: 'deployed v2\n', stderr: 'a warning\n', exitCode: 0 });

    const result = await run();

    expect(result).toMatchObject({ commandId: 'cmd-1', instanceId: 'i-1', status: 'Success', exitCode: 0, stdout: 'deployed v2\n', stderr: 'a warning\n' });
    expect(logs).toHaveReceivedCommandWith(FilterLogEventsCommand, { logGroupName: '/auraxis/dev/commands', logStreamNamePrefix: 'cmd-1/i-1/' });
    expect(ssm).not.toHaveReceivedCommand(GetCommandInvocationCommand);
  });

  test('keeps waiting while output arrives without the marker, then reports what the marker says', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [] })
      .resolvesOnce({ events: commandEvents('cmd-2', 'i-1', { stdout: 'building\n' }) })
      .resolves({ events: commandEvents('cmd-2', 'i-1', { stdout: 'building\nhealth check failed\n', exitCode: 3 }) });
    const progress: string[] = [];

    const result = await run({ progress: (line) => progress.push(line) });

    expect(result).toMatchObject({ status: 'Failed', exitCode: 3, stdout: 'building\nhealth check failed\n' });
    // Progress on stderr while waiting: the label, the elapsed time and the output seen so far.
    expect(progress[0]).toMatch(/^doc: waiting \d+ s \(output lines: 0, none uploaded yet\)$/);
    expect(progress[1]).toMatch(/^doc: waiting \d+ s \(output lines: 1\)$/);
    expect(progress.at(-1)).toMatch(/^doc: finished \d+ s \(output lines: 3\)$/);
  });

  test('progress goes to stderr by default', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-p' } });
    answerCommand(logs, 'cmd-p', 'i-1', { stdout: 'ok\n', exitCode: 0 });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await runCommand(new SSMClient({}), new CloudWatchLogsClient({}), input, { ...fastWait, progress: undefined, label: 'deploy dev' });
      expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/^deploy dev: finished \d+ s \(output lines: 2\)\n$/));
    } finally {
      stderr.mockRestore();
    }
  });

  test('the wait is the delivery timeout, the document timeout and a margin', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-w' } });
    answerCommand(logs, 'cmd-w', 'i-1', {});
    // 0 + 0 + 0.05 s: the same deadline as maxWaitSeconds 0.05 below, from its parts.
    expect(await run({ executionTimeoutSeconds: 0, marginSeconds: 0.05 })).toMatchObject({ status: 'NoOutcome' });
  });

  test('no marker before the deadline: NoOutcome and the distinct exit code, never a success', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-3' } });
    answerCommand(logs, 'cmd-3', 'i-1', { stdout: 'deploying\nstill deploying\n' });

    const result = await run({ maxWaitSeconds: 0.05 });

    expect(result).toMatchObject({ status: 'NoOutcome', exitCode: NO_OUTCOME_EXIT_CODE, stdout: 'deploying\nstill deploying\n' });
    expect(NO_OUTCOME_EXIT_CODE).not.toBe(0);
  });

  test('a marker that is not on the last line does not count', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-4' } });
    answerCommand(logs, 'cmd-4', 'i-1', { stdout: `${OUTCOME_MARKER} 0\nstill running\n` });
    expect(await run({ maxWaitSeconds: 0.05 })).toMatchObject({ status: 'NoOutcome', exitCode: NO_OUTCOME_EXIT_CODE });
  });

  test('output longer than SSM inline 24,000 characters is read whole, across pages', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-5' } });
    const lines = Array.from({ length: 600 }, (_, i) => `line ${String(i).padStart(4, '0')} ${'x'.repeat(60)}`);
    const events = commandEvents('cmd-5', 'i-1', { stdout: `${lines.join('\n')}\n`, exitCode: 0 });
    logs
      .on(FilterLogEventsCommand, { logStreamNamePrefix: 'cmd-5/i-1/' })
      .resolves({ events: events.slice(0, 300), nextToken: 'page-2' })
      .on(FilterLogEventsCommand, { logStreamNamePrefix: 'cmd-5/i-1/', nextToken: 'page-2' })
      .resolves({ events: events.slice(300) });

    const result = await run();

    expect(result.stdout.length).toBeGreaterThan(24_000);
    expect(result.stdout).toBe(`${lines.join('\n')}\n`);
    expect(result.exitCode).toBe(0);
    expect(logs).toHaveReceivedCommandWith(FilterLogEventsCommand, { logStreamNamePrefix: 'cmd-5/i-1/', nextToken: 'page-2' });
  });

  test('a missing command log group is one clear error at the first read, not a wait until the deadline', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-6' } });
    logs.on(FilterLogEventsCommand).rejects(new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} }));
    await expect(run()).rejects.toThrow(
      "command cmd-6 was sent, but its output log group /auraxis/dev/commands does not exist, so its outcome cannot be read: deploy the environment's data stack (npm run ops -- stacks --env <env> lists it)",
    );
    expect(logs).toHaveReceivedCommandTimes(FilterLogEventsCommand, 1);
  });

  test('refuses a command without a CloudWatch output group, and more than one instance, before sending', async () => {
    await expect(runCommand(new SSMClient({}), new CloudWatchLogsClient({}), { DocumentName: 'doc', InstanceIds: ['i-1'] }, fastWait)).rejects.toThrow(
      'runCommand needs CloudWatchOutputConfig with a log group: the outcome of doc is read from there',
    );
    await expect(runCommand(new SSMClient({}), new CloudWatchLogsClient({}), { ...input, InstanceIds: ['i-1', 'i-2'] }, fastWait)).rejects.toThrow(
      'exactly one instance',
    );
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
  });
});

describe('ops deploy', () => {
  const config = shippedConfig();
  const ctx = { config, actor: 'ana', wait: noWait };

  test('sends the prod deploy document to the instance from the host stack outputs', async () => {
    deployedOutputs('auraxis-prod-host', {});
    inService(autoscaling, 'auraxis-prod-host', 'i-0prod');
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-9' } });
    answerCommand(logs, 'cmd-9', 'i-0prod', { stdout: 'release v2 healthy\n', exitCode: 0 });

    const outcome = await runOps(ctx, parseArgs(['deploy', '--env', 'prod', '--ref', 'v2'], ['dev', 'prod']));

    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'auraxis-prod-deploy',
      InstanceIds: ['i-0prod'],
      Parameters: { gitRef: ['v2'], requestedBy: ['ana'] },
      Comment: 'ops deploy by ana',
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/auraxis/prod/commands' },
    });
    expect(outcome.ok).toBe(true);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.text).toBe('[prod] deploy: Success (exit 0, command cmd-9)\nrelease v2 healthy');
  });

  test('a failed deploy is reported with the host script stderr and fails the command', async () => {
    deployedOutputs('auraxis-dev-host', {});
    inService(autoscaling, 'auraxis-dev-host', 'i-0dev');
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-10' } });
    answerCommand(logs, 'cmd-10', 'i-0dev', { stderr: 'health check timed out; previous release restored', exitCode: 3 });

    const outcome = await runOps(ctx, parseArgs(['deploy', '--env', 'dev'], ['dev', 'prod']));

    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'auraxis-dev-deploy',
      Parameters: { gitRef: ['origin/master'], requestedBy: ['ana'] },
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.exitCode).toBe(3);
    expect(outcome.text).toContain('[dev] deploy: Failed (exit 3, command cmd-10)');
    expect(outcome.text).toContain('stderr:\nhealth check timed out; previous release restored');
  });

  test('no outcome within the wait: one truthful line, the distinct exit code, never ok', async () => {
    deployedOutputs('auraxis-dev-host', {});
    inService(autoscaling, 'auraxis-dev-host', 'i-0dev');
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-11' } });
    answerCommand(logs, 'cmd-11', 'i-0dev', { stdout: 'building\n' });

    // The wait is the status document's 60 s plus SSM's delivery timeout and a margin: cut to milliseconds here.
    const outcome = await runOps({ ...ctx, wait: { ...fastWait, maxWaitSeconds: 0.05 } }, parseArgs(['status', '--env', 'dev'], ['dev', 'prod']));

    expect(outcome.ok).toBe(false);
    expect(outcome.exitCode).toBe(NO_OUTCOME_EXIT_CODE);
    expect(outcome.text.split('\n')[0]).toMatch(
      /^\[dev\] status: no outcome reported by auraxis-dev-status on i-0dev within \d+ s: it may still be running or was killed; see `npm run ops -- logs --env dev` \(command cmd-11\)$/,
    );
  });

  test('an undeployed host (no group) is named, with what fixes it', async () => {
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    await expect(runOps(ctx, parseArgs(['status', '--env', 'prod'], ['dev', 'prod']))).rejects.toThrow(
      'the host group auraxis-prod-host does not exist in this account and region (deploy the host stack first)',
    );
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
  });
});

describe('ops validate', () => {
  test('gathers stacks, SSM ping, alarms, health and host status into one checklist', async () => {
    const config = shippedConfig();
    for (const stack of ['auraxis-prod-data', 'auraxis-prod-health']) deployedOutputs(stack, {});
    deployedOutputs('auraxis-prod-host', {});
    inService(autoscaling, 'auraxis-prod-host', 'i-0prod');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: 'i-0prod', PingStatus: 'Online' }] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-s' } });
    answerCommand(logs, 'cmd-s', 'i-0prod', {
      exitCode: 0,
      stdout: JSON.stringify({
        app: 'auraxis',
        environment: 'prod',
        current: { ref: 'v2', commit: 'c'.repeat(40) },
        previous: { ref: 'v1', commit: 'd'.repeat(40) },
        checkout: { path: '/opt/auraxis', commit: 'c'.repeat(40), clean: true, matchesCurrent: true },
        health: { url: 'http://127.0.0.1:3000/healthz', ok: true, httpStatus: 200, error: null },
        containers: [],
      }),
    });
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: 'auraxis-health-prod', StateValue: 'ALARM' },
        { AlarmName: 'auraxis-health-dev', StateValue: 'OK' },
      ],
    });
    const fetchImpl = jest.fn(async () => new Response('ok', { status: 200 }));

    const outcome = await runOps(
      { config, actor: 'ana', wait: noWait, fetchImpl: fetchImpl as unknown as typeof fetch },
      parseArgs(['validate', '--env', 'prod'], ['dev', 'prod']),
    );

    expect(fetchImpl).toHaveBeenCalledWith('https://api.auraxis.com.br/healthz', expect.anything());
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'auraxis-prod-status',
      InstanceIds: ['i-0prod'],
      Parameters: { format: ['json'] },
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain('PASS  [prod] stack auraxis-prod-health: deployed');
    expect(outcome.text).toContain('PASS  [prod] host reachable through SSM: agent Online');
    // No GitHub token in the context: the GitHub settings are listed as not checked, never passed.
    expect(outcome.text).toContain(
      `SKIP  [${config.github.repository}] GitHub OIDC subject claims: not checked: set GITHUB_TOKEN (read-only) to check GitHub settings`,
    );
    expect(outcome.text).toContain(
      'SKIP  [prod] GitHub environment prod requires a reviewer, not the author: not checked: set GITHUB_TOKEN (read-only) to check GitHub settings',
    );
    expect(outcome.text).toContain('FAIL  [prod] no alarm firing: in ALARM: auraxis-health-prod');
    expect(outcome.text).toContain('PASS  [prod] health https://api.auraxis.com.br/healthz: HTTP 200');
    expect(outcome.text).toContain(`PASS  [prod] release recorded on the host: current v2 (${'c'.repeat(12)})`);
    expect(outcome.text).toContain('PASS  [prod] app healthy from the host itself: http://127.0.0.1:3000/healthz: 200');
    expect(outcome.text).toContain('Some required checks FAILED.');
  });
});
