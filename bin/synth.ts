#!/usr/bin/env node
/*
 * `npm run synth`: every environment's CloudFormation (cdk.out/) and Kubernetes manifests (dist/),
 * offline, from the shipped config. Runs under ts-node with swc: no type-checking at run time.
 * The config, CDK and cdk8s modules load only once the command line parsed, so `--help` and a
 * mistyped flag answer at once (about half a second of module loading less).
 */
import { join, resolve } from 'node:path';
import { parseCommandLine, runMain } from '../lib/cli/command-line';
import { isConfigProblem } from '../lib/config/errors';

export const SYNTH_USAGE = `usage: npm run synth -- [--out DIR]

Synthesizes every environment of the config ($APP_CONFIG, else config/environments.yaml):
CloudFormation into cdk.out/ and Kubernetes manifests into dist/<env>/.

options:
  --out DIR   write DIR/cdk.out and DIR/dist instead of the repository's
  --help      print this help`;

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandLine(argv, { name: 'synth', options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(SYNTH_USAGE);
    return 0;
  }
  const { cdkJsonContext, configPath, projectRoot, readConfig } = await import('../lib/config/config-file');
  const { assemblyBudgetShortfalls } = await import('./budget-check');
  const { sharedAccountNotes } = await import('../lib/config/schema/accounts');
  const { isValidationFailure, synthesizeAll, TEMPLATE_VALIDATION_CACHE } = await import('./synth-all');
  const outRoot = typeof values.out === 'string' ? resolve(values.out) : projectRoot;
  const started = Date.now();
  // Everything is validated before anything is written.
  const config = readConfig(configPath());
  const context = cdkJsonContext();

  // synthesizeAll writes beside cdk.out/ and dist/ and renames into place only when all of it
  // synthesized: a failure leaves the previous output as it was.
  let assembly: ReturnType<typeof synthesizeAll>;
  try {
    assembly = synthesizeAll(
      config,
      { cdkOut: join(outRoot, 'cdk.out'), dist: join(outRoot, 'dist'), templateValidationCache: TEMPLATE_VALIDATION_CACHE },
      context,
    );
  } catch (error) {
    // A cdk-nag or CloudFormation finding: the findings are the message, no stack trace.
    if (!isValidationFailure(error)) throw error;
    console.error(error.message);
    return 1;
  }
  // A warning, not an error: the owners may mean to cut costs down to the budget.
  for (const shortfall of assemblyBudgetShortfalls(assembly)) console.error(`warning: ${shortfall.message}`);
  for (const note of sharedAccountNotes(config.environments)) console.error(`warning: ${note}`);
  const envs = Object.keys(config.environments).join(', ');
  console.log(`Synthesized ${envs} into ${outRoot === projectRoot ? '' : `${outRoot}/`}cdk.out/ and dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

if (require.main === module) runMain(() => main(process.argv.slice(2)), isConfigProblem);
