import 'aws-sdk-client-mock-jest';
import { spawnSync } from 'node:child_process';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { UsageError } from '../../lib/cli/command-line';
import { RESTORE_BACKUP_PATTERN, RESTORE_DOCUMENT_BACKUP_PATTERN } from '../../lib/host-runtime/restore';
import { commandUsage, helpRequested, parseArgs } from '../../scripts/ops/commands/parse-args';
import { runOps } from '../../scripts/ops/ops';
import { answerCommand, fastWait } from '../helpers/command-output';
import { shippedConfig } from '../helpers/config-fixtures';
import { inService } from '../helpers/host-group';
import { projectRoot } from '../helpers/paths';

const ssm = mockClient(SSMClient);
const autoscaling = mockClient(AutoScalingClient);
const cfn = mockClient(CloudFormationClient);
const noWait = fastWait;
const logs = mockClient(CloudWatchLogsClient);
const envs = ['dev', 'prod'];
const KEY = 'prod/auraxis-prod-20261125T150000Z.tar.gz';

beforeEach(() => {
  ssm.reset();
  autoscaling.reset();
  cfn.reset();
  logs.reset();
});

describe('ops restore: arguments', () => {
  test.each<[string[], string]>([
    [
      ['--env', 'prod', '--backup', 'latest'],
      'ops restore: restore replaces the live prod database: repeat the environment name with --confirm prod; nothing was sent',
    ],
    [
      ['--env', 'prod', '--backup', 'latest', '--confirm', 'dev'],
      'ops restore: restore replaces the live prod database: repeat the environment name with --confirm prod (got "dev"); nothing was sent',
    ],
    [['--env', 'all', '--backup', 'latest', '--confirm', 'all'], 'ops restore: one environment at a time: --env <dev|prod>, not all'],
    [['--env', 'qa', '--backup', 'latest', '--confirm', 'qa'], 'ops restore: unknown environment "qa" for --env (one of dev, prod)'],
    [
      ['--env', 'prod', '--confirm', 'prod'],
      'ops restore: needs --backup <key|latest> (ops status shows the newest backup), or --resume after an interrupted restore',
    ],
    [['--env', 'prod', '--resume', '--backup', 'latest'], 'ops restore: --resume restores nothing: give it without --backup'],
    [
      ['--env', 'prod', '--backup', "latest';id", '--confirm', 'prod'],
      `ops restore: --backup "latest';id" is neither latest nor a backup key such as prod/<app>-prod-20261125T150000Z.tar.gz`,
    ],
    [
      ['--env', 'prod', '--backup', 'latest', '--confirm', 'prod', '--ref', 'v1'],
      'ops restore: unknown option --ref (options: --env <value>, --backup <value>, --confirm <value>, --resume, --json, --help)',
    ],
  ])('%j is refused with one line: %s', (rest, message) => {
    expect(() => parseArgs(['restore', ...rest], envs)).toThrow(new UsageError(message));
  });

  test('--help describes the command and its confirmation', () => {
    expect(helpRequested(['restore', '--help'])).toBe(commandUsage('restore'));
    expect(commandUsage('restore')).toContain('--confirm <env>');
    expect(commandUsage('restore')).toContain('LIVE database');
  });

  test('with the confirmation: one environment, the backup, the confirmation', () => {
    expect(parseArgs(['restore', '--env', 'prod', '--backup', KEY, '--confirm', 'prod'], envs)).toEqual({
      command: 'restore',
      envs: ['prod'],
      backup: KEY,
      confirm: 'prod',
      dryRun: false,
      apply: false,
      json: false,
    });
  });

  test('--resume: one environment, no backup, no confirmation needed (it restores nothing)', () => {
    expect(parseArgs(['restore', '--env', 'prod', '--resume'], envs)).toEqual({
      command: 'restore',
      envs: ['prod'],
      resume: true,
      dryRun: false,
      apply: false,
      json: false,
    });
    expect(commandUsage('restore')).toContain('--resume');
  });

  test('the CLI refuses without --confirm before any AWS call (exit 2, one line, no stack trace)', () => {
    // No credentials and no region: any AWS call would fail differently (and later).
    const result = spawnSync('npx', ['ts-node', '--swc', 'scripts/ops/cli.ts', 'restore', '--env', 'prod', '--backup', 'latest'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_EC2_METADATA_DISABLED: 'true' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      'ops restore: restore replaces the live prod database: repeat the environment name with --confirm prod; nothing was sent',
    );
  });
});

describe('ops restore: the SSM command', () => {
  test('sends the restore document with the backup, the confirmation and the actor, to the instance of that environment only', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'auraxis-prod-host' }).resolves({
      Stacks: [
        {
          StackName: 'auraxis-prod-host',
          CreationTime: new Date(0),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: [],
        },
      ],
    });
    inService(autoscaling, 'auraxis-prod-host', 'i-0prod');
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-r' } });
    answerCommand(logs, 'cmd-r', 'i-0prod', { exitCode: 0, stdout: 'RTO:        42 s (app stopped until healthy)\n' });

    const outcome = await runOps(
      { config: shippedConfig(), actor: 'ana', wait: noWait },
      parseArgs(['restore', '--env', 'prod', '--backup', KEY, '--confirm', 'prod'], envs),
    );

    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'auraxis-prod-restore',
      InstanceIds: ['i-0prod'],
      Parameters: { backup: [KEY], confirm: ['prod'], requestedBy: ['ana'] },
    });
    expect(outcome.ok).toBe(true);
    expect(outcome.text).toContain('RTO:        42 s');
  });

  test('--resume sends the restore document with backup=resume (restore.sh --resume), the environment as its confirmation, the actor', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'auraxis-prod-host' }).resolves({
      Stacks: [
        {
          StackName: 'auraxis-prod-host',
          CreationTime: new Date(0),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: [],
        },
      ],
    });
    inService(autoscaling, 'auraxis-prod-host', 'i-0prod');
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-resume' } });
    answerCommand(logs, 'cmd-resume', 'i-0prod', {
      exitCode: 0,
      stderr: 'the app is healthy again after the interrupted restore of x: the database holds the backup x\n',
    });

    const outcome = await runOps({ config: shippedConfig(), actor: 'ana', wait: noWait }, parseArgs(['restore', '--env', 'prod', '--resume'], envs));

    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'auraxis-prod-restore',
      InstanceIds: ['i-0prod'],
      Parameters: { backup: ['resume'], confirm: ['prod'], requestedBy: ['ana'] },
    });
    expect(outcome.ok).toBe(true);
    expect(outcome.text).toContain('the database holds the backup');
    // The document accepts it; --backup never does (restore.sh reads it as --resume).
    const pattern = (name: string) => new RegExp(name);
    expect(pattern(RESTORE_DOCUMENT_BACKUP_PATTERN).test('resume')).toBe(true);
    expect(pattern(RESTORE_BACKUP_PATTERN).test('resume')).toBe(false);
  });
});
