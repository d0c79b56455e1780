import { resolve } from 'node:path';

export const projectRoot = resolve(__dirname, '../..');
/** Where the global setup writes the shipped config's synth output, shared by every test file. */
export const sharedSynthDir = resolve(projectRoot, '.test-out/shipped');
export const sharedCdkOut = resolve(sharedSynthDir, 'cdk.out');
export const sharedDist = resolve(sharedSynthDir, 'dist');
export const shippedConfigPath = resolve(projectRoot, 'config/environments.yaml');
