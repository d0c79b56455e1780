import { UsageError } from '../../lib/cli/command-line';
import { gitRefProblem } from '../../lib/config/git-ref';
import { hostDocumentSpecs } from '../../lib/host-runtime/documents';
import { hostCommandInput } from '../../scripts/ops/commands/host-command';
import { hostParameters } from '../../scripts/ops/commands/host-parameters';
import { COMMANDS, commandUsage, helpRequested, parseArgs, USAGE } from '../../scripts/ops/commands/parse-args';
import { checklistPassed, type EnvironmentFacts, evaluateChecklist, formatChecklist } from '../../scripts/ops/commands/validate';
import { environmentStackNames } from '../../scripts/ops/ops';
import { shippedConfig } from '../helpers/config-fixtures';

const ENVS = ['dev', 'prod'];

describe('hostCommandInput', () => {
  test('targets one instance by id with the environment document and ships output to its command log group', () => {
    expect(hostCommandInput({ app: 'auraxis', env: 'prod', instanceId: 'i-0abc' }, 'deploy', { gitRef: 'v1.2.3' }, { comment: 'ops deploy by ana' })).toEqual({
      DocumentName: 'auraxis-prod-deploy',
      DocumentVersion: '$LATEST',
      InstanceIds: ['i-0abc'],
      Parameters: { gitRef: ['v1.2.3'] },
      Comment: 'ops deploy by ana',
      TimeoutSeconds: 120,
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/auraxis/prod/commands' },
    });
  });

  test('truncates the comment to the 100 characters SSM accepts', () => {
    const input = hostCommandInput({ app: 'a', env: 'dev', instanceId: 'i-1' }, 'status', {}, { comment: 'x'.repeat(150) });
    expect(input.Comment).toHaveLength(100);
  });
});

describe('parseArgs', () => {
  test('deploy with a ref', () => {
    expect(parseArgs(['deploy', '--env', 'prod', '--ref', 'origin/master'], ENVS)).toEqual({
      command: 'deploy',
      envs: ['prod'],
      ref: 'origin/master',
      dryRun: false,
      apply: false,
      json: false,
    });
  });

  test('reports default to every environment; --env all too', () => {
    expect(parseArgs(['validate'], ENVS).envs).toEqual(['dev', 'prod']);
    expect(parseArgs(['status', '--env', 'all', '--json'], ENVS)).toMatchObject({ envs: ['dev', 'prod'], json: true });
  });

  test('--env=x works like --env x', () => {
    expect(parseArgs(['status', '--env=prod'], ENVS).envs).toEqual(['prod']);
  });

  test('rollback, like deploy, takes one environment; status and reports take all', () => {
    expect(() => parseArgs(['rollback', '--env', 'all'], ENVS)).toThrow('ops rollback: one environment at a time: --env <dev|prod>, not all');
    expect(parseArgs(['backup', '--env', 'all'], ENVS).envs).toEqual(['dev', 'prod']);
  });

  // Each mistake is one line naming the command and the flag, thrown as a UsageError (exit 2).
  test.each<[string[], string]>([
    [[], 'ops: no command given (ops --help lists them)'],
    [
      ['launch'],
      'ops: unknown command "launch" (commands: deploy, rollback, status, backup, restore-drill, tls, restore, firewall, validate, iam-audit, outputs, stacks, replace-host, plan, smoke, logs; ops --help)',
    ],
    [['deploy'], 'ops deploy: needs --env (one of dev, prod)'],
    [['status'], 'ops status: needs --env (one of dev, prod, or all)'],
    [['deploy', '--env', 'all'], 'ops deploy: one environment at a time: --env <dev|prod>, not all'],
    [['status', '--env', 'staging'], 'ops status: unknown environment "staging" for --env (one of dev, prod, or all)'],
    [['deploy', '--env', 'dev', '--env', 'prod'], 'ops deploy: --env is given twice; give it once'],
    [['rollback', '--env', 'prod', '--ref', 'v1'], 'ops rollback: unknown option --ref (options: --env <value>, --json, --help)'],
    [['deploy', '--env', 'prod', '--ref', 'v1;rm -rf /'], `ops deploy: --ref ${gitRefProblem('v1;rm -rf /')}`],
    [['deploy', '--env', 'prod', '--ref'], 'ops deploy: --ref needs a value (--ref <value> or --ref=<value>)'],
    [['deploy', '--env', 'prod', '--dry-run'], 'ops deploy: unknown option --dry-run (options: --env <value>, --ref <value>, --json, --help)'],
    [['tls', '--env', 'prod', '--apply'], 'ops tls: unknown option --apply (options: --env <value>, --dry-run, --json, --help)'],
    [['tls', '--env', 'prod', '--force'], 'ops tls: unknown option --force (options: --env <value>, --dry-run, --json, --help)'],
    [['firewall', '--env', 'prod', '--apply=yes'], 'ops firewall: --apply takes no value'],
    [['stacks', 'prod'], 'ops stacks: unexpected argument "prod" (this command takes options only)'],
  ])('rejects %j with one line', (argv, message) => {
    let thrown: unknown;
    try {
      parseArgs(argv, ENVS);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toBe(message);
  });
});

describe('help', () => {
  test('--help and -h alone print the command list; after a command, its options', () => {
    expect(helpRequested(['--help'])).toBe(USAGE);
    expect(helpRequested(['-h'])).toBe(USAGE);
    expect(helpRequested(['status', '--help'])).toBe(commandUsage('status'));
    expect(helpRequested(['deploy', '--env', 'prod'])).toBeUndefined();
  });

  test('every command is listed with its own options, and each command help shows only its own', () => {
    for (const command of Object.keys(COMMANDS) as (keyof typeof COMMANDS)[]) {
      expect(USAGE).toContain(`  ${command}`);
      for (const option of Object.keys(COMMANDS[command].options)) expect(commandUsage(command)).toContain(`--${option}`);
    }
    expect(commandUsage('deploy')).not.toContain('--apply');
    expect(commandUsage('deploy')).toContain('usage: ops deploy --env <name> [--ref <git-ref>]');
  });
});

describe('environmentStackNames', () => {
  test('data before host before health, from lib/names', () => {
    expect(environmentStackNames('auraxis', 'dev')).toEqual(['auraxis-dev-data', 'auraxis-dev-host', 'auraxis-dev-health']);
  });
});

describe('hostParameters', () => {
  const config = shippedConfig();
  const prod = { ...config.environments.prod, name: 'prod' };
  test('deploy uses --ref, else the configured gitRef, and records who asked', () => {
    expect(hostParameters('deploy', parseArgs(['deploy', '--env', 'prod', '--ref', 'v2'], ENVS), prod, 'ana')).toEqual({ gitRef: 'v2', requestedBy: 'ana' });
    expect(hostParameters('deploy', parseArgs(['deploy', '--env', 'prod'], ENVS), prod, 'github:ana')).toEqual({
      gitRef: prod.gitRef,
      requestedBy: 'github:ana',
    });
    expect(hostParameters('rollback', parseArgs(['rollback', '--env', 'prod'], ENVS), prod, 'Ana Souza')).toEqual({ requestedBy: 'Ana-Souza' });
  });
  test('tls passes dry-run; firewall applies only with --apply; status follows --json', () => {
    expect(hostParameters('tls', parseArgs(['tls', '--env', 'prod', '--dry-run'], ENVS), prod, 'ana')).toEqual({ dryRun: 'true' });
    expect(hostParameters('firewall', parseArgs(['firewall', '--env', 'prod'], ENVS), prod, 'ana')).toEqual({ action: 'status' });
    expect(hostParameters('firewall', parseArgs(['firewall', '--env', 'prod', '--apply'], ENVS), prod, 'ana')).toEqual({ action: 'apply' });
    expect(hostParameters('status', parseArgs(['status', '--env', 'prod', '--json'], ENVS), prod, 'ana')).toEqual({ format: 'json' });
  });

  test('every parameter the CLI sends is declared by the document it targets, and passes its allowedPattern', () => {
    const specs = hostDocumentSpecs(shippedConfig().app, prod, { backupBucketName: 'bucket' });
    const cases: [string[], string][] = [
      [['deploy', '--env', 'prod', '--ref', 'v2'], 'deploy'],
      [['rollback', '--env', 'prod'], 'rollback'],
      [['status', '--env', 'prod', '--json'], 'status'],
      [['tls', '--env', 'prod', '--dry-run'], 'tls'],
      [['firewall', '--env', 'prod', '--apply'], 'firewall'],
      [['backup', '--env', 'prod'], 'backup'],
      [['restore-drill', '--env', 'prod'], 'restore-drill'],
    ];
    for (const [argv, operation] of cases) {
      const spec = specs.find((s) => s.operation === operation)!;
      for (const [name, value] of Object.entries(hostParameters(spec.operation, parseArgs(argv, ENVS), prod, 'github:ana'))) {
        expect([operation, name, name in spec.parameters]).toEqual([operation, name, true]);
        const pattern = spec.parameters[name].allowedPattern;
        if (pattern) expect([operation, name, new RegExp(pattern).test(value)]).toEqual([operation, name, true]);
      }
    }
  });
});

describe('evaluateChecklist', () => {
  const healthy: EnvironmentFacts = {
    env: 'prod',
    stacks: { 'auraxis-prod-data': true, 'auraxis-prod-host': true },
    ssmPing: 'Online',
    alarms: [
      { name: 'auraxis-health-prod', state: 'OK' },
      { name: 'auraxis-prod-cpu', state: 'OK' },
    ],
    health: { url: 'https://api.auraxis.com.br/healthz', status: 200 },
    hostStatus: {
      current: { ref: 'v2', commit: 'a'.repeat(40) },
      previous: { ref: 'v1', commit: 'b'.repeat(40) },
      health: { url: 'http://127.0.0.1:3000/healthz', ok: true, httpStatus: 200 },
      checkout: { matchesCurrent: true, clean: true },
    },
  };

  test('a healthy environment passes every check', () => {
    const results = evaluateChecklist(healthy);
    expect(results.map((r) => [r.check, r.ok])).toEqual([
      ['stack auraxis-prod-data', true],
      ['stack auraxis-prod-host', true],
      ['host reachable through SSM', true],
      ['no alarm firing', true],
      ['health https://api.auraxis.com.br/healthz', true],
      ['app healthy from the host itself', true],
      ['checkout matches the recorded release', true],
      ['release recorded on the host', true],
      ['rollback target available', true],
    ]);
    expect(checklistPassed(results)).toBe(true);
  });

  test('a firing alarm and a failing health check fail the checklist, each with a hint', () => {
    const results = evaluateChecklist({
      ...healthy,
      alarms: [{ name: 'auraxis-health-prod', state: 'ALARM' }],
      health: { url: 'https://api.auraxis.com.br/healthz', error: 'connect ECONNREFUSED' },
    });
    expect(checklistPassed(results)).toBe(false);
    const text = formatChecklist(results);
    expect(text).toContain('FAIL  [prod] no alarm firing: in ALARM: auraxis-health-prod');
    expect(text).toContain('FAIL  [prod] health https://api.auraxis.com.br/healthz: no answer: connect ECONNREFUSED');
    expect(text).toContain('-> read the alarm, then `ops status`');
  });

  test('public health failing while the host sees the app healthy points away from the app', () => {
    const results = evaluateChecklist({ ...healthy, health: { url: 'https://api.auraxis.com.br/healthz', status: 502 } });
    expect(results.filter((r) => !r.ok).map((r) => r.check)).toEqual(['health https://api.auraxis.com.br/healthz']);
  });

  test('a drifted checkout warns; an unhealthy app on the host fails', () => {
    const results = evaluateChecklist({
      ...healthy,
      hostStatus: {
        ...healthy.hostStatus,
        checkout: { matchesCurrent: false, clean: false },
        health: { url: 'http://127.0.0.1:3000/healthz', ok: false, httpStatus: null },
      },
    });
    expect(results.find((r) => r.check === 'checkout matches the recorded release')).toMatchObject({ ok: false, advisory: true });
    expect(results.find((r) => r.check === 'app healthy from the host itself')).toMatchObject({
      ok: false,
      advisory: false,
      detail: 'http://127.0.0.1:3000/healthz: no answer',
    });
    expect(checklistPassed(results)).toBe(false);
  });

  test('a missing rollback target only warns', () => {
    const results = evaluateChecklist({ ...healthy, hostStatus: { ...healthy.hostStatus, previous: null } });
    expect(results.find((r) => r.check === 'rollback target available')).toMatchObject({ ok: false, advisory: true });
    expect(checklistPassed(results)).toBe(true);
    expect(formatChecklist(results)).toContain('WARN  [prod] rollback target available');
  });

  test('an undeployed host and an offline agent fail with the fix to run', () => {
    const results = evaluateChecklist({ ...healthy, stacks: { 'auraxis-prod-host': false }, ssmPing: 'ConnectionLost', hostStatus: undefined });
    expect(checklistPassed(results)).toBe(false);
    expect(results.find((r) => r.check === 'stack auraxis-prod-host')).toMatchObject({ ok: false, hint: 'npx cdk deploy auraxis-prod-host' });
    expect(results.find((r) => r.check === 'host reachable through SSM')).toMatchObject({ ok: false, detail: 'agent ConnectionLost' });
  });
});
