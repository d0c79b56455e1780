import { App, Stack } from 'aws-cdk-lib';

/**
 * A fresh stack in a fresh app, for testing one construct alone (aws-cdk's own tests do the same).
 * CDK's built-in CloudFormation template validation is off here: it takes seconds per app and these
 * tests assert the construct's properties; the shipped synth (global setup) and
 * test/synth/cached-template-validation.test.ts keep the validation under test.
 */
export function bareStack(): Stack {
  return new Stack(new App({ builtinCloudFormationValidation: false }), 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
}
