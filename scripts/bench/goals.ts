/*
 * The synth benchmark's goals (`npm run bench`), in one place: the benchmark checks them and the
 * README quotes them (a test compares the two).
 */

/** Median wall time of the everyday `npm run synth` for the shipped config, on an idle machine. */
export const SHIPPED_WALL_GOAL_MS = 3000;

/** Synth time for 20 environments over 2: it should grow with environments, not start-up. */
export const RATIO_GOAL = 3;
