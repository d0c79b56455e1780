#!/usr/bin/env node
/*
 * The ops CLI: `npm run ops -- <command> --env <name> [options]`. Parses, runs, prints; the logic
 * lives in commands/ (pure) and aws/ (thin SDK edges). AWS credentials and region come from the
 * usual SDK chain (AWS_PROFILE, OIDC in GitHub Actions); each environment's region from the config.
 */
import { userInfo } from 'node:os';
import { configPath, readConfigOrExit } from '../../bin/config-file';
import { parseArgs } from './commands/parse-args';
import { runOps } from './ops';

async function main(): Promise<number> {
  const config = readConfigOrExit(configPath());
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2), Object.keys(config.environments));
  } catch (error) {
    // Asked-for help is an answer (stdout, exit 0); anything else is a usage error.
    const asked = process.argv.includes('--help') || process.argv.includes('-h');
    if (asked) console.log((error as Error).message);
    else console.error((error as Error).message);
    return asked ? 0 : 2;
  }
  const actor = process.env.GITHUB_ACTOR ? `github:${process.env.GITHUB_ACTOR}` : userInfo().username;
  // Smoke login secrets are looked up by the names the config gives, nothing else is read.
  const outcome = await runOps({ config, actor, secrets: (name) => process.env[name] }, args);
  if (args.json || outcome.text) console.log(args.json ? JSON.stringify(outcome.json, null, 2) : outcome.text);
  return outcome.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`ops: ${error.message}`);
    process.exit(1);
  },
);
