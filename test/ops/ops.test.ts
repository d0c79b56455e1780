import 'aws-sdk-client-mock-jest';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, InvocationDoesNotExist, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { runCommand } from '../../scripts/ops/aws/run-command';
import { parseArgs } from '../../scripts/ops/commands/parse-args';
import { runOps } from '../../scripts/ops/ops';
import { shippedConfig } from '../helpers/synth';

/*
 * The ops CLI end to end with the AWS SDK mocked at the network edge: what is sent to SSM,
 * CloudFormation and CloudWatch, and what the operator is told.
 */

const ssm = mockClient(SSMClient);
const cfn = mockClient(CloudFormationClient);
const cloudwatch = mockClient(CloudWatchClient);
const noWait = { pollIntervalMs: 0, sleep: async () => undefined };

function deployedOutputs(stack: string, outputs: Record<string, string>) {
  cfn.on(DescribeStacksCommand, { StackName: stack }).resolves({
    Stacks: [{ StackName: stack, CreationTime: new Date(0), StackStatus: 'UPDATE_COMPLETE', Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
  });
}

beforeEach(() => {
  ssm.reset();
  cfn.reset();
  cloudwatch.reset();
});

describe('runCommand', () => {
  test('polls past a not-yet-existing invocation and in-progress states until the command ends', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    ssm
      .on(GetCommandInvocationCommand)
      .rejectsOnce(new InvocationDoesNotExist({ message: 'not yet', $metadata: {} }))
      .resolvesOnce({ Status: 'InProgress' })
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: 'deployed v2\n', StandardErrorContent: '' });

    const result = await runCommand(new SSMClient({}), { DocumentName: 'doc', InstanceIds: ['i-1'] }, noWait);

    expect(result).toEqual({ commandId: 'cmd-1', status: 'Success', exitCode: 0, stdout: 'deployed v2\n', stderr: '' });
    expect(ssm).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 3);
    expect(ssm).toHaveReceivedCommandWith(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: 'i-1' });
  });

  test('gives up after the timeout and says how to follow the command', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
    ssm.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    await expect(runCommand(new SSMClient({}), { DocumentName: 'doc', InstanceIds: ['i-1'] }, { ...noWait, timeoutMs: -1 })).rejects.toThrow(
      'command cmd-2 (doc) still running after 0 s; check it with: aws ssm list-command-invocations --command-id cmd-2 --details',
    );
  });

  test('refuses to fan out to more than one instance', async () => {
    await expect(runCommand(new SSMClient({}), { DocumentName: 'doc', InstanceIds: ['i-1', 'i-2'] }, noWait)).rejects.toThrow('exactly one instance');
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
  });
});

describe('ops deploy', () => {
  const config = shippedConfig();
  const ctx = { config, actor: 'ana', wait: noWait };

  test('sends the prod deploy document to the instance from the host stack outputs', async () => {
    deployedOutputs('auraxis-prod-host', { InstanceId: 'i-0prod' });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-9' } });
    ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: 'release v2 healthy\n' });

    const outcome = await runOps(ctx, parseArgs(['deploy', '--env', 'prod', '--ref', 'v2'], ['dev', 'prod']));

    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'auraxis-prod-deploy',
      InstanceIds: ['i-0prod'],
      Parameters: { gitRef: ['v2'], requestedBy: ['ana'] },
      Comment: 'ops deploy by ana',
    });
    expect(outcome.ok).toBe(true);
    expect(outcome.text).toBe('[prod] deploy: Success (exit 0, command cmd-9)\nrelease v2 healthy');
  });

  test('a failed deploy is reported with the host script stderr and fails the command', async () => {
    deployedOutputs('auraxis-dev-host', { InstanceId: 'i-0dev' });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-10' } });
    ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 1, StandardOutputContent: '', StandardErrorContent: 'health check timed out; previous release restored' });

    const outcome = await runOps(ctx, parseArgs(['deploy', '--env', 'dev'], ['dev', 'prod']));

    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, { DocumentName: 'auraxis-dev-deploy', Parameters: { gitRef: ['origin/master'], requestedBy: ['ana'] } });
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain('[dev] deploy: Failed (exit 1, command cmd-10)');
    expect(outcome.text).toContain('stderr:\nhealth check timed out; previous release restored');
  });

  test('an undeployed host stack is named, with the command that fixes it', async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id auraxis-prod-host does not exist'), { name: 'ValidationError' }));
    await expect(runOps(ctx, parseArgs(['status', '--env', 'prod'], ['dev', 'prod']))).rejects.toThrow(
      'stack auraxis-prod-host is not deployed in this account and region (deploy it with: npx cdk deploy auraxis-prod-host)',
    );
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
  });
});

describe('ops validate', () => {
  test('gathers stacks, SSM ping, alarms, health and host status into one checklist', async () => {
    const config = shippedConfig();
    for (const stack of ['auraxis-prod-data', 'auraxis-prod-health']) deployedOutputs(stack, {});
    deployedOutputs('auraxis-prod-host', { InstanceId: 'i-0prod' });
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: 'i-0prod', PingStatus: 'Online' }] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-s' } });
    ssm.on(GetCommandInvocationCommand).resolves({
      Status: 'Success',
      ResponseCode: 0,
      StandardOutputContent: JSON.stringify({
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

    const outcome = await runOps({ config, actor: 'ana', wait: noWait, fetchImpl: fetchImpl as unknown as typeof fetch }, parseArgs(['validate', '--env', 'prod'], ['dev', 'prod']));

    expect(fetchImpl).toHaveBeenCalledWith('https://api.auraxis.com.br/healthz', expect.anything());
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, { DocumentName: 'auraxis-prod-status', InstanceIds: ['i-0prod'], Parameters: { format: ['json'] } });
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain('PASS  [prod] stack auraxis-prod-health: deployed');
    expect(outcome.text).toContain('PASS  [prod] host reachable through SSM: agent Online');
    expect(outcome.text).toContain('FAIL  [prod] no alarm firing: in ALARM: auraxis-health-prod');
    expect(outcome.text).toContain('PASS  [prod] health https://api.auraxis.com.br/healthz: HTTP 200');
    expect(outcome.text).toContain(`PASS  [prod] release recorded on the host: current v2 (${'c'.repeat(12)})`);
    expect(outcome.text).toContain('PASS  [prod] app healthy from the host itself: http://127.0.0.1:3000/healthz: 200');
    expect(outcome.text).toContain('Some required checks FAILED.');
  });
});
