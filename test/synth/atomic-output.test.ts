import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cdk8s from 'cdk8s';
import { parse, stringify } from 'yaml';
import { main } from '../../bin/synth';
import { synthesizeAll, TEMPLATE_VALIDATION_CACHE } from '../../bin/synth-all';
import { loadConfigFile } from '../../lib/config';
import { cdkJsonContext } from '../../lib/config/config-file';
import { shippedConfigPath } from '../helpers/paths';

/*
 * `npm run synth` (bin/synth.ts's main, and synthesizeAll under it) writes its output beside
 * cdk.out/ and dist/ and renames it into place only when everything synthesized. A synth that fails
 * after the config was validated (a cdk-nag finding planted in the app, or a construct throwing
 * half-way, after the CloudFormation templates were written) leaves the earlier output byte for byte
 * as it was, the directories themselves not replaced, and no staging directory behind.
 * The config is the shipped one with dev only, to keep each synth short.
 */

const scratch = mkdtempSync(join(tmpdir(), 'atomic-synth-'));
const configFile = join(scratch, 'dev-only.yaml');
const out = join(scratch, 'out');
const output = { cdkOut: join(out, 'cdk.out'), dist: join(out, 'dist'), templateValidationCache: TEMPLATE_VALIDATION_CACHE };

/** Every file under `dir` with its content hash, plus the identity (inode) of `dir`'s top directories. */
function snapshot(dir: string) {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  const inodes = Object.fromEntries(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).ino]));
  return { entries: readdirSync(dir).sort(), inodes, files };
}

/** Failures planted in the real app, the way a real one would happen. */
const PLANTS = {
  // A bucket cdk-nag's AWS Solutions pack refuses (no access logs, no SSL enforcement), added to the app synthesizeAll builds.
  violation: () => {
    const synth = App.prototype.synth;
    return jest.spyOn(App.prototype, 'synth').mockImplementation(function (this: App, ...args) {
      new s3.Bucket(new Stack(this, 'Planted', { env: { account: '765480282720', region: 'us-east-1' } }), 'Unchecked');
      return synth.apply(this, args);
    });
  },
  // The Kubernetes manifests fail after the CloudFormation assembly was written in full.
  throwMidway: () =>
    jest.spyOn(cdk8s.App.prototype, 'synth').mockImplementation(() => {
      throw new Error('planted failure in the middle of synth');
    }),
};

beforeAll(() => {
  const shipped = parse(readFileSync(shippedConfigPath, 'utf8'));
  delete shipped.environments.prod;
  writeFileSync(configFile, stringify(shipped));
  // An earlier output, with an environment the config no longer has.
  mkdirSync(join(out, 'dist', 'gone'), { recursive: true });
  writeFileSync(join(out, 'dist', 'gone', 'app.yaml'), 'kind: Stale\n');
  mkdirSync(join(out, 'cdk.out'), { recursive: true });
  writeFileSync(join(out, 'cdk.out', 'stale.template.json'), '{}');
}, 120_000);

afterEach(() => jest.restoreAllMocks());

test('a successful synth replaces the whole output and leaves no staging directory', () => {
  const assembly = synthesizeAll(loadConfigFile(configFile), output, cdkJsonContext());
  expect(readdirSync(out).sort()).toEqual(['cdk.out', 'dist']);
  expect(readdirSync(join(out, 'dist')).sort()).toEqual(['argocd', 'dev']);
  expect(readdirSync(join(out, 'cdk.out'))).toContain('auraxis-dev-host.template.json');
  expect(readdirSync(join(out, 'cdk.out'))).not.toContain('stale.template.json');
  // The assembly returned (for the budget warning) is read from the final place.
  expect(assembly.directory).toBe(join(out, 'cdk.out'));
  expect(assembly.stacks.map((s) => s.stackName)).toContain('auraxis-dev-host');
}, 120_000);

test.each<[string, keyof typeof PLANTS, RegExp]>([
  ['a cdk-nag finding planted in the app', 'violation', /AwsSolutions-S1/],
  ['a throw after the CloudFormation templates were written', 'throwMidway', /planted failure in the middle of synth/],
])(
  '%s: the error, the earlier output byte for byte as it was, nothing left beside it',
  (_, plant, why) => {
    const before = snapshot(out);
    expect(Object.keys(before.files).length).toBeGreaterThan(10);
    const planted = PLANTS[plant]();

    expect(() => synthesizeAll(loadConfigFile(configFile), output, cdkJsonContext())).toThrow(why);

    expect(planted).toHaveBeenCalled();
    expect(snapshot(out)).toEqual(before);
    expect(readdirSync(out).sort()).toEqual(['cdk.out', 'dist']);
  },
  120_000,
);

describe('npm run synth (bin/synth.ts main)', () => {
  const withConfig = async (file: string, run: () => Promise<number>) => {
    const previous = process.env.APP_CONFIG;
    process.env.APP_CONFIG = file;
    try {
      return await run();
    } finally {
      if (previous === undefined) delete process.env.APP_CONFIG;
      else process.env.APP_CONFIG = previous;
    }
  };

  test('a cdk-nag finding: exit 1, the findings and one true line (no stack trace, no pointer into a discarded directory)', async () => {
    const before = snapshot(out);
    const errors: string[] = [];
    jest.spyOn(console, 'error').mockImplementation((...line: unknown[]) => void errors.push(line.join(' ')));
    PLANTS.violation();

    expect(await withConfig(configFile, () => main(['--out', out]))).toBe(1);

    const printed = errors.join('\n');
    expect(printed).toMatch(/AwsSolutions-S1[\s\S]*The previous output was left as it was; fix the findings above and synthesize again\.$/);
    expect(printed).not.toMatch(/^\s+at |\.tmp-\d+/m);
    expect(snapshot(out)).toEqual(before);
  }, 120_000);

  test("a config refused before synth ('{{' in a smoke body): one line with its key path, the earlier output untouched", async () => {
    const before = snapshot(out);
    const broken = join(scratch, 'braces.yaml');
    writeFileSync(broken, readFileSync(configFile, 'utf8').replace('query: ""', 'query: "{{ user }}"'));

    await expect(withConfig(broken, () => main(['--out', out]))).rejects.toThrow(
      `Invalid configuration in ${broken}:\n  - app.smoke.checks.graphql.body.query: must not contain '{{' (SSM documents read it as a parameter reference)`,
    );
    expect(snapshot(out)).toEqual(before);
  });
});
