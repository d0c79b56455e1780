#!/usr/bin/env node
/*
 * Entry point of the CDK CLI (`cdk.json`): `npx cdk synth | diff | deploy <stack>`.
 * The CLI passes context (feature flags) and the output directory.
 */
import { configPath, readConfigOrExit } from '../lib/config/config-file';
import { sharedAccountNotes } from '../lib/config/schema/accounts';
import { assemblyBudgetShortfalls } from './budget-check';
import { buildAwsApp } from './build-apps';

const config = readConfigOrExit(configPath());
const assembly = buildAwsApp(config).synth();
// A warning, not an error (the CDK CLI shows the app's stderr): the owners may mean to cut costs down to the budget.
for (const shortfall of assemblyBudgetShortfalls(assembly)) console.error(`warning: ${shortfall.message}`);
for (const note of sharedAccountNotes(config.environments)) console.error(`warning: ${note}`);
