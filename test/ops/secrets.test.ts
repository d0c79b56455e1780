import 'aws-sdk-client-mock-jest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeParametersCommand, GetParameterCommand, PutParameterCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { failedChecks, parseRotateArgs } from '../../scripts/ops/commands/rotate';
import { generateSecret, parseSecretsArgs } from '../../scripts/ops/commands/secrets';
import { runSecretCommand } from '../../scripts/ops/secrets-cli';
import { runRotate, runSecrets, type SecretsIo } from '../../scripts/ops/secrets-ops';
import { answerCommand, answerEveryCommand, fastWait } from '../helpers/command-output';
import { configWith, shippedConfig } from '../helpers/config-fixtures';
import { inService } from '../helpers/host-group';
import { startRecordingServer } from '../helpers/recording-server';

/*
 * ops secrets and ops rotate with the AWS SDK mocked at the network edge (aws-sdk-client-mock),
 * the app's HTTP answers faked through an injected fetch. Values are distinctive strings that
 * must never appear in what the operator is shown.
 */

const ssm = mockClient(SSMClient);
const autoscaling = mockClient(AutoScalingClient);
const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const logs = mockClient(CloudWatchLogsClient);
const INSTANCE = 'i-0dev';
const config = shippedConfig();
const OLD = 'old-key-value-Qz81';
const NEW = 'new-key-value-Jk27';
const NOW = new Date('2026-01-10T12:00:00Z');
const noWait = fastWait;
const ctx = { config, actor: 'ana', wait: noWait };

/** The host's answers to the secrets document, by action, in order. */
function hostAnswers(restartCodes: number[]) {
  let restarts = 0;
  answerEveryCommand(ssm, logs, (input) => {
    const action = input.Parameters?.action?.[0] ?? input.DocumentName;
    const code = action === 'restart' ? restartCodes[restarts++] : 0;
    return { exitCode: code, stderr: code ? 'unhealthy with the new value' : '' };
  });
}

function outputs(stack: string, values: Record<string, string>) {
  cfn.on(DescribeStacksCommand, { StackName: stack }).resolves({
    Stacks: [
      {
        StackName: stack,
        CreationTime: NOW,
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: Object.entries(values).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

/** A fake app: the re-encryption endpoint answers `reencrypt`, /healthz answers `health` codes in order. */
function fakeApp(reencrypt: unknown, health: number[]) {
  const calls: { url: string; body?: string }[] = [];
  const fetchImpl = (async (url: string, init?: RequestInit) => {
    calls.push({ url: String(url), body: init?.body as string | undefined });
    if (String(url).endsWith('/healthz')) return new Response('ok', { status: health.shift() ?? 200 });
    return new Response(JSON.stringify(reencrypt), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

function io(fetchImpl: typeof fetch, confirm = false): SecretsIo {
  return { readValue: async () => NEW, confirm: async () => confirm, readToken: async () => 'admin-token', fetchImpl, now: () => NOW };
}

beforeEach(() => {
  ssm.reset();
  autoscaling.reset();
  cfn.reset();
  s3.reset();
  logs.reset();
  outputs('auraxis-dev-host', {});
  inService(autoscaling, 'auraxis-dev-host', 'i-0dev');
  outputs('auraxis-dev-data', { BackupBucketName: 'auraxis-dev-backups' });
  s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'dev/auraxis-dev-20260110T030000Z.tar.gz', LastModified: new Date('2026-01-10T03:00:00Z') }] });
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: OLD, Version: 4 } });
  ssm.on(PutParameterCommand).resolvesOnce({ Version: 5 }).resolves({ Version: 6 });
});

describe('argument checks fail before any AWS call, with one line', () => {
  test.each<[string[], string]>([
    [['secrets', 'set', 'NOPE', '--env', 'dev'], 'unknown secret "NOPE" (declared in app.secrets: DATABASE_URL, SECRET_KEY,'],
    [
      ['secrets', 'set', 'SECRET_KEY', 'hunter2', '--env', 'dev'],
      'secrets set SECRET_KEY: a secret value on the command line would land in shell history and ps',
    ],
    [['secrets', 'set', 'SECRET_KEY=hunter2', '--env', 'dev'], 'secrets set SECRET_KEY=...: a secret value on the command line'],
    [['secrets', 'list'], 'secrets list needs --env (one of dev, prod)'],
    [['secrets', 'list', '--env', 'staging'], 'unknown environment "staging"'],
    [['rotate', 'ENCRYPTION_KEY'], 'rotate needs --env (one of dev, prod)'],
    [['rotate', 'ENCRYPTION_KEY', 'hunter2', '--env', 'dev'], 'rotate ENCRYPTION_KEY: a secret value on the command line'],
    [['rotate', 'ENCRYPTION_KEY', '--env', 'prod'], 'rotate in prod needs --change-window <id>'],
    [['rotate', 'POSTGRES_PASSWORD', '--env', 'dev', '--generate', '8'], '--generate "8" is not a length from 16 to 4096'],
    [
      ['rotate', 'ENCRYPTION_KEY', '--env', 'dev'],
      'rotate ENCRYPTION_KEY in dev: refused, nothing was changed: its re-encryption call would send the old and new key and the admin token over plain HTTP to http://dev.api.auraxis.com.br/ops/security/reencrypt-exchange-secrets (environments.dev.tls is false); turn TLS on for dev (environments.dev.tls: true, deploy, then npm run ops -- tls --env dev) and rotate again',
    ],
    [['rotate', 'ENCRYPTION_KEY', '--env', 'dev', '--value', 'x'], 'ops rotate: unknown option --value (options: '],
  ])('%j', async (argv, message) => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => errors.push(line));
    try {
      expect(await runSecretCommand(config, argv)).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors).toHaveLength(1);
    expect(errors[0].split('\n')).toHaveLength(1);
    expect(errors[0]).toContain(message);
    expect(errors[0]).not.toContain('hunter2');
    expect(ssm.calls()).toHaveLength(0);
    expect(cfn.calls()).toHaveLength(0);
  });

  test('--help describes each command', () => {
    expect(() => parseSecretsArgs(['--help'], config)).toThrow(/^usage: ops secrets <list\|set NAME\|check> --env <name>/);
    expect(() => parseRotateArgs(['--help'], config)).toThrow(/security.key_rotation.started\/reencrypt\/applied\/rolled_back/);
  });
});

describe('a value that cannot be stored is refused without showing it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ops-secret-value-'));
  test.each([
    ['a line break inside', `first-line-Hq4\nsecond-line-Zt8\n`, 'has a line break or NUL inside; an env file holds one line per secret'],
    ['a carriage return inside', `first-line-Hq4\rsecond-line-Zt8`, 'has a line break or NUL inside; an env file holds one line per secret'],
    ['nothing but a newline', '\n', 'is empty'],
  ])('%s (--from-file): one line naming the file and the rule, exit 1, nothing written', async (_, value, rule) => {
    const file = join(dir, `value-${rule.length}-${value.length}`);
    writeFileSync(file, value);
    const errors: string[] = [];
    const printed: string[] = [];
    const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    try {
      expect(await runSecretCommand(config, ['secrets', 'set', 'SECRET_KEY', '--env', 'dev', '--from-file', file])).toBe(1);
    } finally {
      error.mockRestore();
      log.mockRestore();
    }
    expect(errors).toEqual([`ops secrets: the value read from ${file} ${rule}`]);
    expect(printed).toEqual([]);
    for (const line of value.split(/[\r\n]/).filter(Boolean)) expect([...errors, ...printed].join('\n')).not.toContain(line);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });
});

describe('ops secrets', () => {
  test('set writes a standard-tier SecureString under the environment path and never shows the value', async () => {
    const outcome = await runSecrets(ctx, parseSecretsArgs(['set', 'SECRET_KEY', '--env', 'dev'], config), io(fetch));
    expect(ssm).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/auraxis/dev/SECRET_KEY',
      Value: NEW,
      Type: 'SecureString',
      Overwrite: true,
      Tier: 'Standard',
    });
    expect(outcome.text).toContain('SECRET_KEY: version 5 written to /auraxis/dev/SECRET_KEY');
    expect(JSON.stringify(outcome)).not.toContain(NEW);
  });

  test('list shows names, versions and who changed them from metadata only, and the missing required ones', async () => {
    ssm.on(DescribeParametersCommand).resolves({
      Parameters: [{ Name: '/auraxis/dev/DATABASE_URL', Version: 3, LastModifiedDate: NOW, LastModifiedUser: 'arn:aws:iam::1:user/ana' }],
    });
    const outcome = await runSecrets(ctx, parseSecretsArgs(['list', '--env', 'dev'], config), io(fetch));
    expect(ssm).toHaveReceivedCommandWith(DescribeParametersCommand, { ParameterFilters: [{ Key: 'Path', Option: 'OneLevel', Values: ['/auraxis/dev'] }] });
    expect(ssm).not.toHaveReceivedCommand(GetParameterCommand);
    expect(outcome.text).toMatch(/DATABASE_URL\s+yes\s+3\s+-\s+2026-01-10T12:00:00.000Z\s+arn:aws:iam::1:user\/ana/);
    expect(outcome.text).toContain('MISSING required: SECRET_KEY, ENCRYPTION_KEY, POSTGRES_PASSWORD, REDIS_PASSWORD');
  });

  test('check fails when the running release is on an older version than the store', async () => {
    ssm.on(DescribeParametersCommand).resolves({
      Parameters: ['DATABASE_URL', 'SECRET_KEY', 'ENCRYPTION_KEY', 'POSTGRES_PASSWORD', 'REDIS_PASSWORD'].map((n) => ({
        Name: `/auraxis/dev/${n}`,
        Version: n === 'ENCRYPTION_KEY' ? 5 : 1,
      })),
    });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-v' } });
    const running = { DATABASE_URL: 1, SECRET_KEY: 1, ENCRYPTION_KEY: 4, POSTGRES_PASSWORD: 1, REDIS_PASSWORD: 1 };
    answerCommand(logs, 'cmd-v', INSTANCE, { exitCode: 0, stdout: JSON.stringify({ versions: running }) });
    const outcome = await runSecrets(ctx, parseSecretsArgs(['check', '--env', 'dev'], config), io(fetch));
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain('FAIL ENCRYPTION_KEY: the running release was started with version 4, the store has version 5');
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'auraxis-dev-secrets',
      Parameters: { action: ['versions'], requestedBy: ['ana'] },
    });

    // Positive control: the same store with the host on the newest versions passes.
    logs.reset();
    answerCommand(logs, 'cmd-v', INSTANCE, { exitCode: 0, stdout: JSON.stringify({ versions: { ...running, ENCRYPTION_KEY: 5 } }) });
    expect((await runSecrets(ctx, parseSecretsArgs(['check', '--env', 'dev'], config), io(fetch))).ok).toBe(true);
  });
});

/** dev with TLS on: the shipped dev serves plain HTTP, where a rotation with a re-encryption call is refused. */
const devWithTls = configWith((c) => {
  c.environments.dev.tls = true;
  c.environments.dev.kubernetes.tlsSecretName = 'auraxis-api-tls';
});

describe('ops rotate', () => {
  const rotate = (argv: string[], app: ReturnType<typeof fakeApp>, confirm = false) =>
    runRotate({ ...ctx, config: devWithTls }, parseRotateArgs(argv, devWithTls), io(app.fetchImpl, confirm));
  const audits = () =>
    ssm
      .commandCalls(SendCommandCommand)
      .filter((c) => c.args[0].input.Parameters?.action?.[0] === 'audit')
      .map((c) => `${c.args[0].input.Parameters?.event}:${c.args[0].input.Parameters?.result}`);

  test('happy path: dry run checks, apply, new version, restart, health gate; audited', async () => {
    hostAnswers([0]);
    const app = fakeApp({ scanned: 12, updated: 12 }, [200]);
    const outcome = await rotate(['ENCRYPTION_KEY', '--env', 'dev'], app);

    expect(outcome.ok).toBe(true);
    expect(outcome.text).toContain('rotated ENCRYPTION_KEY: version 5 is live and the release is healthy');
    const bodies = app.calls
      .filter((c) => c.url === 'https://dev.api.auraxis.com.br/ops/security/reencrypt-exchange-secrets')
      .map((c) => JSON.parse(c.body as string));
    expect(bodies).toEqual([
      { old_key: OLD, new_key: NEW, dry_run: true },
      { old_key: OLD, new_key: NEW, dry_run: false },
    ]);
    expect(ssm).toHaveReceivedCommandWith(PutParameterCommand, { Name: '/auraxis/dev/ENCRYPTION_KEY', Value: NEW, Type: 'SecureString', Overwrite: true });
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'auraxis-dev-secrets',
      Parameters: { action: ['restart'], name: ['ENCRYPTION_KEY'], requestedBy: ['ana'] },
    });
    expect(audits()).toEqual(['started:ok', 'reencrypt:ok', 'applied:ok']);
    expect(JSON.stringify(outcome)).not.toContain(NEW);
    expect(JSON.stringify(outcome)).not.toContain(OLD);
    // No value ever travels as an SSM document parameter (those are kept in SSM's command history).
    for (const call of ssm.commandCalls(SendCommandCommand)) expect(JSON.stringify(call.args[0].input)).not.toMatch(new RegExp(`${NEW}|${OLD}`));
  });

  test('a dry run whose answer fails a check changes nothing', async () => {
    hostAnswers([]);
    const app = fakeApp({ scanned: 12, updated: 11 }, []);
    const outcome = await rotate(['ENCRYPTION_KEY', '--env', 'dev'], app);
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain(
      're-encryption dry run of ENCRYPTION_KEY at /ops/security/reencrypt-exchange-secrets did not pass: "updated == scanned" does not hold (updated = 11, scanned = 12). Nothing was changed',
    );
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
    expect(app.calls).toHaveLength(1);
    expect(audits()).toEqual(['started:ok', 'reencrypt:refused']);
  });

  test('unhealthy after the restart: previous value back, data re-encrypted back, restarted healthy, exit non-zero saying so', async () => {
    hostAnswers([1, 0]);
    const app = fakeApp({ scanned: 3, updated: 3 }, [200]);
    const outcome = await rotate(['ENCRYPTION_KEY', '--env', 'dev'], app);

    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain(
      'rotation of ENCRYPTION_KEY FAILED (the restart on the host failed: exit 1 (Failed): unhealthy with the new value). The previous value is back as version 6; the release restarted with it and is healthy',
    );
    expect(ssm.commandCalls(PutParameterCommand).map((c) => [c.args[0].input.Name, c.args[0].input.Value, c.args[0].input.Overwrite])).toEqual([
      ['/auraxis/dev/ENCRYPTION_KEY', NEW, true],
      ['/auraxis/dev/ENCRYPTION_KEY', OLD, true],
    ]);
    expect(JSON.parse(app.calls[2].body as string)).toEqual({ old_key: NEW, new_key: OLD, dry_run: false });
    expect(audits()).toEqual(['started:ok', 'reencrypt:ok', 'applied:failed', 'rolled_back:ok']);
  });

  test('a failed health gate after a good restart also rolls back', async () => {
    hostAnswers([0, 0]);
    const outcome = await rotate(['POSTGRES_PASSWORD', '--env', 'dev'], fakeApp({}, [503, 200]));
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain('the health gate failed after the restart: https://dev.api.auraxis.com.br/healthz answered 503');
    expect(audits()).toEqual(['started:ok', 'applied:failed', 'rolled_back:ok']);
  });

  test('a stale backup is taken first; when that fails nothing changes', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'dev/auraxis-dev-20260101T030000Z.tar.gz', LastModified: new Date('2026-01-01T03:00:00Z') }] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-b' } });
    answerCommand(logs, 'cmd-b', INSTANCE, { exitCode: 1, stderr: 'pg_dump failed' });
    const outcome = await rotate(['POSTGRES_PASSWORD', '--env', 'dev'], fakeApp({}, []));
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain('no backup younger than 24 h (latest: 2026-01-01T03:00:00.000Z): taking one now');
    expect(outcome.text).toContain('no recent backup and taking one failed (exit 1 (Failed): pg_dump failed): nothing was changed');
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, { DocumentName: 'auraxis-dev-backup' });
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'auraxis-dev-backups', Prefix: 'dev/auraxis-dev-' });
  });

  test('SECRET_KEY warns that sessions end and needs confirmation', async () => {
    hostAnswers([0]);
    ssm.on(GetParameterCommand, { Name: '/auraxis/dev/SECRET_KEY', WithDecryption: true }).resolves({ Parameter: { Value: OLD, Version: 1 } });
    const refused = await rotate(['SECRET_KEY', '--env', 'dev'], fakeApp({}, [200]), false);
    expect(refused.ok).toBe(false);
    expect(refused.text).toContain('rotation of SECRET_KEY not confirmed: nothing was changed (Rotating SECRET_KEY in dev invalidates every session');
    expect(ssm.calls()).toHaveLength(0);

    const confirmed = await rotate(['SECRET_KEY', '--env', 'dev'], fakeApp({}, [200]), true);
    expect(confirmed.ok).toBe(true);
    expect(confirmed.text).toContain('all users are logged out');
  });
});

describe('ops rotate never sends keys or tokens over plain HTTP', () => {
  let app: { url: string; requests: string[]; close: () => Promise<void> };
  beforeAll(async () => {
    app = await startRecordingServer((path) => (path.endsWith('/healthz') ? { status: 200, body: 'ok' } : { status: 200, body: { scanned: 3, updated: 3 } }));
  });
  afterAll(() => app.close());
  beforeEach(() => {
    app.requests.splice(0);
    // Everything a rotation needs to reach its re-encryption call: a value, a recent backup, a host that answers.
    hostAnswers([0]);
  });
  // Every request, to whatever host and scheme, reaches the recording server.
  const fetchImpl = ((url: string, init?: RequestInit) => fetch(String(url).replace(/^https?:\/\/[^/]+/, app.url), init)) as typeof fetch;
  const stderrOf = async (run: () => Promise<number>) => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => errors.push(line));
    try {
      return { code: await run(), errors };
    } finally {
      spy.mockRestore();
    }
  };

  test('the CLI refuses a rotation with a re-encryption call in a TLS-off environment: one line, exit 2, no request, no AWS call', async () => {
    const { code, errors } = await stderrOf(() =>
      runSecretCommand(config, ['rotate', 'ENCRYPTION_KEY', '--env', 'dev', '--token-file', '/dev/null'], io(fetchImpl)),
    );
    expect(code).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^rotate ENCRYPTION_KEY in dev: refused, nothing was changed: .* over plain HTTP .*; turn TLS on for dev /);
    expect(app.requests).toEqual([]);
    expect(ssm.calls()).toHaveLength(0);
  });

  test('so does the sequence itself, for a caller that did not parse the command line', async () => {
    const args = { command: 'rotate', env: 'dev', name: 'ENCRYPTION_KEY', source: { kind: 'stdin' }, confirmed: true, json: false } as const;
    const outcome = await runRotate(ctx, args, io(fetchImpl));
    expect(outcome).toMatchObject({ ok: false, exitCode: 2 });
    expect(outcome.text).toMatch(/^rotate ENCRYPTION_KEY in dev: refused, nothing was changed/);
    expect(app.requests).toEqual([]);
    expect(ssm.calls()).toHaveLength(0);
  });

  test('positive controls: with TLS on the same rotation calls the app (over https), and a secret without a re-encryption call rotates in the TLS-off dev', async () => {
    const tls = await runRotate({ ...ctx, config: devWithTls }, parseRotateArgs(['ENCRYPTION_KEY', '--env', 'dev'], devWithTls), io(fetchImpl));
    expect(tls.ok).toBe(true);
    expect(app.requests).toEqual(['POST /ops/security/reencrypt-exchange-secrets', 'POST /ops/security/reencrypt-exchange-secrets', 'GET /healthz']);
    app.requests.splice(0);
    hostAnswers([0]);
    const plain = await runRotate(ctx, parseRotateArgs(['POSTGRES_PASSWORD', '--env', 'dev'], config), io(fetchImpl));
    expect(plain.ok).toBe(true);
    expect(app.requests).toEqual(['GET /healthz']);
  });
});

describe('pure pieces', () => {
  test('failedChecks: a check holds, fails, or names a missing field', () => {
    expect(failedChecks(['scanned > 0', 'updated == scanned'], { scanned: 5, updated: 5 })).toEqual([]);
    expect(failedChecks(['scanned > 0'], { scanned: 0 })).toEqual(['"scanned > 0" does not hold (scanned = 0)']);
    expect(failedChecks(['updated == scanned'], { scanned: 2 })).toEqual(['"updated == scanned": updated is not a number in the answer']);
  });

  test('generateSecret: the requested length from a 64-symbol alphabet', () => {
    const value = generateSecret(48, (n) => Buffer.alloc(n, 255));
    expect(value).toBe('_'.repeat(48));
    expect(generateSecret(32, (n) => Buffer.from([...Array(n).keys()]))).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
