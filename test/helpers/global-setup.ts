import { synthesizeAll, TEMPLATE_VALIDATION_CACHE } from '../../bin/synth-all';
import { loadConfigFile } from '../../lib/config';
import { cdkJsonContext } from '../../lib/config/config-file';
import { sharedCdkOut, sharedDist, shippedConfigPath } from './paths';

/**
 * Runs once before all test files: synthesizes every shipped environment (CDK with cdk-nag, and
 * cdk8s) into `.test-out/shipped`. Test files read that output instead of synthesizing again.
 * A cdk-nag violation or an invalid shipped config fails here, before any test runs. Template
 * validation findings come from the same per-template cache as `npm run synth`
 * (test/synth/cached-template-validation.test.ts shows a rejected template still fails).
 */
export default function globalSetup(): void {
  synthesizeAll(
    loadConfigFile(shippedConfigPath),
    { cdkOut: sharedCdkOut, dist: sharedDist, templateValidationCache: TEMPLATE_VALIDATION_CACHE },
    cdkJsonContext(),
  );
}
