import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prDiffReport } from '../../scripts/review/pr-diff';
import { diffManifests, diffTemplates, formatChanges, jsonDifferences } from '../../scripts/review/structural-diff';
import { sharedSynthDir } from '../helpers/paths';

describe('jsonDifferences', () => {
  test('reports leaf paths with old and new values', () => {
    expect(jsonDifferences({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { b: 2, c: [1, 2] }, e: true })).toEqual([
      'a.b: 1 → 2',
      'd: "x" → (absent)',
      'e: (absent) → true',
    ]);
  });
});

describe('diffTemplates', () => {
  const bucket = { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'Enabled' } }, Metadata: { 'aws:cdk:path': 'a/b' } };

  test('a changed property is listed; CDK metadata alone is not a change', () => {
    const before = { Resources: { Host: { Type: 'AWS::EC2::Instance', Properties: { InstanceType: 't4g.small' } }, Bucket: bucket } };
    const after = {
      Resources: { Host: { Type: 'AWS::EC2::Instance', Properties: { InstanceType: 't4g.medium' } }, Bucket: { ...bucket, Metadata: { 'aws:cdk:path': 'moved/b' } } },
    };
    expect(diffTemplates(before, after)).toEqual([
      { kind: 'changed', subject: 'AWS::EC2::Instance Host', details: ['Properties.InstanceType: "t4g.small" → "t4g.medium"'], risky: false },
    ]);
  });

  test('removing a bucket that is not retained is flagged as losing state; a retained one is not', () => {
    expect(diffTemplates({ Resources: { Bucket: bucket } }, { Resources: {} })).toEqual([{ kind: 'removed', subject: 'AWS::S3::Bucket Bucket', details: ['deleted'], risky: true }]);
    expect(diffTemplates({ Resources: { Bucket: { ...bucket, DeletionPolicy: 'Retain' } } }, { Resources: {} })[0]).toMatchObject({ risky: false, details: ['retained in the account (DeletionPolicy: Retain)'] });
  });

  test('a new stack lists every resource as added', () => {
    expect(diffTemplates(undefined, { Resources: { Bucket: bucket } })).toEqual([{ kind: 'added', subject: 'AWS::S3::Bucket Bucket', details: [], risky: false }]);
  });
});

describe('diffManifests and formatChanges', () => {
  test('a replica change reads as a diff block', () => {
    const deployment = (replicas: number) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'auraxis-prod' }, spec: { replicas } });
    const changes = diffManifests([deployment(2)], [deployment(3)]);
    expect(formatChanges('dist/prod', changes)).toBe('#### dist/prod (0 added, 1 changed, 0 removed)\n```diff\n~ apps/v1 Deployment auraxis-prod/api\n    spec.replicas: 2 → 3\n```\n');
  });
});

describe('prDiffReport on real synth output', () => {
  test('identical output reports no changes; a changed template and manifest are reported per stack and environment', () => {
    const base = sharedSynthDir;
    expect(prDiffReport(base, base)).not.toMatch(/\(\d+ added/);

    const head = mkdtempSync(join(tmpdir(), 'pr-diff-head-'));
    cpSync(base, head, { recursive: true });
    const templatePath = join(head, 'cdk.out', 'auraxis-prod-data.template.json');
    const template = JSON.parse(readFileSync(templatePath, 'utf8'));
    const [logGroupId] = Object.entries(template.Resources as Record<string, { Type: string }>).find(([, r]) => r.Type === 'AWS::Logs::LogGroup') ?? [];
    const oldRetention = template.Resources[logGroupId as string].Properties.RetentionInDays;
    template.Resources[logGroupId as string].Properties.RetentionInDays = 365;
    writeFileSync(templatePath, JSON.stringify(template));
    writeFileSync(join(head, 'dist', 'prod', 'extra.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: auraxis-prod\ndata:\n  A: "1"\n');

    const report = prDiffReport(base, head);

    expect(report).toContain('#### auraxis-prod-data (0 added, 1 changed, 0 removed)');
    expect(report).toContain(`~ AWS::Logs::LogGroup ${logGroupId}\n    Properties.RetentionInDays: ${oldRetention} → 365`);
    expect(report).toContain('#### dist/prod (1 added, 0 changed, 0 removed)');
    expect(report).toContain('+ v1 ConfigMap auraxis-prod/extra');
    expect(report).toContain('#### auraxis-dev-data\nno changes');
  });
});
