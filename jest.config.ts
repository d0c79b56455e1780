import type { Config } from 'jest';
import { needsGlobalSynth, TIERS, testTiers } from './test/tiers';

/*
 * Jest with the swc transform: no type-checking here (`npm run typecheck` does that once), so each
 * test file starts in milliseconds instead of seconds.
 *
 * Three projects (tiers), derived from what each test file imports (test/tiers.ts):
 *   unit   `npm run test:unit`, what a developer runs while editing: no synth, no system packages
 *   synth  `npm run test:synth`: reads the shipped config's output, synthesized once by the global
 *          setup, or synthesizes the whole app itself
 *   host   `npm run test:host`: real git, podman, nginx, PostgreSQL, s3rver, nft, shellcheck...
 * `npm test` runs all three. Jest runs a project's globalSetup only when that project has tests
 * selected, and the same module once however many projects name it: `test:unit` never synthesizes.
 */

const tiers = testTiers();

/**
 * `TEST_TIER=unit|synth|host` keeps one project (`npm run test:<tier>`); unset, all three. An
 * environment variable, not `--selectProjects`: that option takes every word after it, so
 * `npm run test:unit -- test/config` would select a project named test/config and run them all.
 */
const only = process.env.TEST_TIER;
if (only !== undefined && !(TIERS as readonly string[]).includes(only)) throw new Error(`TEST_TIER="${only}" is not a test tier (${TIERS.join(', ')})`);
const transform: Config['transform'] = {
  '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
};

const config: Config = {
  projects: TIERS.filter((tier) => only === undefined || tier === only).map((tier) => ({
    displayName: tier,
    testEnvironment: 'node',
    roots: ['<rootDir>/test'],
    // The exact files of this tier (absolute paths are globs matching themselves).
    testMatch: tiers[tier].length > 0 ? tiers[tier] : ['<rootDir>/test/no-tests-in-this-tier'],
    transform,
    globalSetup: needsGlobalSynth(tiers[tier]) ? '<rootDir>/test/helpers/global-setup.ts' : undefined,
    // A ceiling, not an expected duration: host tests wait for conditions (a port answering, a
    // container healthy, a restore done) and on a loaded two-core machine a PostgreSQL restore
    // alone takes well over a minute. Jest ignores a project's own `testTimeout`, so the host
    // project raises it in a setup file of its own.
    setupFilesAfterEnv: ['aws-sdk-client-mock-jest', ...(tier === 'host' ? ['<rootDir>/test/helpers/host-tier-timeout.ts'] : [])],
  })),
  // Every tier's ceiling but the host tier's (see its setup file): jest reads this from the top level only.
  testTimeout: 60_000,
  // Two workers even on two cores: the host-runtime tests mostly wait on podman, PostgreSQL and git,
  // so they overlap well with the CPU-bound synth tests.
  maxWorkers: 2,
};

export default config;
