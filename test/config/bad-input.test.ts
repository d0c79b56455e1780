import { readFileSync } from 'node:fs';
import { cronCanFire, parseEventBridgeCron } from '../../lib/config/cron';
import { mayEcho } from '../../lib/config/errors';
import { MAX_YAML_ALIASES, parseConfigYaml } from '../../lib/config/load';
import { onCalendarCanFire, onCalendarMinGapSeconds } from '../../lib/config/on-calendar';
import { LOG_RETENTION_DAYS, S3_LIFECYCLE_MAX_DAYS } from '../../lib/config/schema/host';
import { problemsOf, shippedConfigInput } from '../helpers/config-fixtures';
import { shippedConfigPath } from '../helpers/paths';

/*
 * Classes of configuration that used to be accepted (or crash synth with a stack trace): each is
 * refused with one line naming its key path and the rule, and a value that may be a secret is never
 * repeated. GIVEN the shipped config with one edit, WHEN validated, THEN exactly that line; beside
 * each class, the nearest valid value is accepted (so the rule is not simply refusing everything).
 */

// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, broken on purpose
type Raw = Record<string, any>;

function brokenBy(edit: (raw: Raw) => void): readonly string[] {
  const raw = shippedConfigInput();
  edit(raw);
  return problemsOf(raw);
}

/** The problems of the shipped YAML text after `edit`, as the loader reports them (one line each). */
function yamlProblems(edit: (text: string) => string): readonly string[] {
  const text = edit(readFileSync(shippedConfigPath, 'utf8'));
  try {
    parseConfigYaml(text, 'c.yaml');
    return [];
  } catch (error) {
    const problems = (error as { problems?: readonly string[] }).problems;
    if (!problems) throw error;
    return problems;
  }
}

const NEVER_ELAPSES =
  'never elapses: no date from this year on matches its year, month, day and weekdays (e.g. *-02-30); systemd would load the timer and never run it';
const NEVER_FIRES =
  'can never fire: no date from this year on has its day-of-month in its months and years (e.g. 30 in February); EventBridge would accept it and never run it';

describe('schedules that can never fire', () => {
  test.each<[string, string]>([
    ['February 30', '*-02-30 03:00:00'],
    ['April 31', '*-04-31 03:00:00'],
    ['the third-last day of a month given as day 32 from the end', '*-02~31 03:00:00'],
    ['a year gone by', '2020-01-01 03:00:00'],
    ['a Monday that is a Tuesday', 'Mon 2030-01-01 03:00:00'],
  ])('backups.schedule on %s: one line, never elapses', (_, schedule) => {
    expect(brokenBy((c) => (c.environments.dev.backups.schedule = schedule))).toEqual([`environments.dev.backups.schedule: "${schedule}" ${NEVER_ELAPSES}`]);
  });

  test.each<[string, string]>([
    ['February 30', 'cron(0 8 30 2 ? *)'],
    ['the 31st of the 30-day months', 'cron(0 8 31 4,6,9,11 ? *)'],
    ['a year gone by', 'cron(0 8 ? * MON-FRI 2020)'],
  ])('instance.schedule.start on %s: one line, can never fire', (_, start) => {
    expect(brokenBy((c) => (c.environments.dev.instance.schedule.start = start))).toEqual([
      `environments.dev.instance.schedule.start: "${start}" ${NEVER_FIRES}`,
    ]);
  });

  test('the nearest schedules that do fire are accepted', () => {
    // Leap day, the last day of any month, the 31st of some months, a year still to come.
    for (const expression of ['*-02-29 03:00:00', '*-*~01 03:00:00', '*-01,04-31 03:00:00', '2199-12-31 23:59:59', 'Tue 2030-01-01 03:00'])
      expect({ expression, fires: onCalendarCanFire(expression) }).toEqual({ expression, fires: true });
    for (const expression of ['cron(0 8 29 2 ? *)', 'cron(0 8 31 1,4 ? *)', 'cron(0 8 L 2 ? *)', 'cron(0 8 ? * MON *)', 'cron(0 8 ? * MON-FRI 2199)']) {
      const parsed = parseEventBridgeCron(expression);
      expect({ expression, fires: parsed.ok && cronCanFire(parsed.fields) }).toEqual({ expression, fires: true });
    }
    expect(brokenBy((c) => (c.environments.dev.instance.schedule.start = 'cron(0 8 29 2 ? *)'))).toEqual([]);
  });

  test('"from this year on" is a parameter: the same date fires from an earlier year', () => {
    expect(onCalendarCanFire('2020-01-01 03:00:00', 2019)).toBe(true);
    expect(onCalendarCanFire('2020-01-01 03:00:00', 2021)).toBe(false);
  });
});

describe('backups more often than a dump can run', () => {
  test.each<[string, number]>([
    ['minutely', 60],
    ['*:0/2', 120],
    ['*:0/4', 240],
    ['*:*:0/30', 30],
    ['*-*-* 03:00,04:00', 240], // 03:00 and 03:04, 04:00 and 04:04
  ])('%s: one line with the closest gap and the floor', (schedule, closest) => {
    expect(brokenBy((c) => (c.environments.prod.backups.schedule = schedule))).toEqual([
      `environments.prod.backups.schedule: "${schedule}" runs backups ${closest} s apart at its closest; at least 5 minutes apart, as a dump and its upload must finish before the next starts (a run that finds the previous one still going is skipped)`,
    ]);
  });

  test('every 5 minutes (the floor), the shipped 15 and daily are accepted', () => {
    for (const schedule of ['*:0/5', '*:0/15', 'daily', 'Mon..Fri *-*-* 03:00:00'])
      expect({ schedule, problems: brokenBy((c) => (c.environments.prod.backups.schedule = schedule)) }).toEqual({ schedule, problems: [] });
    expect(onCalendarMinGapSeconds('*:0/5')).toBe(300);
    expect(onCalendarMinGapSeconds('daily')).toBe(86400);
  });
});

describe('a colour port on another port of the app', () => {
  test('equal to app.metricsPort: one line', () => {
    expect(brokenBy((c) => (c.app.blueGreen.ports.blue = 9464))).toEqual([
      'app.blueGreen.ports.blue: 9464 must differ from app.metricsPort (9464), where the app serves /metrics: one port cannot carry both',
    ]);
  });

  test("an environment's colour port equal to app.metricsPort: blamed on the environment's key", () => {
    expect(brokenBy((c) => (c.environments.prod.blueGreen = { ports: { blue: 3001, green: 9464 } }))).toEqual([
      'environments.prod.blueGreen.ports.green: 9464 must differ from app.metricsPort (9464), where the app serves /metrics: one port cannot carry both',
    ]);
  });

  test('equal to app.port: one line', () => {
    expect(brokenBy((c) => (c.app.blueGreen.ports.green = 3000))).toEqual([
      'app.blueGreen.ports.green: 3000 must differ from app.port (3000), where the in-place release publishes until the first switch',
    ]);
  });
});

describe('a repository URL that is not a plain git remote', () => {
  const RULE =
    'is not a git remote URL of the accepted shapes: https://host/owner/repo.git, ssh://git@host/owner/repo.git or git@host:owner/repo.git (letters, digits and ._~- in the path; no credentials, quotes, spaces or shell syntax)';
  test.each<[string, string]>([
    ['a quote closing the shell word', "https://github.com/auraxis/auraxis.git';touch /tmp/x;'"],
    ['command substitution', 'https://github.com/$(id)/auraxis.git'],
    ['backticks', 'https://github.com/`id`/auraxis.git'],
    ['a space and a second command', 'https://github.com/auraxis/auraxis.git; rm -rf /'],
    ['an option for git', 'git@github.com:-upload-pack=touch x'],
    ['a path climbing out', 'https://github.com/../../etc/passwd'],
    ['a query string', 'https://github.com/auraxis/auraxis.git?x=1'],
    ['plain http', 'http://github.com/auraxis/auraxis.git'],
    ['a local path', '/srv/git/auraxis.git'],
    ['file://', 'file:///srv/git/auraxis.git'],
  ])('%s: one line with the value and the accepted shapes', (_, url) => {
    expect(brokenBy((c) => (c.app.repository = url))).toEqual([`app.repository: ${JSON.stringify(url)} ${RULE}`]);
  });

  test('a URL with credentials in it is refused without repeating them', () => {
    const problems = brokenBy((c) => (c.app.repository = 'https://deploy:ghp_Q7fkR2pLmX9vB4nT8sW1yZ3cD6hJ0aE5uK2i@github.com/auraxis/auraxis.git'));
    expect(problems).toEqual([`app.repository: ${RULE}`]);
  });

  test('the same rule holds for the Argo CD repository', () => {
    expect(brokenBy((c) => (c.environments.dev.kubernetes.gitops.repoURL = 'https://github.com/a/b.git"'))).toEqual([
      `environments.dev.kubernetes.gitops.repoURL: "https://github.com/a/b.git\\"" ${RULE}`,
    ]);
  });

  test('https, ssh:// and scp-like remotes are accepted', () => {
    for (const url of [
      'https://github.com/auraxis/auraxis.git',
      'https://gitlab.example.com:8443/group/sub/repo',
      'ssh://git@github.com/auraxis/auraxis.git',
      'ssh://git@git.example.com:2222/auraxis/auraxis.git',
      'git@github.com:auraxis/auraxis.git',
    ])
      expect({ url, problems: brokenBy((c) => (c.app.repository = url)) }).toEqual({ url, problems: [] });
  });
});

describe('retention beyond what AWS accepts', () => {
  test.each<[string, (c: Raw) => void, string]>([
    [
      'log retention not in CloudWatch Logs table',
      (c) => (c.environments.prod.logs.retentionDays = 100),
      `environments.prod.logs.retentionDays: 100 is not a CloudWatch Logs retention (one of ${LOG_RETENTION_DAYS.join(', ')})`,
    ],
    [
      'backup retention past S3 lifecycle days',
      (c) => (c.environments.prod.backups.retentionDays = S3_LIFECYCLE_MAX_DAYS + 1),
      `environments.prod.backups.retentionDays: ${S3_LIFECYCLE_MAX_DAYS + 1} must be at most ${S3_LIFECYCLE_MAX_DAYS} (S3 lifecycle days are a 32-bit integer)`,
    ],
    [
      'a Standard-IA transition before S3 allows it',
      (c) => (c.environments.prod.backups.transitionToInfrequentAccessDays = 29),
      'environments.prod.backups.transitionToInfrequentAccessDays: 29 must be at least 30 (S3 Standard-IA minimum)',
    ],
    [
      'more snapshots than DLM keeps',
      (c) => (c.environments.prod.dataVolume.snapshots.retain = 1001),
      'environments.prod.dataVolume.snapshots.retain: 1001 must be at most 1000 (the DLM limit)',
    ],
    [
      'a snapshot interval DLM does not offer',
      (c) => (c.environments.prod.dataVolume.snapshots.intervalHours = 5),
      'environments.prod.dataVolume.snapshots.intervalHours: 5 is not an interval Data Lifecycle Manager accepts (one of 1, 2, 3, 4, 6, 8, 12, 24 hours)',
    ],
  ])('%s: one line', (_, edit, line) => {
    expect(brokenBy(edit)).toEqual([line]);
  });

  test('the limits themselves are accepted', () => {
    expect(
      brokenBy((c) => {
        c.environments.prod.logs.retentionDays = 3653;
        c.environments.prod.backups.retentionDays = S3_LIFECYCLE_MAX_DAYS;
        c.environments.prod.dataVolume.snapshots.retain = 1000;
      }),
    ).toEqual([]);
  });
});

describe('a YAML alias bomb', () => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]'];
  for (let i = 0; i < 6; i++)
    bomb.push(
      `${String.fromCharCode(100 + i)}: &${String.fromCharCode(100 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(99 + i)}`)
        .join(', ')}]`,
    );

  test('is refused in one line before it expands (no stack trace, no memory blow-up)', () => {
    expect(yamlProblems((text) => `${bomb.join('\n')}\n${text}`)).toEqual([
      `c.yaml: its YAML aliases (*name) expand too far (more than ${MAX_YAML_ALIASES} nodes): write the values out`,
    ]);
  });

  test('an anchor used a few times is still fine', () => {
    expect(
      yamlProblems((text) => text.replace('ops@auraxis.com.br', '&mail ops@auraxis.com.br').replaceAll('alarmEmail: ops@auraxis.com.br', 'alarmEmail: *mail')),
    ).toEqual([]);
  });
});

describe("'{{' in a value that reaches an SSM document", () => {
  const RULE = "must not contain '{{' (SSM documents read it as a parameter reference)";
  test('in a smoke request body: one line with its key path', () => {
    expect(yamlProblems((text) => text.replace('body: { query: "" }', 'body: { query: "{{ user }}" }'))).toEqual([
      `app.smoke.checks.graphql.body.query: ${RULE}`,
    ]);
  });

  test('anywhere else, with the other problems of the file, all at once', () => {
    expect(
      brokenBy((c) => {
        c.app.smoke.checks.health.headers = { 'X-Trace': 'a{{b' };
        c.environments.prod.smoke.checks.me.body = '{{ssm:/x}}';
        c.environments.prod.account = '123';
      }),
    ).toEqual([
      'environments.prod.account: "123" is not a 12-digit AWS account id',
      `app.smoke.checks.health.headers.X-Trace: ${RULE}`,
      `environments.prod.smoke.checks.me.body: ${RULE}`,
    ]);
  });

  test('a single brace is fine', () => {
    expect(brokenBy((c) => (c.app.smoke.checks.graphql.body = { query: '{ me { id } }' }))).toEqual([]);
  });
});

describe('errors never repeat a value that may be a secret', () => {
  test('a password written as a value: the key and the rule only', () => {
    const problems = brokenBy((c) => (c.environments.prod.smoke.login.credentials.password = 'hunter2'));
    expect(problems).toEqual(['environments.prod.smoke.login.credentials.password: must be a secret reference { secret: NAME }, never a value']);
  });

  test('an inline DATABASE_URL with its password, wherever it lands', () => {
    const url = 'postgres://app:s3cr3t-pw@db.internal:5432/app';
    const problems = [
      ...brokenBy((c) => c.app.secrets.optional.push(url)),
      ...brokenBy((c) => (c.environments.prod.kubernetes.existingSecret = url)),
      ...brokenBy((c) => (c.app.smoke.checks.health.path = url)),
      ...brokenBy((c) => (c.environments.dev.kubernetes.settings.corsOrigins = [url])),
    ];
    expect(problems).toEqual([
      'app.secrets.optional[2]: is not a secret name (upper-case letters, digits and "_", e.g. DATABASE_URL)',
      'environments.prod.kubernetes.existingSecret: is not a DNS label (lower-case letters, digits and "-", at most 63 characters)',
      'app.smoke.checks.health.path: is not a URL path starting with "/" (a query string is allowed)',
      expect.stringMatching(/^environments\.dev\.kubernetes\.settings\.corsOrigins\[0\]: [a-z]/),
    ]);
    for (const problem of problems) expect(problem).not.toContain('s3cr3t-pw');
  });

  test.each<[string, readonly (string | number)[], unknown, boolean]>([
    ['a number', ['environments', 'prod', 'logs', 'retentionDays'], 400, true],
    ['an account id', ['environments', 'prod', 'account'], '12345', true],
    ['a region', ['environments', 'prod', 'region'], 'mars-east-1', true],
    ['a secret name under secrets', ['app', 'secrets', 'invalidatesSessions', 0], 'JWT_SECRET', true],
    ['any string under a password key', ['x', 'password'], 'correct horse', false],
    ['any string under a token key', ['x', 'apiToken'], 'abc', false],
    ['a URL with user info', ['app', 'repository'], 'https://u:p@h/x', false],
    ['an AWS access key id', ['x', 'note'], 'AKIAIOSFODNN7EXAMPLE', false],
    ['a GitHub token', ['x', 'note'], 'ghp_abcdefghijklmnopqrstuvwxyz0123', false],
    ['a JWT', ['x', 'note'], 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig', false],
    ['a long mixed token', ['x', 'note'], 'Q7fkR2pLmX9vB4nT8sW1yZ3cD6hJ0aE5uK2i', false],
    ['a mapping with a secret-ish key', ['x', 'headers'], { Authorization: 'Bearer abc' }, false],
    ['a nested secret-ish key', ['x', 'login'], { credentials: { password: 'x' } }, false],
    ['the name of a Kubernetes Secret', ['environments', 'prod', 'kubernetes', 'existingSecret'], 'Auraxis Env', true],
    ['an external secret key (a parameter name)', ['environments', 'prod', 'kubernetes', 'externalSecret', 'remoteKey'], '/auraxis/dev/x', true],
    ['an env-file-style secret setting', ['x', 'settings', 'JWT_SECRET'], 'abc', false],
    ['a long plain label (a hostname)', ['x', 'domain'], `${'a'.repeat(64)}.example.com`, true],
  ])('mayEcho: %s → %s', (_, path, value, echo) => {
    expect(mayEcho(path, value)).toBe(echo);
  });
});
