import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnResource, CloudFormationValidatePlugin, Stack, Validations } from 'aws-cdk-lib';
import { CachedCloudFormationValidatePlugin } from '../../lib/private/cached-cloudformation-validate';
import { tempDirsRemovedAfterAll } from '../helpers/temp-dirs';

/*
 * The synth cache of CloudFormation validation findings (`npm run synth`): a template CloudFormation
 * would reject still fails synth, the first time and every time after; the cache is keyed on the
 * template's content, so a changed template is validated again. One plugin instance validates for the
 * whole file because building the validation engine takes seconds; fresh instances over the same
 * cache directory stand for later synths that validate nothing, and `lastValidated` tells what
 * reached the engine.
 */

const tempDir = tempDirsRemovedAfterAll();

/** A one-bucket app with the flag as cdk.json sets it; `properties` are the bucket's CloudFormation properties. */
function bucketApp(plugin: CloudFormationValidatePlugin, properties: Record<string, unknown>): App {
  const app = new App({ outdir: tempDir('cfn-validate-out-'), context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  Validations.of(app).addPlugins(plugin);
  const stack = new Stack(app, 'Bucketed', { env: { account: '111111111111', region: 'eu-west-1' } });
  new CfnResource(stack, 'Bucket', { type: 'AWS::S3::Bucket', properties });
  return app;
}

/** The CloudFormation Validate part of the report synth wrote, as rule, severity, description and logical ids. */
function cfnFindings(app: App): { conclusion: string; findings: string[] } {
  const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: {
      pluginName: string;
      conclusion: string;
      violations: {
        ruleName: string;
        severity: string;
        description: string;
        violatingConstructs: { cloudFormationResource?: { logicalId: string; templatePath: string } }[];
      }[];
    }[];
  };
  const cfn = report.pluginReports.find((p) => p.pluginName === CloudFormationValidatePlugin.PLUGIN_NAME);
  // CDK leaves out the report of a plugin that found nothing.
  if (!cfn) return { conclusion: 'no report', findings: [] };
  return {
    conclusion: cfn.conclusion,
    findings: cfn.violations.flatMap((v) =>
      v.violatingConstructs.map(
        (c) => `${v.ruleName} ${v.severity} ${c.cloudFormationResource?.templatePath}#${c.cloudFormationResource?.logicalId}: ${v.description}`,
      ),
    ),
  };
}

const cacheDir = tempDir('cfn-validate-cache-');
const engine = new CachedCloudFormationValidatePlugin({ cacheDir });
const cacheEntries = () => readdirSync(cacheDir).filter((f) => f.endsWith('.json')).length;

const ACCEPTED = { BucketName: 'accepted-name' };
const REJECTED = { BucketName: 'accepted-name', NotABucketProperty: true };

test('GIVEN a bucket with a property CloudFormation does not know, THEN synth fails, validated first and replayed after', () => {
  // WHEN: validated
  const first = bucketApp(engine, REJECTED);
  expect(() => first.synth()).toThrow(/NotABucketProperty: Additional properties are not allowed/);
  // WHEN: a later synth, the same template, served from the cache
  const later = new CachedCloudFormationValidatePlugin({ cacheDir });
  const replayed = bucketApp(later, REJECTED);
  expect(() => replayed.synth()).toThrow(/NotABucketProperty: Additional properties are not allowed/);

  // THEN
  expect(engine.lastValidated).toEqual([join(first.outdir, 'Bucketed.template.json')]);
  expect(later.lastValidated).toEqual([]);
  const expected = {
    conclusion: 'failure',
    findings: ["F3002 error Bucketed.template.json#Bucket: NotABucketProperty: Additional properties are not allowed ('NotABucketProperty' was unexpected)"],
  };
  expect(cfnFindings(first)).toEqual(expected);
  expect(cfnFindings(replayed)).toEqual(expected);
});

test('GIVEN a validated template, WHEN its content changes, THEN it is validated again; unchanged, it is not', () => {
  // GIVEN
  bucketApp(engine, ACCEPTED).synth();
  const entries = cacheEntries();

  // WHEN
  const unchanged = new CachedCloudFormationValidatePlugin({ cacheDir });
  const unchangedApp = bucketApp(unchanged, ACCEPTED);
  unchangedApp.synth();
  expect(() => bucketApp(engine, { ...ACCEPTED, NotABucketProperty: 'changed' }).synth()).toThrow(/NotABucketProperty: Additional properties are not allowed/);

  // THEN
  expect(unchanged.lastValidated).toEqual([]);
  expect(cfnFindings(unchangedApp)).toEqual({ conclusion: 'no report', findings: [] });
  expect(engine.lastValidated).toHaveLength(1);
  expect(cacheEntries()).toBe(entries + 1);
});

test('the version in the report is the engine version CDK reports', () => {
  expect(engine.version).toBe(new CloudFormationValidatePlugin().version);
});
