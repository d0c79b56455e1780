import { ConfigError, parseConfig } from '../../lib/config';
import { configWith, problemsOf, shippedConfigInput } from '../helpers/config-fixtures';

/*
 * Every bad input the foundation issue lists is rejected with its key path and value.
 * GIVEN the shipped config with one field broken, WHEN it is validated, THEN the exact line is reported.
 */

// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, broken on purpose
type Raw = Record<string, any>;

function brokenBy(edit: (raw: Raw) => void): readonly string[] {
  const raw = shippedConfigInput();
  edit(raw);
  return problemsOf(raw);
}

describe('the shipped config', () => {
  test('is valid and keeps both environments in file order', () => {
    expect(problemsOf(shippedConfigInput())).toEqual([]);
    expect(Object.keys(configWith(() => undefined).environments)).toEqual(['dev', 'prod']);
  });

  test('gets defaults for keys it leaves out', () => {
    const config = configWith((c) => {
      delete c.app.metricsPort;
      delete c.environments.dev.logs;
      delete c.environments.dev.gitRef;
    });
    expect(config.app.metricsPort).toBe(9464);
    expect(config.environments.dev.logs.retentionDays).toBe(14);
    expect(config.environments.dev.gitRef).toBe('origin/master');
  });
});

describe('bad input is rejected with the key path and the value', () => {
  test.each<[string, (raw: Raw) => void, string]>([
    ['a missing required key', (c) => delete c.environments.prod.account, 'environments.prod.account: is required'],
    ['a missing section', (c) => delete c.github, 'github: is required'],
    [
      'an unknown key',
      (c) => (c.environments.dev.instanceSize = 'large'),
      'environments.dev.instanceSize: is not a known key (remove it or check its spelling)',
    ],
    ['an unknown top-level key', (c) => (c.enviroments = {}), 'enviroments: is not a known key (remove it or check its spelling)'],
    [
      'an account id that is not 12 digits',
      (c) => (c.environments.prod.account = '12345'),
      'environments.prod.account: "12345" is not a 12-digit AWS account id',
    ],
    [
      'an account id YAML read as a number',
      (c) => (c.environments.prod.account = 12345678901),
      'environments.prod.account: 12345678901 is not a 12-digit AWS account id (quote it in YAML so leading zeros survive)',
    ],
    [
      'an unknown region',
      (c) => (c.environments.dev.region = 'us-north-9'),
      'environments.dev.region: "us-north-9" is not a known AWS region (e.g. us-east-1)',
    ],
    [
      'a domain that is not a hostname',
      (c) => (c.environments.prod.domain = 'api_auraxis'),
      'environments.prod.domain: "api_auraxis" is not a hostname (e.g. api.example.com)',
    ],
    [
      'a domain with a scheme',
      (c) => (c.environments.prod.domain = 'https://api.auraxis.com.br'),
      'environments.prod.domain: "https://api.auraxis.com.br" is not a hostname (e.g. api.example.com)',
    ],
    [
      'a zero backup retention',
      (c) => (c.environments.dev.backups.retentionDays = 0),
      'environments.dev.backups.retentionDays: 0 must be a positive whole number',
    ],
    [
      'a negative backup retention',
      (c) => (c.environments.dev.backups.retentionDays = -7),
      'environments.dev.backups.retentionDays: -7 must be a positive whole number',
    ],
    [
      'a zero log retention',
      (c) => (c.environments.prod.logs.retentionDays = 0),
      'environments.prod.logs.retentionDays: 0 is not a CloudWatch Logs retention (one of 1, 3, 5, 7, 14, 30,',
    ],
    ['a negative budget', (c) => (c.costGuardrails.monthlyBudgetUsd = -10), 'costGuardrails.monthlyBudgetUsd: -10 must be a positive number'],
    ['a zero budget', (c) => (c.costGuardrails.monthlyBudgetUsd = 0), 'costGuardrails.monthlyBudgetUsd: 0 must be a positive number'],
    ['a budget that is not a number', (c) => (c.costGuardrails.monthlyBudgetUsd = 'ten'), 'costGuardrails.monthlyBudgetUsd: "ten" must be a positive number'],
    [
      'an alarm e-mail that is not an e-mail',
      (c) => (c.environments.prod.alarmEmail = 'ops-at-auraxis'),
      'environments.prod.alarmEmail: "ops-at-auraxis" is not an e-mail address',
    ],
    ['a budget e-mail that is not an e-mail', (c) => (c.costGuardrails.email = 'ops@'), 'costGuardrails.email: "ops@" is not an e-mail address'],
    ['replicas below 1', (c) => (c.environments.prod.kubernetes.replicas = 0), 'environments.prod.kubernetes.replicas: 0 must be at least 1'],
    [
      'an environment name that is not a DNS label',
      (c) => (c.environments.Staging_1 = c.environments.dev),
      'environments.Staging_1: name "Staging_1" is not a DNS label',
    ],
    [
      'a GitHub repo not of the form owner/name',
      (c) => (c.github.repository = 'auraxis'),
      'github.repository: "auraxis" is not a GitHub repository of the form owner/name',
    ],
    [
      'a GitHub repo given as a URL',
      (c) => (c.github.repository = 'https://github.com/auraxis/auraxis'),
      'github.repository: "https://github.com/auraxis/auraxis" is not a GitHub repository',
    ],
    ['an app name that is not a DNS label', (c) => (c.app.name = 'Auraxis API'), 'app.name: "Auraxis API" is not a DNS label'],
    [
      'an image on :latest',
      (c) => (c.app.image = 'ghcr.io/auraxis/auraxis-api:latest'),
      'app.image: "ghcr.io/auraxis/auraxis-api:latest" uses the mutable tag "latest"',
    ],
    [
      'an image without tag or digest',
      (c) => (c.app.image = 'ghcr.io/auraxis/auraxis-api'),
      'app.image: "ghcr.io/auraxis/auraxis-api" is not an image pinned by tag or digest',
    ],
    ['a port out of range', (c) => (c.app.port = 70000), 'app.port: 70000 must be a port number from 1 to 65535'],
    ['a wrong type for a boolean', (c) => (c.environments.dev.tls = 'no'), 'environments.dev.tls: "no" must be true or false'],
    ['no environments at all', (c) => (c.environments = {}), 'environments: {} must define at least one environment'],
    ['a hosted zone id without a name', (c) => delete c.environments.prod.hostedZone.name, 'environments.prod.hostedZone.name: is required'],
    [
      'a domain outside its hosted zone',
      (c) => (c.environments.prod.domain = 'api.example.org'),
      `environments.prod.domain: "api.example.org" is not inside this environment's hostedZone.name "auraxis.com.br"`,
    ],
    [
      'TLS on without a certificate secret',
      (c) => (c.environments.dev.tls = true),
      'environments.dev.kubernetes.tlsSecretName: is required when this environment has tls: true',
    ],
    [
      'an HTTPS health check on a TLS-off environment',
      (c) => (c.environments.dev.healthCheck = { protocol: 'HTTPS' }),
      'environments.dev.healthCheck.protocol: "HTTPS" cannot be HTTPS when this environment has tls: false',
    ],
    [
      'backups moving to IA after they expire',
      (c) => (c.environments.prod.backups.transitionToInfrequentAccessDays = 120),
      'environments.prod.backups.transitionToInfrequentAccessDays: 120 must be less than backups.retentionDays (90)',
    ],
    [
      'a dev schedule that is not a cron expression',
      (c) => (c.environments.dev.instance.schedule.stop = '20:00'),
      'environments.dev.instance.schedule.stop: "20:00" is not an EventBridge Scheduler cron expression',
    ],
    [
      'an unknown time zone',
      (c) => (c.environments.dev.instance.schedule.timezone = 'Mars/Olympus'),
      'environments.dev.instance.schedule.timezone: "Mars/Olympus" is not an IANA time zone',
    ],
  ])('%s', (_what, edit, expected) => {
    const problems = brokenBy(edit);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });
});

describe('reporting', () => {
  test('every problem is reported together, one line each, in one ConfigError', () => {
    const raw = shippedConfigInput();
    raw.environments.prod.account = '12345';
    raw.environments.dev.region = 'moon-1';
    raw.github.repository = 'nope';
    raw.app.colour = 'blue';

    let error: unknown;
    try {
      parseConfig(raw, 'config/environments.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect([...configError.problems].sort()).toEqual([
      'app.colour: is not a known key (remove it or check its spelling)',
      'environments.dev.region: "moon-1" is not a known AWS region (e.g. us-east-1)',
      'environments.prod.account: "12345" is not a 12-digit AWS account id',
      'github.repository: "nope" is not a GitHub repository of the form owner/name',
    ]);
    expect(configError.message).toMatch(/^Invalid configuration in config\/environments\.yaml:\n {2}- /);
  });

  test('a problem in one environment does not hide a cross-field problem in another', () => {
    const problems = brokenBy((c) => {
      c.environments.prod.account = 'x';
      c.environments.dev.tls = true;
    });
    expect([...problems].sort()).toEqual([
      'environments.dev.kubernetes.tlsSecretName: is required when this environment has tls: true',
      'environments.prod.account: "x" is not a 12-digit AWS account id',
    ]);
  });
});
