import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import type { ProjectConfig } from '../../lib/config';
import { parseRotateArgs } from './commands/rotate';
import { cleanValue, generateSecret, parseSecretsArgs, type ValueSource } from './commands/secrets';
import { runRotate, runSecrets, type SecretsIo } from './secrets-ops';

/*
 * The I/O edge of `ops secrets` and `ops rotate`: reads the value (stdin, file, generator), asks
 * for confirmation on a terminal, prints the outcome. Values are never printed.
 */

async function readStdin(): Promise<string> {
  // A value typed at a terminal would be echoed on screen: only a pipe or redirect is accepted.
  if (process.stdin.isTTY) throw new Error('pipe the value on stdin (e.g. from a password manager), or use --from-file FILE or --generate LENGTH');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const cliIo: SecretsIo = {
  readValue: async (source: ValueSource) => {
    if (source.kind === 'generate') return generateSecret(source.length, randomBytes);
    if (source.kind === 'file') return cleanValue(readFileSync(source.path, 'utf8'), source.path);
    return cleanValue(await readStdin(), 'stdin');
  },
  confirm: async (question) => {
    if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim());
    } finally {
      rl.close();
    }
  },
  readToken: async (path) => cleanValue(readFileSync(path, 'utf8'), path),
};

/** Runs `secrets ...` or `rotate ...`; returns the exit code. Usage problems: one line, exit 2, before any AWS call. */
export async function runSecretCommand(config: ProjectConfig, argv: readonly string[], io: SecretsIo = cliIo): Promise<number> {
  const [command, ...rest] = argv;
  let args: ReturnType<typeof parseSecretsArgs> | ReturnType<typeof parseRotateArgs>;
  try {
    args = command === 'rotate' ? parseRotateArgs(rest, config) : parseSecretsArgs(rest, config);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const actor = process.env.GITHUB_ACTOR ? `github:${process.env.GITHUB_ACTOR}` : userInfo().username;
  try {
    const outcome = args.command === 'rotate' ? await runRotate({ config, actor }, args, io) : await runSecrets({ config, actor }, args, io);
    console.log(args.json ? JSON.stringify(outcome.json, null, 2) : outcome.text);
    return outcome.ok ? 0 : outcome.exitCode || 1;
  } catch (error) {
    console.error(`ops ${command}: ${(error as Error).message}`);
    return 1;
  }
}
