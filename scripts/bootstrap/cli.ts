#!/usr/bin/env node
/*
 * `npm run bootstrap -- --env <env> [--execute]`: prints (or runs, with --execute) the commands that
 * bootstrap one environment: see `bootstrapPlan`. Run by an administrator, once per environment and
 * whenever the execution policy or boundary changes; the pipeline cannot run it.
 */
import { spawnSync } from 'node:child_process';
import { parseCommandLine, runMain, UsageError } from '../../lib/cli/command-line';
import { environmentsOf } from '../../lib/config';
import { configPath, isConfigProblem, projectRoot, readConfig } from '../../lib/config/config-file';
import { bootstrapPlan, shellLine } from './plan';

const USAGE = `usage: npm run bootstrap -- --env <env> [--execute]

Prints, in order, the commands that bootstrap one environment (execution policy and permissions
boundary, cdk bootstrap with the environment's own qualifier, GitHub OIDC subject); runs them with
--execute. See docs/first-deploy.md.

options:
  --env <env>  the environment to bootstrap
  --execute    run the commands instead of printing them
  --help       print this help`;

function main(): number {
  const { values } = parseCommandLine(process.argv.slice(2), {
    name: 'bootstrap',
    options: { env: { type: 'string' }, execute: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = readConfig(configPath());
  const names = environmentsOf(config).map((e) => e.name);
  const environment = environmentsOf(config).find((e) => e.name === values.env);
  if (!environment) throw new UsageError(`bootstrap: --env ${values.env ?? '(missing)'}: expected one of ${names.join(', ')} (npm run bootstrap -- --help)`);
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

runMain(main, isConfigProblem);
