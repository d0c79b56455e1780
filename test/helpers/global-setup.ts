import { writeFileSync } from 'node:fs';
import { synthesizeAll, TEMPLATE_VALIDATION_CACHE } from '../../bin/synth-all';
import { loadConfigFile } from '../../lib/config';
import { cdkJsonContext } from '../../lib/config/config-file';
import { sharedCdkOut, sharedDist, sharedValidationRuns, shippedConfigPath } from './paths';
import { recordingValidationRuns } from './validation-runs';

/**
 * Runs once before the test files of the synth tier (and the host files that read the shipped
 * output; jest.config.ts): synthesizes every shipped environment (CDK with cdk-nag, and cdk8s) into
 * `.test-out/shipped`. Test files read that output instead of synthesizing again. A cdk-nag
 * violation or an invalid shipped config fails here, before any test runs. Template validation
 * findings come from the same per-template cache as `npm run synth`
 * (test/synth/cached-template-validation.test.ts shows a rejected template still fails).
 * The validation plugins registered and run during that synth are recorded beside it, so a test can
 * tell a clean check from a check that never ran.
 */
export default function globalSetup(): void {
  const { registered, runs } = recordingValidationRuns(() =>
    synthesizeAll(
      loadConfigFile(shippedConfigPath),
      { cdkOut: sharedCdkOut, dist: sharedDist, templateValidationCache: TEMPLATE_VALIDATION_CACHE },
      cdkJsonContext(),
    ),
  );
  writeFileSync(sharedValidationRuns, `${JSON.stringify({ registered, runs }, null, 2)}\n`);
}
