/*
 * The host tier's per-test ceiling. Jest reads `testTimeout` from the global config only (a
 * project's own `testTimeout` is ignored), so the host project sets its longer ceiling here, in a
 * setup file only that project loads.
 */
jest.setTimeout(600_000);
