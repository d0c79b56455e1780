#!/usr/bin/env node
import { configPath, readConfigOrExit } from '../lib/config/config-file';
/*
 * CDK app of the bootstrap policies (`npx cdk --app "npx ts-node --swc bin/bootstrap-app.ts" deploy <stack>`):
 * per environment, the CloudFormation execution policy and the permissions boundary that
 * `cdk bootstrap` is then given. Run by `npm run bootstrap -- --env <env> --execute`.
 */
import { buildBootstrapApp } from './build-apps';

buildBootstrapApp(readConfigOrExit(configPath())).synth();
