import 'aws-sdk-client-mock-jest';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { UsageError } from '../../lib/cli/command-line';
import { environmentAlarmNames, stackNames } from '../../lib/names';
import { main } from '../../scripts/ops/cli';
import { alarmsOfEnvironment, healthUrl } from '../../scripts/ops/commands/validate';
import { configWith, shippedConfig } from '../helpers/config-fixtures';
import { shippedTemplate } from '../helpers/synth';

/*
 * What `ops validate` looks at: the health URL the Route53 check requests, and the alarms of the
 * environment and no other. And the CLI's promise that a bad command line never reaches AWS.
 */

describe('healthUrl', () => {
  test('uses the configured health-check protocol and path, not the tls flag', () => {
    const config = configWith((c) => {
      c.environments.prod.healthCheck = { protocol: 'HTTP', path: '/livez' };
    });
    expect(healthUrl(config.app, { ...config.environments.prod, name: 'prod' })).toBe('http://api.auraxis.com.br/livez');
  });

  test('defaults: HTTPS with TLS, HTTP without, the app health path', () => {
    const config = shippedConfig();
    expect(healthUrl(config.app, { ...config.environments.prod, name: 'prod' })).toBe('https://api.auraxis.com.br/healthz');
    expect(healthUrl(config.app, { ...config.environments.dev, name: 'dev' })).toBe('http://dev.api.auraxis.com.br/healthz');
  });
});

describe('alarmsOfEnvironment', () => {
  const alarm = (name: string) => ({ name, state: 'OK' });

  test('takes prod\'s alarms and not preprod\'s, though "prod" is inside "preprod"', () => {
    const all = [
      ...environmentAlarmNames('auraxis', 'prod').map(alarm),
      ...environmentAlarmNames('auraxis', 'preprod').map(alarm),
      alarm('auraxis-prod-host-ComposeHostRecoveryAlarm1A2B-XYZ'),
      alarm('auraxis-preprod-host-ComposeHostRecoveryAlarm1A2B-XYZ'),
    ];
    expect(alarmsOfEnvironment(all, 'auraxis', 'prod').map((a) => a.name)).toEqual([
      'auraxis-health-prod',
      'auraxis-prod-cpu',
      'auraxis-prod-status-check',
      'auraxis-prod-disk',
      'auraxis-prod-backup-age',
      'auraxis-prod-host-ComposeHostRecoveryAlarm1A2B-XYZ',
    ]);
  });

  test('the named alarms are exactly those the synthesized stacks create', () => {
    const named = [stackNames.host('auraxis', 'prod'), stackNames.health('auraxis', 'prod'), stackNames.data('auraxis', 'prod')].flatMap((stack) =>
      Object.values(shippedTemplate(stack).findResources('AWS::CloudWatch::Alarm'))
        .map((r) => (r as { Properties: { AlarmName?: unknown } }).Properties.AlarmName)
        .filter((n): n is string => typeof n === 'string'),
    );
    expect(named.sort()).toEqual(environmentAlarmNames('auraxis', 'prod').sort());
  });
});

describe('a bad command line never reaches AWS', () => {
  const clients = [mockClient(SSMClient), mockClient(CloudFormationClient), mockClient(CloudWatchClient), mockClient(IAMClient)];
  beforeEach(() => {
    for (const c of clients) c.reset();
  });

  test.each([
    [['deploy', '--env', 'prod', '--dry-run']],
    [['tls', '--env', 'prod', '--apply']],
    [['deploy', '--env', 'dev', '--env', 'prod']],
    [['deploy', '--env', 'all']],
  ])('%j is a usage error and sends nothing', async (argv) => {
    await expect(main(argv)).rejects.toBeInstanceOf(UsageError);
    for (const c of clients) expect(c.calls()).toHaveLength(0);
  });
});
