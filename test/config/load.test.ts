import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfigYaml } from '../../lib/config';
import { projectRoot, shippedConfigPath } from '../helpers/paths';

const shippedYaml = readFileSync(shippedConfigPath, 'utf8');

function yamlProblems(text: string): readonly string[] {
  try {
    parseConfigYaml(text, 'test.yaml');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('loading YAML', () => {
  test('the shipped file loads', () => {
    expect(parseConfigYaml(shippedYaml).app.name).toBe('auraxis');
  });

  test('two environments with the same name are rejected with both lines', () => {
    const devBlock = shippedYaml.slice(shippedYaml.indexOf('  dev:\n'), shippedYaml.indexOf('  prod:\n'));
    const twice = shippedYaml.replace('  prod:\n', `${devBlock}  prod:\n`);
    const problems = yamlProblems(twice);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^environments\.dev: environment name "dev" is defined twice \(lines \d+ and \d+\); names must be unique$/);
  });

  test('a duplicate key anywhere is reported with its path', () => {
    const problems = yamlProblems(shippedYaml.replace('  port: 3000\n', '  port: 3000\n  port: 8080\n'));
    expect(problems).toEqual([expect.stringMatching(/^app\.port: key "port" is defined twice \(lines \d+ and \d+\)/)]);
  });

  test('a YAML syntax error names its line', () => {
    const problems = yamlProblems('app:\n  name: [unclosed\n');
    expect(problems[0]).toMatch(/^test\.yaml: YAML syntax error at line \d+/);
  });
});

describe('the synth entry point', () => {
  test('exits 1 and prints every problem with its key path, before writing anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-config-'));
    const badConfig = join(dir, 'environments.yaml');
    writeFileSync(
      badConfig,
      shippedYaml.replace('account: "765480282720"', 'account: "1234"').replace('repository: auraxis/auraxis-infra', 'repository: auraxis'),
    );

    const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'bin/synth.ts'], {
      cwd: projectRoot,
      env: { ...process.env, APP_CONFIG: badConfig, TS_NODE_SWC: 'true' },
      encoding: 'utf8',
    });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`Invalid configuration in ${badConfig}:`);
    expect(result.stderr).toContain('  - github.repository: "auraxis" is not a GitHub repository of the form owner/name');
    expect(result.stderr).toContain('  - environments.prod.account: "1234" is not a 12-digit AWS account id');
    expect(result.stderr).not.toContain('    at '); // a message, not a stack trace
    expect(result.stdout).not.toContain('Synthesized');
  });
});
