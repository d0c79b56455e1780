#!/usr/bin/env node
/*
 * Entry point of the CDK CLI (`cdk.json`): `npx cdk synth | diff | deploy <stack>`.
 * The CLI passes context (feature flags) and the output directory.
 */
import { configPath, readConfigOrExit } from './config-file';
import { buildAwsApp } from './compose';

buildAwsApp(readConfigOrExit(configPath())).synth();
