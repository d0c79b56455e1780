/**
 * Jest with the swc transform: no type-checking here (`npm run typecheck` does that once),
 * so each test file starts in milliseconds instead of seconds.
 * `globalSetup` synthesizes every shipped environment once; tests read the shared output.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
  },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
  testTimeout: 60000,
  // Two workers even on two cores: the host-runtime tests mostly wait on podman, PostgreSQL and git,
  // so they overlap well with the CPU-bound synth tests (about 45 s instead of 65 s here).
  maxWorkers: 2,
};
