/*
 * The host tier's test ceiling (jest.config.ts names this file in the host project's
 * setupFilesAfterEnv; jest reads testTimeout only at the top level, for every project). A ceiling,
 * not an expected duration: host tests wait for conditions (a port answering, a container healthy,
 * a restore done), and on a loaded two-core machine a PostgreSQL restore alone takes well over a
 * minute. A file's own jest.setTimeout still wins: it runs after this.
 */
export const HOST_TEST_TIMEOUT_MS = 600_000;

jest.setTimeout(HOST_TEST_TIMEOUT_MS);
