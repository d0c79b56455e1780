import { resolve } from 'node:path';

export const projectRoot = resolve(__dirname, '../..');
/** Where the global setup writes the shipped config's synth output, shared by every test file. */
export const sharedSynthDir = resolve(projectRoot, '.test-out/shipped');
export const sharedCdkOut = resolve(sharedSynthDir, 'cdk.out');
export const sharedDist = resolve(sharedSynthDir, 'dist');
/** Which validation plugins were registered and ran during the global synth (written by the global setup). */
export const sharedValidationRuns = resolve(sharedSynthDir, 'validation-runs.json');
export const shippedConfigPath = resolve(projectRoot, 'config/environments.yaml');
