#!/usr/bin/env node
/*
 * `npm run review:diff -- <base-dir> <head-dir>`: a Markdown report of what a pull request does to
 * each environment. Each dir holds `cdk.out/` and `dist/` from `npm run synth -- --out <dir>` on the
 * base and head commits. No AWS credentials: it compares synthesized output, not deployed stacks.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type CfnTemplate, diffManifests, diffTemplates, formatChanges, type K8sObjectLike } from './structural-diff';

function templates(dir: string): Map<string, CfnTemplate> {
  const cdkOut = join(dir, 'cdk.out');
  const result = new Map<string, CfnTemplate>();
  if (!existsSync(cdkOut)) return result;
  for (const file of readdirSync(cdkOut).filter((f) => f.endsWith('.template.json'))) {
    result.set(file.replace(/\.template\.json$/, ''), JSON.parse(readFileSync(join(cdkOut, file), 'utf8')));
  }
  return result;
}

function manifests(dir: string): Map<string, K8sObjectLike[]> {
  const dist = join(dir, 'dist');
  const result = new Map<string, K8sObjectLike[]>();
  if (!existsSync(dist)) return result;
  for (const env of readdirSync(dist, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const files = readdirSync(join(dist, env.name)).filter((f) => f.endsWith('.yaml'));
    result.set(
      env.name,
      files.flatMap((f) => parseAllDocuments(readFileSync(join(dist, env.name, f), 'utf8')).map((d) => d.toJS() as K8sObjectLike)).filter(Boolean),
    );
  }
  return result;
}

/** The whole report for two synth output directories. */
export function prDiffReport(baseDir: string, headDir: string): string {
  const baseTemplates = templates(baseDir);
  const headTemplates = templates(headDir);
  const stacks = [...new Set([...baseTemplates.keys(), ...headTemplates.keys()])].sort();
  const baseManifests = manifests(baseDir);
  const headManifests = manifests(headDir);
  const envs = [...new Set([...baseManifests.keys(), ...headManifests.keys()])].sort();

  const sections = ['### AWS (CloudFormation)', ...stacks.map((s) => formatChanges(s, diffTemplates(baseTemplates.get(s), headTemplates.get(s))))];
  sections.push('### Kubernetes (dist/)', ...envs.map((e) => formatChanges(`dist/${e}`, diffManifests(baseManifests.get(e) ?? [], headManifests.get(e) ?? []))));
  return sections.join('\n');
}

if (require.main === module) {
  const [base, head] = process.argv.slice(2);
  if (!base || !head) {
    console.error('usage: pr-diff <base-synth-dir> <head-synth-dir>');
    process.exit(2);
  }
  console.log(prDiffReport(base, head));
}
