import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RATIO_GOAL, SHIPPED_WALL_GOAL_MS } from '../../scripts/bench/goals';
import { COMMANDS, commandUsage, type OpsCommand } from '../../scripts/ops/commands/parse-args';
import { parseRotateArgs } from '../../scripts/ops/commands/rotate';
import { parseSecretsArgs } from '../../scripts/ops/commands/secrets';
import { shippedConfig } from '../helpers/config-fixtures';
import { projectRoot } from '../helpers/paths';

/*
 * What the README and the docs claim that a test can check, checked against the programs
 * themselves: every `npm run` command of the README's table answers `--help` (exit 0, its usage on
 * stdout) and knows the flags the README shows; the `--env all` list is the ops CLI's own table;
 * the benchmark goals are the benchmark's constants; the Node versions agree everywhere.
 */

const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
const packageJson = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string>; engines: { node: string } };

/** The first cell of each row of the README's "Everyday commands" table. */
const tableCommands = (() => {
  const table = readme.slice(readme.indexOf('## Everyday commands'), readme.indexOf('## Speed'));
  return [...table.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]);
})();

/** `npm run NAME -- --flags` cells → the script name and the flags the README shows for it. */
const npmRuns = tableCommands
  .map((cell) => /npm run ([\w:-]+)(.*)$/.exec(cell))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ script: m[1], flags: [...m[2].matchAll(/--[a-z][a-z-]*/g)].map((f) => f[0]) }));

/** Scripts that are one ts-node program: `--help` goes to it (npm run X -- --help). */
const PROGRAM = /^ts-node --swc (\S+\.ts)$/;

function run(file: string, args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', file, ...args], {
      cwd: projectRoot,
      env: { ...process.env, TS_NODE_SWC: 'true' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

const helps = new Map<string, { status: number | null; stdout: string; stderr: string }>();

beforeAll(async () => {
  // Every program's --help at once: each is a fresh node process that only parses its options.
  const programs = [...new Set(npmRuns.map((r) => r.script))].filter((s) => PROGRAM.test(packageJson.scripts[s] ?? ''));
  await Promise.all(programs.map(async (s) => helps.set(s, await run((PROGRAM.exec(packageJson.scripts[s]) as RegExpExecArray)[1], ['--help']))));
}, 120_000);

describe("the README's commands", () => {
  test('the table names the programs (a parse that found nothing would pass everything below)', () => {
    expect(npmRuns.map((r) => r.script)).toEqual(
      expect.arrayContaining(['synth', 'bench', 'bench:deploy', 'docs:diagram', 'bootstrap', 'ops', 'review', 'review:cost']),
    );
    expect(helps.size).toBeGreaterThanOrEqual(8);
  });

  test('every npm script the README shows exists', () => {
    expect(npmRuns.map((r) => r.script).filter((s) => packageJson.scripts[s] === undefined)).toEqual([]);
  });

  test.each(['synth', 'bench', 'bench:deploy', 'docs:diagram', 'bootstrap', 'ops', 'review', 'review:cost'])(
    'npm run %s -- --help: exit 0, its usage on stdout, nothing else run',
    (script) => {
      const help = helps.get(script);
      expect({ script, status: help?.status, stderr: help?.stderr }).toEqual({ script, status: 0, stderr: '' });
      expect(help?.stdout).toMatch(new RegExp(`^usage: (npm run ${script}|ops <command>)`));
    },
  );

  test('the flags the README shows for a program are in its --help', () => {
    const missing = npmRuns.flatMap(({ script, flags }) =>
      flags.filter((flag) => helps.has(script) && !helps.get(script)?.stdout.includes(flag)).map((flag) => `${script} ${flag}`),
    );
    expect(missing).toEqual([]);
  });
});

describe("the README's ops commands", () => {
  const row = tableCommands.find((c) => c.startsWith('npm run ops')) as string;
  const opsCell = readme.split('\n').find((l) => l.startsWith(`| \`${row}\``)) as string;

  test('each command shown with its flags is in the CLI, required flags shown bare and optional ones in brackets', () => {
    const shown = [...opsCell.matchAll(/`([a-z-]+)((?: (?:\[--[a-z-]+(?: [^\]`]+)?\]|--[a-z-]+(?: [^`[\s]+)?))*)`/g)]
      .map((m) => ({ command: m[1], flags: m[2] }))
      .filter((s) => Object.hasOwn(COMMANDS, s.command));
    expect(shown.length).toBeGreaterThanOrEqual(Object.keys(COMMANDS).length);
    for (const { command, flags } of shown) {
      const options = COMMANDS[command as OpsCommand].options as Record<string, { required?: boolean }>;
      for (const m of flags.matchAll(/(\[)?--([a-z-]+)/g)) {
        expect({ command, flag: m[2], known: Object.hasOwn(options, m[2]) }).toEqual({ command, flag: m[2], known: true });
        expect({ command, flag: m[2], optional: m[1] === '[' }).toEqual({ command, flag: m[2], optional: !options[m[2]].required });
      }
    }
    // ops restore --help shows the same: its required flags outside brackets.
    expect(commandUsage('restore').split('\n')[0]).toBe('usage: ops restore --env <name> --backup <key|latest> --confirm <env> [--resume]');
  });

  test('the --env sentence is the CLI table: one environment, also all, or all by default', () => {
    const sentence = /`deploy`[^.]*take one environment;[^.]*default to all\./.exec(opsCell)?.[0] ?? '';
    const [one, also, either] = sentence.split(';').map((part) => [...part.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]).sort());
    const byPolicy = (policy: string) => (Object.keys(COMMANDS) as OpsCommand[]).filter((c) => COMMANDS[c].env === policy);
    const envs = Object.keys(shippedConfig().environments);
    // secrets and rotate parse their own options: --env all is refused by their parsers.
    const oneOnly = ['secrets', 'rotate'].filter((c) => {
      const argv = c === 'secrets' ? ['list', '--env', 'all'] : ['ENCRYPTION_KEY', '--env', 'all'];
      const parse = () => (c === 'secrets' ? parseSecretsArgs(argv, shippedConfig()) : parseRotateArgs(argv, shippedConfig()));
      expect(envs).not.toContain('all');
      return (() => {
        try {
          parse();
          return false;
        } catch {
          return true;
        }
      })();
    });
    expect(oneOnly).toEqual(['secrets', 'rotate']);
    expect(one).toEqual([...byPolicy('one'), ...oneOnly].sort());
    expect(also).toEqual(byPolicy('one-or-all').sort());
    expect(either).toEqual(byPolicy('any').sort());
  });
});

describe('numbers and versions the docs repeat', () => {
  test("the synth goals in the README are the benchmark's", () => {
    const speed = readme.slice(readme.indexOf('## Speed'));
    expect(speed).toContain(`goal: at most ${SHIPPED_WALL_GOAL_MS / 1000} s`);
    expect(speed).toContain(`goal: under ${RATIO_GOAL})`);
    // No other goal for the shipped synth's wall time.
    expect([...speed.matchAll(/goal: (?:at most|under) (\d+(?:\.\d+)?) s/g)].map((m) => Number(m[1]))).toEqual([SHIPPED_WALL_GOAL_MS / 1000]);
  });

  test('README, first-deploy, engines and the workflows agree on Node: 20 and 22 supported, the pipelines on 22', () => {
    expect(packageJson.engines.node).toBe('>=20');
    expect(readme).toContain('Node.js 20 or 22');
    expect(readFileSync(join(projectRoot, 'docs/first-deploy.md'), 'utf8')).toContain('Node.js 20 or 22 (the pipelines use 22)');
    const workflows = ['pull-request.yml', 'deploy-environment.yml', 'render-manifests.yml', 'smoke-prod.yml', 'deploy.yml'];
    const versions = workflows.flatMap((w) => {
      const text = readFileSync(join(projectRoot, '.github/workflows', w), 'utf8');
      const jobs = Object.values((parse(text) as { jobs: Record<string, { steps?: { with?: { 'node-version'?: unknown } }[] }> }).jobs);
      return jobs.flatMap((j) => (j.steps ?? []).map((s) => s.with?.['node-version']).filter((v) => v !== undefined));
    });
    expect(versions.length).toBeGreaterThan(3);
    expect(new Set(versions)).toEqual(new Set([22]));
  });

  test('the docs no longer say the env file is placed by hand or Parameter Store is not built', () => {
    for (const doc of ['docs/aws.md', 'docs/first-deploy.md']) {
      const text = readFileSync(join(projectRoot, doc), 'utf8');
      expect({ doc, stale: /is not built|Place the app's env file/.test(text) }).toEqual({ doc, stale: false });
    }
  });

  test('first-deploy states no count of the bootstrap steps (the plan decides how many)', () => {
    expect(readFileSync(join(projectRoot, 'docs/first-deploy.md'), 'utf8')).not.toMatch(/prints steps? \d|prints (two|three|four) steps/);
  });
});
