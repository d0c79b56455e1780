import 'aws-sdk-client-mock-jest';
import type { Server } from 'node:http';
import { CloudWatchLogsClient, FilterLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { readLogs } from '../../scripts/ops/aws/logs';
import { filterInput, literalFilterPattern, parseDuration } from '../../scripts/ops/commands/logs';
import { helpRequested, parseArgs } from '../../scripts/ops/commands/parse-args';
import { runOps } from '../../scripts/ops/ops';
import { configWith, shippedConfig } from '../helpers/config-fixtures';
import { startSmokeApp } from '../helpers/smoke-app';

/*
 * `ops smoke` against a local app (the same runner the smoke-prod workflow uses), and `ops logs`
 * on FilterLogEvents with aws-sdk-client-mock: paging, grep, follow, a missing group, progress.
 */

const logs = mockClient(CloudWatchLogsClient);
const ENVS = ['dev', 'prod'];
beforeEach(() => logs.reset());

describe('ops smoke', () => {
  const config = shippedConfig();
  let server: Server;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await startSmokeApp({ email: 'e@x.test', password: 'pw-secret-1', token: 'tok-secret-2' }));
  });
  afterAll(() => server.close());

  test('parses --url and --help; needs --env', () => {
    expect(parseArgs(['smoke', '--env', 'prod', '--url', 'http://127.0.0.1:3001/'], ENVS)).toMatchObject({
      command: 'smoke',
      envs: ['prod'],
      smoke: { url: 'http://127.0.0.1:3001' },
    });
    const help = helpRequested(['smoke', '--help']) ?? '';
    expect(help).toMatch(/^usage: ops smoke --env <name\|all> \[--url <base-url>\]/);
    expect(help).toContain("Runs the environment's smoke checks");
    expect(help).toContain('npm run ops -- logs --env <name> --since 15m');
    expect(() => parseArgs(['smoke'], ENVS)).toThrow('ops smoke: needs --env');
    expect(() => parseArgs(['smoke', '--env', 'prod', '--url', 'ftp://x'], ENVS)).toThrow('ops smoke: --url needs an http(s) base URL, got "ftp://x"');
    expect(() => parseArgs(['smoke', '--env', 'prod', '--since', '2h'], ENVS)).toThrow('ops smoke: unknown option --since');
  });

  test("passes with the secrets from the caller's environment, printing neither them nor the token", async () => {
    const secrets: Record<string, string> = { SMOKE_EMAIL: 'e@x.test', SMOKE_PASSWORD: 'pw-secret-1' };
    const outcome = await runOps({ config, actor: 'ana', secrets: (n) => secrets[n] }, parseArgs(['smoke', '--env', 'prod', '--url', url], ENVS));
    expect(outcome.text.split('\n')).toEqual([
      `[prod] smoke against ${url}`,
      'ok   login: POST /auth/login -> 200 (token captured)',
      'ok   health: GET /healthz -> 200',
      'ok   graphql: POST /graphql -> 400',
      'ok   invalid-login: POST /auth/login -> 401',
      'ok   me: GET /auth/me -> 200',
      `smoke: 5 passed, 0 failed (${url})`,
    ]);
    expect(outcome.ok).toBe(true);
    expect(JSON.stringify(outcome)).not.toMatch(/pw-secret-1|tok-secret-2/);
  });

  describe('credentials and tokens never over plain HTTP', () => {
    const secrets: Record<string, string> = { SMOKE_EMAIL: 'e@x.test', SMOKE_PASSWORD: 'pw-secret-1' };
    let app: { server: Server; url: string; requests: string[] };
    beforeAll(async () => {
      app = await startSmokeApp({ email: 'e@x.test', password: 'pw-secret-1', token: 'tok-secret-2' });
    });
    afterAll(() => app.server.close());
    beforeEach(() => app.requests.splice(0));
    // Every request, to whatever host and scheme, reaches the local app: a request sent is a request recorded.
    const fetchImpl = ((url: string, init?: RequestInit) => fetch(String(url).replace(/^https?:\/\/[^/]+/, app.url), init)) as typeof fetch;
    const smoke = (cfg: typeof config, argv: string[]) =>
      runOps({ config: cfg, actor: 'ana', secrets: (n) => secrets[n], fetchImpl }, parseArgs(['smoke', ...argv], ENVS));

    test.each<[string, typeof config, string[], string]>([
      ['--url http:// to another machine', config, ['--env', 'prod', '--url', 'http://api.auraxis.com.br'], 'http://api.auraxis.com.br'],
      ['a TLS-off environment with a login', configWith((c) => (c.environments.prod.tls = false)), ['--env', 'prod'], 'http://api.auraxis.com.br'],
      [
        '--env all, one environment with a login over HTTP',
        configWith((c) => (c.environments.prod.tls = false)),
        ['--env', 'all'],
        'http://api.auraxis.com.br',
      ],
    ])('%s: refused with one line naming the environment, exit 2, and no request reaches the app', async (_name, cfg, argv, base) => {
      const outcome = await smoke(cfg, argv);
      expect(outcome.ok).toBe(false);
      expect(outcome.exitCode).toBe(2);
      expect(outcome.text.split('\n')).toEqual([
        `ops smoke --env prod: refused, no request was sent: its login (SMOKE_EMAIL, SMOKE_PASSWORD) and token would go over plain HTTP to ${base}; turn TLS on (environments.prod.tls: true), pass an https:// --url, or run it through the host: forward its port with an SSM session (AWS-StartPortForwardingSession) and pass --url http://127.0.0.1:<local port>`,
      ]);
      expect(app.requests).toEqual([]);
    });

    test('positive controls: over HTTPS, to this machine over HTTP, and without a login (dev) the checks run and reach the app', async () => {
      const https = await smoke(config, ['--env', 'prod']);
      expect(https.text.split('\n')[0]).toBe('[prod] smoke against https://api.auraxis.com.br');
      expect(https.ok).toBe(true);
      expect(app.requests).toEqual(['POST /auth/login', 'GET /healthz', 'POST /graphql', 'POST /auth/login', 'GET /auth/me']);
      app.requests.splice(0);
      expect((await smoke(config, ['--env', 'prod', '--url', 'http://localhost:1'])).ok).toBe(true);
      expect(app.requests).toHaveLength(5);
      app.requests.splice(0);
      const dev = await smoke(config, ['--env', 'dev']);
      expect(dev.text.split('\n')[0]).toBe('[dev] smoke against http://dev.api.auraxis.com.br');
      // No login step: only the config's own checks, the invalid login with its made-up, non-secret password included.
      expect(app.requests).toEqual(['GET /healthz', 'POST /graphql', 'POST /auth/login']);
    });
  });

  test('a failure says so and names the command that shows why', async () => {
    const outcome = await runOps({ config, actor: 'ana' }, parseArgs(['smoke', '--env', 'prod', '--url', url], ENVS));
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain('FAIL login: secret SMOKE_EMAIL, SMOKE_PASSWORD is not set');
    expect(outcome.text).toContain('smoke of prod FAILED; see why with: npm run ops -- logs --env prod --since 15m');
  });
});

describe('ops logs', () => {
  const config = shippedConfig();

  test('parses --since, --follow and --grep, one environment at a time', () => {
    expect(parseArgs(['logs', '--env', 'prod', '--since', '2h', '--follow', '--grep', 'smoke'], ENVS)).toMatchObject({
      command: 'logs',
      envs: ['prod'],
      logs: { sinceMs: 7_200_000, follow: true, grep: 'smoke' },
    });
    expect(parseArgs(['logs', '--env', 'dev'], ENVS).logs).toEqual({ sinceMs: 900_000, follow: false });
    expect(() => parseArgs(['logs', '--env', 'all'], ENVS)).toThrow('ops logs: one environment at a time');
    expect(() => parseDuration('15')).toThrow('ops logs: --since "15" is not a duration such as 30s, 15m, 2h or 1d');
    expect(() => parseArgs(['logs', '--env', 'prod', '--since', '0m'], ENVS)).toThrow('ops logs: --since "0m" is not a duration');
    expect(helpRequested(['logs', '--help'])).toMatch(/^usage: ops logs --env <name> \[--since <15m\|2h\|1d>\] \[--follow\] \[--grep <text>\]/);
    expect(literalFilterPattern('say "hi"')).toBe('"say \\"hi\\""');
    expect(filterInput('/g', 5, 'x')).toEqual({ logGroupName: '/g', startTime: 5, filterPattern: '"x"' });
  });

  test('reads the groups of the environment (containers, system, command output) page by page, oldest first, progress on the side', async () => {
    logs
      .on(FilterLogEventsCommand, { logGroupName: '/auraxis/prod/containers' })
      .resolvesOnce({ events: [{ eventId: 'a', timestamp: 3000, logStreamName: 'api', message: 'GET /healthz 200\n' }], nextToken: 'page-2' })
      .resolvesOnce({ events: [{ eventId: 'b', timestamp: 5000, logStreamName: 'api', message: 'smoke failed' }] });
    logs.on(FilterLogEventsCommand, { logGroupName: '/auraxis/prod/system' }).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    logs
      .on(FilterLogEventsCommand, { logGroupName: '/auraxis/prod/commands' })
      .resolves({ events: [{ eventId: 'c', timestamp: 4000, logStreamName: 'cmd-1/i-1/deploy/stdout', message: 'smoke: 3 passed' }] });
    const printed: string[] = [];
    const progress: string[] = [];

    const outcome = await runOps(
      { config, actor: 'ana', print: (l) => printed.push(l), progress: (m) => progress.push(m), now: () => 1_000_000 },
      parseArgs(['logs', '--env', 'prod', '--since', '15m', '--grep', 'smoke'], ENVS),
    );

    expect(printed).toEqual([
      '1970-01-01T00:00:03.000Z /auraxis/prod/containers api GET /healthz 200',
      '1970-01-01T00:00:04.000Z /auraxis/prod/commands cmd-1/i-1/deploy/stdout smoke: 3 passed',
      '1970-01-01T00:00:05.000Z /auraxis/prod/containers api smoke failed',
    ]);
    expect(progress).toEqual([
      '/auraxis/prod/containers: page 1, 1 events',
      '/auraxis/prod/containers: page 2, 2 events',
      '/auraxis/prod/system: no such log group (is the data stack deployed in this region?)',
      '/auraxis/prod/commands: page 1, 1 events',
    ]);
    expect(logs).toHaveReceivedCommandWith(FilterLogEventsCommand, {
      logGroupName: '/auraxis/prod/containers',
      startTime: 1_000_000 - 900_000,
      filterPattern: '"smoke"',
      nextToken: 'page-2',
    });
    expect(outcome).toMatchObject({ ok: true, json: { env: 'prod', events: 3 } });
  });

  test('--follow polls again from the newest event and prints each event once', async () => {
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [{ eventId: 'a', timestamp: 10, message: 'one' }] })
      .resolvesOnce({
        events: [
          { eventId: 'a', timestamp: 10, message: 'one' },
          { eventId: 'b', timestamp: 20, message: 'two' },
        ],
      });
    const printed: string[] = [];
    let polls = 0;
    const count = await readLogs(
      new CloudWatchLogsClient({}),
      { groups: ['/g'], startTime: 0, follow: true, sleep: async () => undefined, stop: () => ++polls > 2 },
      (l) => printed.push(l),
      () => undefined,
    );
    expect(printed.map((l) => l.split(' ').at(-1))).toEqual(['one', 'two']);
    expect(count).toBe(2);
    expect(logs).toHaveReceivedNthCommandWith(2, FilterLogEventsCommand, { logGroupName: '/g', startTime: 10 });
  });
});
