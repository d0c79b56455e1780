#!/usr/bin/env node
/*
 * `npm run synth`: every environment's CloudFormation (cdk.out/) and Kubernetes manifests (dist/),
 * offline, from the shipped config. Runs under ts-node with swc: no type-checking at run time.
 */
import { join, resolve } from 'node:path';
import { cdkJsonContext, configPath, isConfigProblem, projectRoot, readConfig } from '../lib/config/config-file';
import { sharedAccountNotes } from '../lib/config/schema/accounts';
import { assemblyBudgetShortfalls } from './budget-check';
import { parseCommandLine, runMain } from './command-line';
import { synthesizeAll, TEMPLATE_VALIDATION_CACHE } from './synth-all';

export const SYNTH_USAGE = `usage: npm run synth -- [--out DIR]

Synthesizes every environment of the config ($APP_CONFIG, else config/environments.yaml):
CloudFormation into cdk.out/ and Kubernetes manifests into dist/<env>/.

options:
  --out DIR   write DIR/cdk.out and DIR/dist instead of the repository's
  --help      print this help`;

export function main(argv: readonly string[]): number {
  const { values } = parseCommandLine(argv, { name: 'synth', options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(SYNTH_USAGE);
    return 0;
  }
  const outRoot = typeof values.out === 'string' ? resolve(values.out) : projectRoot;
  const started = Date.now();
  // Everything is validated before anything is written.
  const config = readConfig(configPath());
  const context = cdkJsonContext();

  // synthesizeAll removes stale output first; nothing is written before this point.
  const assembly = synthesizeAll(
    config,
    { cdkOut: join(outRoot, 'cdk.out'), dist: join(outRoot, 'dist'), templateValidationCache: TEMPLATE_VALIDATION_CACHE },
    context,
  );
  // A warning, not an error: the owners may mean to cut costs down to the budget.
  for (const shortfall of assemblyBudgetShortfalls(assembly)) console.error(`warning: ${shortfall.message}`);
  for (const note of sharedAccountNotes(config.environments)) console.error(`warning: ${note}`);
  const envs = Object.keys(config.environments).join(', ');
  console.log(`Synthesized ${envs} into ${outRoot === projectRoot ? '' : `${outRoot}/`}cdk.out/ and dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

if (require.main === module) runMain(() => main(process.argv.slice(2)), isConfigProblem);
