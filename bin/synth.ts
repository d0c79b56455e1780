#!/usr/bin/env node
/*
 * `npm run synth`: every environment's CloudFormation (cdk.out/) and Kubernetes manifests (dist/),
 * offline, from the shipped config. Runs under ts-node with swc: no type-checking at run time.
 */
import { cdkJsonContext, configPath, projectRoot, readConfigOrExit } from './config-file';
import { synthesizeAll } from './synth-all';

const started = Date.now();
const config = readConfigOrExit(configPath());
synthesizeAll(config, { cdkOut: `${projectRoot}/cdk.out`, dist: `${projectRoot}/dist` }, cdkJsonContext());
const envs = Object.keys(config.environments).join(', ');
console.log(`Synthesized ${envs} into cdk.out/ and dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
