import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { deployOrder, main, previousEnvironments } from '../../scripts/review/deploy-environments';
import { shippedConfigInput } from '../helpers/config-fixtures';

/*
 * The deploy order the deploy workflow takes from the config (scripts/review/deploy-environments.ts).
 */

describe('deploy:environments: from the config, the first environment first', () => {
  test('the shipped config: dev, then prod', () => {
    expect(deployOrder(['dev', 'prod'], ['dev', 'prod'])).toEqual({ first: ['dev'], rest: ['prod'], removed: [] });
  });

  test('a new environment deploys after the first; a removed one is reported, never deployed', () => {
    expect(deployOrder(['dev', 'staging', 'prod'], ['dev', 'prod'])).toEqual({ first: ['dev'], rest: ['staging', 'prod'], removed: [] });
    expect(deployOrder(['prod'], ['dev', 'prod'])).toEqual({ first: ['prod'], rest: [], removed: ['dev'] });
  });

  test('the command: outputs for the workflow, the removal as a notice, an unknown --only refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-environments-'));
    const config = shippedConfigInput();
    config.environments.staging = { ...config.environments.dev, domain: 'staging.auraxis.com.br' };
    delete config.environments.dev;
    writeFileSync(join(dir, 'environments.yaml'), stringify(config));
    writeFileSync(join(dir, 'previous.yaml'), stringify(shippedConfigInput()));
    const run = (args: string[]) => {
      let out = '';
      let err = '';
      const before = process.env.APP_CONFIG;
      process.env.APP_CONFIG = join(dir, 'environments.yaml');
      try {
        const code = main(args, { out: (t) => (out += t), err: (t) => (err += t) });
        return { code, out, err };
      } finally {
        if (before === undefined) delete process.env.APP_CONFIG;
        else process.env.APP_CONFIG = before;
      }
    };
    const ok = run(['--previous', join(dir, 'previous.yaml')]);
    if (ok.code !== 0) throw new Error(ok.err);
    const names = Object.keys(config.environments);
    expect(ok.out).toBe(`first=${JSON.stringify([names[0]])}\nrest=${JSON.stringify(names.slice(1))}\nremoved=["dev"]\n`);
    expect(ok.err).toBe(
      '::notice title=Environment dev removed::dev is no longer in the config: this pipeline no longer deploys it; its stacks stay deployed (and billed) until someone runs npx cdk destroy auraxis-dev-data auraxis-dev-host auraxis-dev-health\n',
    );
    expect(run(['--only', 'prod'])).toMatchObject({ code: 0, out: 'first=["prod"]\nrest=[]\nremoved=[]\n' });
    expect(run(['--only', 'dev'])).toMatchObject({ code: 2, err: expect.stringContaining('"dev" is not an environment of the config') });
  });

  test('an earlier config is read leniently: no environments, or not YAML, is none', () => {
    expect(previousEnvironments('environments:\n  qa: {}\n')).toEqual(['qa']);
    expect(previousEnvironments('')).toEqual([]);
    expect(previousEnvironments(': : :')).toEqual([]);
  });
});
