#!/usr/bin/env node
/*
 * The ops CLI: `npm run ops -- <command> --env <name> [options]`. Parses, runs, prints; the logic
 * lives in commands/ (pure) and aws/ (thin SDK edges). AWS credentials and region come from the
 * usual SDK chain (AWS_PROFILE, OIDC in GitHub Actions); each environment's region from the config.
 *
 * Order matters: help needs nothing, the command line is parsed in full before any AWS client
 * exists (clients are created inside runOps), so a mistake never reaches AWS.
 */
import { userInfo } from 'node:os';
import { runMain } from '../../lib/cli/command-line';
import { isConfigProblem } from '../../lib/config/errors';
import { helpRequested, parseArgs } from './commands/parse-args';
import { ROTATE_USAGE } from './commands/rotate';
import { SECRETS_USAGE } from './commands/secrets';

// The config loader and the AWS SDK load only when a command runs: help answers at once.
const loadConfig = async () => {
  const { configPath, readConfig } = await import('../../lib/config/config-file');
  return readConfig(configPath());
};

/*
 * On Node 20 the AWS SDK writes a nine-line NodeVersionSupportWarning (its releases after January
 * 2027 need Node 22) before the first client's first message, so every ops error became a screen.
 * This project supports Node 20 and 22 (package.json engines; the README says when 20 ends); the
 * SDK's own switch turns that one warning off, any other warning still prints. Set
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false to see it.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The whole CLI but the exit: returns the exit code; usage and config errors are thrown for runMain. */
export async function main(argv: readonly string[]): Promise<number> {
  // secrets and rotate parse their own options (scripts/ops/commands/secrets.ts, rotate.ts).
  if (argv[0] === 'secrets' || argv[0] === 'rotate') {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(argv[0] === 'rotate' ? ROTATE_USAGE : SECRETS_USAGE);
      return 0;
    }
    const { runSecretCommand } = await import('./secrets-cli');
    return runSecretCommand(await loadConfig(), argv);
  }
  const help = helpRequested(argv);
  if (help !== undefined) {
    console.log(help);
    return 0;
  }
  const config = await loadConfig();
  const args = parseArgs(argv, Object.keys(config.environments));
  const actor = process.env.GITHUB_ACTOR ? `github:${process.env.GITHUB_ACTOR}` : userInfo().username;
  const { runOps } = await import('./ops');
  let outcome: Awaited<ReturnType<typeof runOps>>;
  try {
    // GitHub settings (validate) are read with a token from the environment only, never argv; the
    // API URL is overridable for tests only (a local server stands in for api.github.com).
    const token = process.env.GITHUB_TOKEN;
    const github = token ? { token, apiUrl: process.env.OPS_GITHUB_API_URL_FOR_TESTS || undefined } : undefined;
    // Smoke login secrets are looked up by the names the config gives, nothing else is read.
    outcome = await runOps({ config, actor, github, secrets: (name) => process.env[name] }, args);
  } catch (error) {
    // AWS errors (no credentials, a stack not deployed) are the operator's to fix: one line. A bug keeps its stack.
    if (error instanceof TypeError || error instanceof ReferenceError || !(error instanceof Error)) throw error;
    console.error(`ops: ${error.message}`);
    return 1;
  }
  // logs prints its events as they arrive and returns no text.
  if (args.json || outcome.text) console.log(args.json ? JSON.stringify(outcome.json, null, 2) : outcome.text);
  // A host command exits with its script's exit code (or NO_OUTCOME_EXIT_CODE); never 0 unless ok.
  return outcome.ok ? 0 : outcome.exitCode || 1;
}

if (require.main === module) runMain(() => main(process.argv.slice(2)), isConfigProblem);
