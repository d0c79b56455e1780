#!/usr/bin/env node
/*
 * `npm run synth`: every environment's CloudFormation (cdk.out/) and Kubernetes manifests (dist/),
 * offline, from the shipped config. Runs under ts-node with swc: no type-checking at run time.
 */
import { resolve } from 'node:path';
import { cdkJsonContext, configPath, projectRoot, readConfigOrExit } from './config-file';
import { synthesizeAll, TEMPLATE_VALIDATION_CACHE } from './synth-all';

// `--out DIR` writes DIR/cdk.out and DIR/dist instead of the repository's (used by the benchmark).
const outFlag = process.argv.indexOf('--out');
const outRoot = outFlag > 0 ? resolve(process.argv[outFlag + 1]) : projectRoot;

const started = Date.now();
const config = readConfigOrExit(configPath());
synthesizeAll(config, { cdkOut: `${outRoot}/cdk.out`, dist: `${outRoot}/dist`, templateValidationCache: TEMPLATE_VALIDATION_CACHE }, cdkJsonContext());
const envs = Object.keys(config.environments).join(', ');
console.log(`Synthesized ${envs} into ${outRoot === projectRoot ? '' : `${outRoot}/`}cdk.out/ and dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
