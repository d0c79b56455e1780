import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot, shippedConfigPath } from '../helpers/paths';

/*
 * The programs a user types, run for real (ts-node with swc, as `npm run` does): every command-line
 * or config mistake is one line per problem, a non-zero exit, no stack trace and nothing written.
 * (Each program's --help: test/docs/readme.test.ts.)
 */

const scratch = mkdtempSync(join(tmpdir(), 'entry-points-'));

/** Runs a program as `npm run` does (asynchronously: the tests of this file run concurrently, each a fresh node). */
function run(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script, ...args], {
      cwd: projectRoot,
      env: { ...process.env, TS_NODE_SWC: 'true', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** A stack trace prints frames as `    at fn (file:line)`. */
const STACK_FRAME = /^\s+at /m;

describe('npm run synth', () => {
  test.concurrent.each<[string, string[], string]>([
    ['--out without a value', ['--out'], 'synth: --out needs a value (--out <value> or --out=<value>)'],
    ['a misspelt flag', ['--outdir', 'x'], 'synth: unknown option --outdir (options: --out <value>, --help)'],
    ['--out twice', ['--out', 'a', '--out', 'b'], 'synth: --out is given twice; give it once'],
    ['a stray argument', ['dev'], 'synth: unexpected argument "dev" (this command takes options only)'],
  ])('%s: exit 2 with one line', async (_, args, line) => {
    const result = await run('bin/synth.ts', args);
    expect(result).toEqual({ status: 2, stdout: '', stderr: `${line}\n` });
  });

  test.concurrent('a missing APP_CONFIG file is one line, exit 1', async () => {
    const missing = join(scratch, 'nope.yaml');
    const result = await run('bin/synth.ts', [], { APP_CONFIG: missing });
    expect(result).toEqual({
      status: 1,
      stdout: '',
      stderr: `config file ${missing} (from APP_CONFIG=${missing}) does not exist: point APP_CONFIG at a YAML file, or unset it to use config/environments.yaml\n`,
    });
  });

  test.concurrent('config that used to crash synth half-way is listed line by line, exit 1, nothing written', async () => {
    const shipped = readFileSync(shippedConfigPath, 'utf8');
    const bad = shipped
      .replace('type: t4g.small', 'type: t4g.gigantic')
      .replace('metricsPort: 9464', 'metricsPort: 3000')
      .replace(/^ {2}dev:$/m, '  argocd:');
    const config = join(scratch, 'bad.yaml');
    writeFileSync(config, bad);
    const out = join(scratch, 'out');

    const result = await run('bin/synth.ts', ['--out', out], { APP_CONFIG: config });

    expect(result.status).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `Invalid configuration in ${config}:`,
      '  - app.metricsPort: 3000 must differ from app.port (3000)',
      '  - environments.argocd: name "argocd" is reserved (argocd, all mean something else to the manifests and the ops CLI): rename the environment',
      expect.stringMatching(/^ {2}- environments\.prod\.instance\.type: "t4g\.gigantic" is not an instance type this project knows/),
    ]);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});

describe('npm run bench', () => {
  test.concurrent.each<[string[], string]>([
    [['--fast'], 'bench: unknown option --fast (options: --runs <value>, --help)'],
    [['--runs', '0'], 'bench: --runs "0" is not a positive whole number'],
  ])('%j exits 2 with one line before measuring anything', async (args, line) => {
    expect(await run('scripts/bench/synth-bench.ts', args)).toEqual({ status: 2, stdout: '', stderr: `${line}\n` });
  });
});

describe('npm run ops', () => {
  test.concurrent("status --help exits 0 with the command's options", async () => {
    const result = await run('scripts/ops/cli.ts', ['status', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: ops status --env <name\|all>\n/);
  });

  test.concurrent.each<[string[], string]>([
    [['deploy', '--env', 'prod', '--dry-run'], 'ops deploy: unknown option --dry-run (options: --env <value>, --ref <value>, --json, --help)'],
    [['deploy', '--env', 'dev', '--env', 'prod'], 'ops deploy: --env is given twice; give it once'],
    [['status', '--env=staging'], 'ops status: unknown environment "staging" for --env (one of dev, prod, or all)'],
  ])('%j exits 2 with one line and no AWS credentials needed', async (args, line) => {
    // Credentials that would fail any real call: a call would end differently (exit 1, an AWS message).
    const result = await run('scripts/ops/cli.ts', args, { AWS_ACCESS_KEY_ID: 'none', AWS_SECRET_ACCESS_KEY: 'none', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    expect(result).toEqual({ status: 2, stdout: '', stderr: `${line}\n` });
  });

  test.concurrent('an AWS error is one line on every supported Node (no SDK version warning before it)', async () => {
    // A real SDK call that fails at once: nothing listens on the endpoint (port 1 on loopback).
    const env = { AWS_ACCESS_KEY_ID: 'none', AWS_SECRET_ACCESS_KEY: 'none', AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_MAX_ATTEMPTS: '1' };
    const result = await run('scripts/ops/cli.ts', ['outputs', '--env', 'dev'], env);
    expect(result.status).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^ops: .*ECONNREFUSED/)]);
    // The switch is the SDK's and covers only its version warning: the operator can still turn it on.
    const shown = await run('scripts/ops/cli.ts', ['outputs', '--env', 'dev'], { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
    if (Number(process.versions.node.split('.')[0]) < 22) expect(shown.stderr).toContain('NodeVersionSupportWarning');
  });

  test.concurrent('an invalid config is reported without a stack trace', async () => {
    const config = join(scratch, 'bad-ops.yaml');
    writeFileSync(config, readFileSync(shippedConfigPath, 'utf8').replace('metricsPort: 9464', 'metricsPort: 3000'));
    const result = await run('scripts/ops/cli.ts', ['status', '--env', 'prod'], { APP_CONFIG: config });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`Invalid configuration in ${config}:\n  - app.metricsPort: 3000 must differ from app.port (3000)\n`);
  });
});
