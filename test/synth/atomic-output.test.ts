import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import { projectRoot, shippedConfigPath } from '../helpers/paths';

/*
 * `npm run synth` (bin/synth.ts, run for real) writes its output beside cdk.out/ and dist/ and
 * renames it into place only when everything synthesized. A synth that fails after the config was
 * validated (a cdk-nag finding planted in the app, or a construct throwing half-way, after the
 * CloudFormation templates were written) leaves the earlier output byte for byte as it was, the
 * directories themselves not replaced, and no staging directory behind.
 * The config is the shipped one with dev only, to keep each synth short.
 */

const scratch = mkdtempSync(join(tmpdir(), 'atomic-synth-'));
const config = join(scratch, 'dev-only.yaml');
const out = join(scratch, 'out');

/** Preloads that break a synth after validation, the way a real failure would. */
const PLANTS = {
  // A bucket cdk-nag's AWS Solutions pack refuses (no access logs, no SSL enforcement), added to the real app.
  violation: `
    const cdk = require(require.resolve('aws-cdk-lib', { paths: [${JSON.stringify(projectRoot)}] }));
    const s3 = require(require.resolve('aws-cdk-lib/aws-s3', { paths: [${JSON.stringify(projectRoot)}] }));
    const synth = cdk.App.prototype.synth;
    cdk.App.prototype.synth = function (...args) {
      new s3.Bucket(new cdk.Stack(this, 'Planted', { env: { account: '765480282720', region: 'us-east-1' } }), 'Unchecked');
      return synth.apply(this, args);
    };`,
  // The Kubernetes manifests fail after the CloudFormation assembly was written in full.
  throwMidway: `
    const cdk8s = require(require.resolve('cdk8s', { paths: [${JSON.stringify(projectRoot)}] }));
    cdk8s.App.prototype.synth = function () { throw new Error('planted failure in the middle of synth'); };`,
};

function synth(plant?: keyof typeof PLANTS) {
  const env: Record<string, string | undefined> = { ...process.env, TS_NODE_SWC: 'true', APP_CONFIG: config };
  if (plant) {
    const file = join(scratch, `${plant}.js`);
    writeFileSync(file, PLANTS[plant]);
    env.NODE_OPTIONS = `--require ${file}`;
  }
  const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'bin/synth.ts', '--out', out], {
    cwd: projectRoot,
    env,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

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

let first: ReturnType<typeof synth>;

beforeAll(() => {
  const shipped = parse(readFileSync(shippedConfigPath, 'utf8'));
  delete shipped.environments.prod;
  writeFileSync(config, stringify(shipped));
  // An earlier output, with an environment the config no longer has.
  mkdirSync(join(out, 'dist', 'gone'), { recursive: true });
  writeFileSync(join(out, 'dist', 'gone', 'app.yaml'), 'kind: Stale\n');
  mkdirSync(join(out, 'cdk.out'), { recursive: true });
  writeFileSync(join(out, 'cdk.out', 'stale.template.json'), '{}');
  first = synth();
}, 120_000);

test('a successful synth replaces the whole output and leaves no staging directory', () => {
  expect(first.stderr).not.toMatch(/^\s+at /m);
  expect(first.status).toBe(0);
  expect(readdirSync(out).sort()).toEqual(['cdk.out', 'dist']);
  expect(readdirSync(join(out, 'dist')).sort()).toEqual(['argocd', 'dev']);
  expect(readdirSync(join(out, 'cdk.out'))).toContain('auraxis-dev-host.template.json');
  expect(readdirSync(join(out, 'cdk.out'))).not.toContain('stale.template.json');
  // The assembly the program read back (for its budget warning) is the one in place.
  expect(first.stdout).toContain(`into ${out}/cdk.out/ and dist/`);
});

test.each<[string, keyof typeof PLANTS, RegExp]>([
  // The findings, then one line that is true: no pointer into the discarded staging directory, no stack trace.
  [
    'a cdk-nag finding planted in the app',
    'violation',
    /AwsSolutions-S1[\s\S]*The previous output was left as it was; fix the findings above and synthesize again\.\n$/,
  ],
  ['a throw after the CloudFormation templates were written', 'throwMidway', /planted failure in the middle of synth/],
])('%s: exit 1, the earlier output byte for byte as it was, nothing left beside it', (_, plant, why) => {
  const before = snapshot(out);
  expect(Object.keys(before.files).length).toBeGreaterThan(10);

  const result = synth(plant);

  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(why);
  if (plant === 'violation') expect(result.stderr).not.toMatch(/^\s+at |\.tmp-\d+/m);
  expect(snapshot(out)).toEqual(before);
  expect(readdirSync(out).sort()).toEqual(['cdk.out', 'dist']);
});

test("a config refused before synth ('{{' in a smoke body): one line with its key path, the earlier output untouched", () => {
  const before = snapshot(out);
  const broken = join(scratch, 'braces.yaml');
  writeFileSync(broken, readFileSync(config, 'utf8').replace('query: ""', 'query: "{{ user }}"'));
  const env = { ...process.env, TS_NODE_SWC: 'true', APP_CONFIG: broken };
  const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'bin/synth.ts', '--out', out], {
    cwd: projectRoot,
    env,
    encoding: 'utf8',
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toBe(
    `Invalid configuration in ${broken}:\n  - app.smoke.checks.graphql.body.query: must not contain '{{' (SSM documents read it as a parameter reference)\n`,
  );
  expect(snapshot(out)).toEqual(before);
});
