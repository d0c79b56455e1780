import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { USAGE_EXIT_CODE } from '../../lib/cli/command-line';
import { environmentsOf, type NamedEnvironment } from '../../lib/config';
import { secretsPath } from '../../lib/config/schema/secrets';
import { backupPrefix, outputNames, stackNames } from '../../lib/names';
import { latestBackupTime } from './aws/backups';
import { probeHealth } from './aws/environment-facts';
import { describeSecrets, readSecret, writeSecret } from './aws/parameters';
import type { CommandResult } from './aws/run-command';
import { requireOutput, stackOutputs } from './aws/stack-outputs';
import { failedChecks, plainHttpRefusal, type RotateArgs, reencryptRequest, sessionWarning } from './commands/rotate';
import { formatRows, parameterName, putSecretInput, type SecretsArgs, secretProblems, secretRows, type ValueSource } from './commands/secrets';
import { healthUrl } from './commands/validate';
import { type OpsContext, type OpsOutcome, runHostOperation } from './ops';

/*
 * `ops secrets` and `ops rotate`: the sequences. Pure pieces in commands/secrets.ts and
 * commands/rotate.ts, SDK edges in aws/. Nothing here prints or returns a secret value.
 */

/** What the CLI edge supplies: reading the value, asking the operator, calling the app. */
export interface SecretsIo {
  /** The new value from stdin, a file or the generator. */
  readonly readValue: (source: ValueSource) => Promise<string>;
  /** Asks a yes/no question on the terminal; false when there is none. */
  readonly confirm: (question: string) => Promise<boolean>;
  /** The admin token for the re-encryption hook (`--token-file`). */
  readonly readToken: (path: string) => Promise<string>;
  readonly fetchImpl?: typeof fetch;
  readonly now?: () => Date;
}

const requestedBy = (actor: string) => actor.replace(/[^A-Za-z0-9@._:/+=-]/g, '-');

function environmentOf(ctx: OpsContext, name: string): NamedEnvironment {
  return environmentsOf(ctx.config).find((e) => e.name === name) as NamedEnvironment;
}

/** The versions the running release was started with, from the host's secrets document. */
async function runningVersions(ctx: OpsContext, env: NamedEnvironment): Promise<Record<string, number> | undefined> {
  const result = await runHostOperation(ctx, env, 'secrets', { action: 'versions', requestedBy: requestedBy(ctx.actor) });
  if (result.status !== 'Success' || result.exitCode !== 0) return undefined;
  try {
    const versions = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))).versions;
    return versions && Object.keys(versions).length > 0 ? versions : undefined;
  } catch {
    return undefined;
  }
}

export async function runSecrets(ctx: OpsContext, args: SecretsArgs, io: SecretsIo): Promise<OpsOutcome> {
  const env = environmentOf(ctx, args.env);
  const ssm = new SSMClient({ region: env.region });
  const path = secretsPath(ctx.config.app.name, env.name, env.secrets);

  if (args.action === 'set') {
    const name = args.name as string;
    const value = await io.readValue(args.source as ValueSource);
    const version = await writeSecret(ssm, putSecretInput(parameterName(ctx.config, env.name, name), value));
    const text = `[${env.name}] ${name}: version ${version} written to ${path}${name} (SecureString). The host uses it from its next deploy; to restart with it now: npm run ops -- rotate ${name} --env ${env.name}`;
    return { ok: true, text, json: { env: env.name, name, version } };
  }

  const facts = await describeSecrets(ssm, path);
  if (args.action === 'list') {
    const rows = secretRows(ctx.config, env.name, facts);
    const missing = rows.filter((r) => r.required && r.version === undefined).map((r) => r.name);
    const text = `${formatRows(env.name, rows)}${missing.length ? `\n[${env.name}] MISSING required: ${missing.join(', ')} (a deploy refuses without them)` : ''}`;
    return { ok: true, text, json: { env: env.name, path, secrets: rows } };
  }

  // check
  const running = await runningVersions(ctx, env);
  const rows = secretRows(ctx.config, env.name, facts, running);
  const problems = secretProblems(rows, running !== undefined);
  const text = `${formatRows(env.name, rows)}\n${problems.length ? problems.map((p) => `[${env.name}] FAIL ${p}`).join('\n') : `[${env.name}] OK: every required secret is set and the running release uses the newest versions`}`;
  return { ok: problems.length === 0, text, json: { env: env.name, path, secrets: rows, problems } };
}

const failedRun = (r: CommandResult) => `exit ${r.exitCode} (${r.status}): ${r.stderr.trim().split('\n').at(-1) ?? ''}`;

/** `ops rotate`: see ROTATE_USAGE for the sequence. */
export async function runRotate(ctx: OpsContext, args: RotateArgs, io: SecretsIo): Promise<OpsOutcome> {
  const env = environmentOf(ctx, args.env);
  const { name } = args;
  const app = ctx.config.app.name;
  const secrets = ctx.config.app.secrets;
  const parameter = parameterName(ctx.config, env.name, name);
  const steps: string[] = [];
  const say = (line: string) => steps.push(`[${env.name}] ${line}`);
  const done = (ok: boolean, summary: string) => ({
    ok,
    text: [...steps, `[${env.name}] ${summary}`].join('\n'),
    json: { env: env.name, name, ok, steps, summary },
  });
  const host = (parameters: Record<string, string>) => runHostOperation(ctx, env, 'secrets', { name, requestedBy: requestedBy(ctx.actor), ...parameters });
  const audit = (event: 'started' | 'reencrypt' | 'applied' | 'rolled_back', result: 'ok' | 'failed' | 'refused' | 'critical') =>
    host({ action: 'audit', event, result });
  const fetchImpl = io.fetchImpl ?? fetch;
  const now = io.now ?? (() => new Date());

  // 0. Keys and tokens never travel over plain HTTP (parseRotateArgs refuses first; this holds for any caller).
  const refusal = plainHttpRefusal(ctx.config, env.name, name);
  if (refusal) return { ok: false, exitCode: USAGE_EXIT_CODE, text: refusal, json: { env: env.name, name, ok: false, steps: [], summary: refusal } };

  // 1. Preconditions, before anything changes.
  if (secrets.invalidatesSessions.includes(name) && !args.confirmed && !(await io.confirm(`${sessionWarning(name, env.name)} Continue? [y/N] `))) {
    return done(false, `rotation of ${name} not confirmed: nothing was changed (${sessionWarning(name, env.name)} Confirm with --yes)`);
  }
  if (secrets.invalidatesSessions.includes(name)) say(sessionWarning(name, env.name));
  const ssm = new SSMClient({ region: env.region });
  const current = await readSecret(ssm, parameter);
  if (!current)
    return done(false, `${name} has no value in ${parameter} yet: nothing to rotate; set it first with: npm run ops -- secrets set ${name} --env ${env.name}`);
  const newValue = await io.readValue(args.source);
  if (newValue === current.value) return done(false, `the new value of ${name} equals the current one (version ${current.version}): nothing was changed`);
  const token = args.tokenFile ? await io.readToken(args.tokenFile) : undefined;

  const dataStack = stackNames.data(app, env.name);
  const bucket = requireOutput(await stackOutputs(new CloudFormationClient({ region: env.region }), dataStack), dataStack, outputNames.backupBucketName);
  const s3 = new S3Client({ region: env.region });
  const prefix = `${backupPrefix(env.name)}${app}-${env.name}-`;
  const maxAgeMs = secrets.maxBackupAgeHours * 3600_000;
  let latest = await latestBackupTime(s3, bucket, prefix);
  if (!latest || now().getTime() - latest.getTime() > maxAgeMs) {
    say(`no backup younger than ${secrets.maxBackupAgeHours} h (latest: ${latest?.toISOString() ?? 'none'}): taking one now`);
    const backup = await runHostOperation(ctx, env, 'backup', {});
    latest = await latestBackupTime(s3, bucket, prefix);
    if (backup.exitCode !== 0 || !latest || now().getTime() - latest.getTime() > maxAgeMs) {
      return done(
        false,
        `no recent backup and taking one failed (${failedRun(backup)}): nothing was changed; fix the backup (ops backup --env ${env.name}) and retry`,
      );
    }
  }
  say(`backup ok: latest ${latest.toISOString()}${args.changeWindow ? `; change window ${args.changeWindow}` : ''}`);
  await audit('started', 'ok');

  // 2. Re-encryption hook: dry run and checks, then apply.
  const hook = secrets.reencrypt[name];
  // TLS on whenever a hook exists (plainHttpRefusal above): keys and the token go over HTTPS only.
  const baseUrl = `https://${env.domain}`;
  let reencrypted = false;
  const callHook = async (keys: { oldKey: string; newKey: string }, dryRun: boolean): Promise<{ ok: boolean; body?: unknown; problem?: string }> => {
    const request = reencryptRequest(hook, baseUrl, keys, dryRun, token);
    try {
      const response = await fetchImpl(request.url, { ...request.init, signal: AbortSignal.timeout(120_000) });
      const body = await response.json().catch(() => undefined);
      if (!response.ok) return { ok: false, problem: `HTTP ${response.status}` };
      return { ok: true, body };
    } catch (error) {
      return { ok: false, problem: (error as Error).message };
    }
  };
  if (hook) {
    const dry = await callHook({ oldKey: current.value, newKey: newValue }, true);
    const failures = dry.ok ? failedChecks(hook.checks, dry.body) : [`the dry run failed: ${dry.problem}`];
    if (failures.length > 0) {
      await audit('reencrypt', 'refused');
      return done(false, `re-encryption dry run of ${name} at ${hook.path} did not pass: ${failures.join('; ')}. Nothing was changed`);
    }
    say(`re-encryption dry run passed: ${hook.checks.join(', ')}`);
    const apply = await callHook({ oldKey: current.value, newKey: newValue }, false);
    if (!apply.ok) {
      await audit('reencrypt', 'failed');
      return done(
        false,
        `re-encryption of ${name} failed (${apply.problem}); the key was NOT changed. Check the app's data with its own tools before retrying`,
      );
    }
    reencrypted = true;
    await audit('reencrypt', 'ok');
    say('re-encryption applied');
  }

  // 3.-4. New version, restart, health gate.
  const newVersion = await writeSecret(ssm, putSecretInput(parameter, newValue));
  say(`${name}: version ${newVersion} written (previous: ${current.version})`);
  const restart = await host({ action: 'restart' });
  let failure = restart.status === 'Success' && restart.exitCode === 0 ? undefined : `the restart on the host failed: ${failedRun(restart)}`;
  if (!failure) {
    const health = await probeHealth(healthUrl(ctx.config.app, env), 10_000, fetchImpl);
    if (health.status === undefined || health.status < 200 || health.status >= 400)
      failure = `the health gate failed after the restart: ${health.url} answered ${health.status ?? health.error}`;
  }
  if (!failure) {
    await audit('applied', 'ok');
    return done(true, `rotated ${name}: version ${newVersion} is live and the release is healthy`);
  }

  // 5. Safety net: the previous value back, restarted, healthy again.
  say(`rotation failed: ${failure}; putting the previous value back`);
  await audit('applied', 'failed');
  if (reencrypted) {
    const back = await callHook({ oldKey: newValue, newKey: current.value }, false);
    say(back.ok ? 'data re-encrypted back to the previous key' : `re-encrypting the data back to the previous key FAILED (${back.problem})`);
  }
  const restoredVersion = await writeSecret(ssm, putSecretInput(parameter, current.value));
  const again = await host({ action: 'restart' });
  const health = again.exitCode === 0 ? await probeHealth(healthUrl(ctx.config.app, env), 10_000, fetchImpl) : undefined;
  if (again.status === 'Success' && again.exitCode === 0 && health?.status !== undefined && health.status >= 200 && health.status < 400) {
    await audit('rolled_back', 'ok');
    return done(
      false,
      `rotation of ${name} FAILED (${failure}). The previous value is back as version ${restoredVersion}; the release restarted with it and is healthy`,
    );
  }
  await audit('rolled_back', 'critical');
  return done(
    false,
    `rotation of ${name} FAILED (${failure}) and the release is NOT healthy with the previous value (version ${restoredVersion}): ${again.exitCode !== 0 ? failedRun(again) : `${health?.url} answered ${health?.status ?? health?.error}`}. Act now: ops status --env ${env.name}`,
  );
}
