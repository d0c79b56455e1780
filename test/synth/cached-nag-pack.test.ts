import { readdirSync } from 'node:fs';
import { App, type IPolicyValidationPlugin, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CachedNagPack } from '../../lib/private/cached-nag-pack';
import { tempDirsRemovedAfterAll } from '../helpers/temp-dirs';

/*
 * The synth cache of cdk-nag's AWS Solutions report (`npm run synth`): a finding fails synth the first
 * time and every time after; a changed template, construct path or acknowledgement runs the pack again.
 * Fresh plugin instances over one cache directory stand for later synths; `lastRun` tells whether the
 * pack ran, and `loads` counts how often cdk-nag's pack was built.
 */

const tempDir = tempDirsRemovedAfterAll();

const cacheDir = tempDir('cdk-nag-cache-');
let loads = 0;
const cachedPack = () =>
  new CachedNagPack({
    name: 'AwsSolutions',
    cacheDir,
    load: (): IPolicyValidationPlugin => {
      loads++;
      return new AwsSolutionsChecks();
    },
  });

/** An app with one bare L1 bucket (AWS Solutions S1, S10 and others apply), built by `edit`. */
function bucketApp(plugin: CachedNagPack, edit: (bucket: s3.CfnBucket) => void = () => undefined): App {
  const app = new App({ outdir: tempDir('cdk-nag-out-'), builtinCloudFormationValidation: false });
  Validations.of(app).addPlugins(plugin);
  const stack = new Stack(app, 'Bucketed', { env: { account: '111111111111', region: 'eu-west-1' } });
  edit(new s3.CfnBucket(stack, 'Bucket', { bucketName: 'planted-violation' }));
  return app;
}

const S1 = /AwsSolutions-S1\b/;

/** The message synth fails with (without the line naming the output directory), or '' when it passes. */
function synthError(app: App): string {
  try {
    app.synth();
    return '';
  } catch (error) {
    // The report's copy is named by a path relative to the working directory (a fresh temp dir each app).
    return (error as Error).message.replace(/^.*A copy of this report can be found in: .*$/m, 'A copy of this report can be found in: <outdir>');
  }
}
const acknowledgeS1 = (bucket: s3.CfnBucket) => Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'test: access logs are not wanted here' });

test('GIVEN a bucket without access logs, THEN synth fails on AwsSolutions-S1, checked first and replayed after without loading cdk-nag', () => {
  // WHEN: checked
  const first = cachedPack();
  expect(() => bucketApp(first).synth()).toThrow(S1);
  expect(first.lastRun).toBe('checked');
  expect(loads).toBe(1);
  expect(readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
  // WHEN: a later synth of the same app, served from the cache
  const later = cachedPack();
  expect(() => bucketApp(later).synth()).toThrow(S1);
  // THEN
  expect(later.lastRun).toBe('replayed');
  expect(loads).toBe(1);
});

test('GIVEN the finding acknowledged on the bucket, THEN the pack runs again and S1 is no longer reported (an acknowledgement is part of the key)', () => {
  const before = loads;
  const pack = cachedPack();
  const message = synthError(bucketApp(pack, acknowledgeS1));
  expect(pack.lastRun).toBe('checked');
  expect(loads).toBe(before + 1);
  // The bare bucket has other findings; S1 is not among them any more.
  expect(message).toMatch(/AwsSolutions-S10/);
  expect(message).not.toMatch(/AwsSolutions-S1\b/);
  // The same acknowledged app again: replayed, the same findings.
  const again = cachedPack();
  expect(synthError(bucketApp(again, acknowledgeS1))).toBe(message);
  expect(again.lastRun).toBe('replayed');
});

test('GIVEN a changed resource, THEN the pack runs again', () => {
  const pack = cachedPack();
  expect(() => bucketApp(pack, (b) => (b.bucketName = 'another-name')).synth()).toThrow(S1);
  expect(pack.lastRun).toBe('checked');
});

test('GIVEN a resource at another construct path, THEN the pack runs again (the report names paths)', () => {
  const pack = cachedPack();
  const app = new App({ outdir: tempDir('cdk-nag-out-'), builtinCloudFormationValidation: false });
  Validations.of(app).addPlugins(pack);
  const stack = new Stack(app, 'Bucketed', { env: { account: '111111111111', region: 'eu-west-1' } });
  const bucket = new s3.CfnBucket(stack, 'Renamed', { bucketName: 'planted-violation' });
  stack.renameLogicalId(stack.getLogicalId(bucket), 'Bucket');
  expect(() => app.synth()).toThrow(/Bucketed\/Renamed/);
  expect(pack.lastRun).toBe('checked');
});
