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
import { runSecretCommand } from './secrets-cli';

async function main(): Promise<number> {
  const config = readConfigOrExit(configPath());
  // secrets and rotate parse their own options (scripts/ops/commands/secrets.ts, rotate.ts).
  if (['secrets', 'rotate'].includes(process.argv[2])) return runSecretCommand(config, process.argv.slice(2));
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2), Object.keys(config.environments));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const actor = process.env.GITHUB_ACTOR ? `github:${process.env.GITHUB_ACTOR}` : userInfo().username;
  const outcome = await runOps({ config, actor }, args);
  console.log(args.json ? JSON.stringify(outcome.json, null, 2) : outcome.text);
  return outcome.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`ops: ${error.message}`);
    process.exit(1);
  },
);
