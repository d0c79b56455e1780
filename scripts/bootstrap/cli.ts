#!/usr/bin/env node
/*
 * `npm run bootstrap -- --env <env> [--execute]`: prints (or runs, with --execute) the commands that
 * bootstrap one environment: see `bootstrapPlan`. Run by an administrator, once per environment and
 * whenever the execution policy or boundary changes; the pipeline cannot run it.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { configPath, projectRoot, readConfigOrExit } from '../../bin/config-file';
import { environmentsOf } from '../../lib/config';
import { bootstrapPlan, shellLine } from './plan';

function main(): number {
  let values: { env?: string; execute?: boolean };
  try {
    ({ values } = parseArgs({ options: { env: { type: 'string' }, execute: { type: 'boolean', default: false } }, strict: true }));
  } catch (error) {
    console.error(`${(error as Error).message}; usage: npm run bootstrap -- --env <env> [--execute]`);
    return 2;
  }
  const config = readConfigOrExit(configPath());
  const names = environmentsOf(config).map((e) => e.name);
  const environment = environmentsOf(config).find((e) => e.name === values.env);
  if (!environment) {
    console.error(`--env ${values.env ?? '(missing)'}: expected one of ${names.join(', ')}; usage: npm run bootstrap -- --env <env> [--execute]`);
    return 2;
  }
  for (const [i, step] of bootstrapPlan(config, environment).entries()) {
    console.log(`# ${i + 1}. ${step.title}\n${shellLine(step.argv)}`);
    if (!values.execute) continue;
    const run = spawnSync(step.argv[0], step.argv.slice(1), { cwd: projectRoot, stdio: 'inherit' });
    if (run.status !== 0) {
      console.error(`step ${i + 1} failed (exit ${run.status ?? run.signal}); fix it and run the command above again, then the steps after it`);
      return run.status ?? 1;
    }
  }
  if (!values.execute) console.log('# Printed only; run them in order, or again with --execute.');
  return 0;
}

process.exitCode = main();
