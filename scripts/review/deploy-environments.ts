#!/usr/bin/env node
/*
 * `npm run -s deploy:environments -- [--only ENV] [--previous FILE]`: which environments the deploy
 * workflow deploys, from the config, never a list in the workflow. The config's first environment
 * (dev in the shipped one) deploys first; every other one after it, in parallel, each after its
 * own plan and approval. An environment the previous config had and this one has not is reported
 * (its stacks stay deployed until destroyed), never deployed and never a failure.
 * Prints `first=<json>` and `rest=<json>` lines for $GITHUB_OUTPUT; notices go to stderr.
 * Exit codes: 0 ok; 1 the config is invalid; 2 usage (an --only that is not in the config).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { configPath, isConfigProblem, readConfig } from '../../lib/config/config-file';
import { stackNames } from '../../lib/names';

export interface DeployOrder {
  /** Deployed first (the config's first environment, or the one asked for). */
  readonly first: readonly string[];
  /** Deployed after `first`, in parallel. */
  readonly rest: readonly string[];
  /** In the previous config, not in this one: reported, not deployed. */
  readonly removed: readonly string[];
}

/** The environment names of an earlier config, read leniently (it may not pass today's schema). */
export function previousEnvironments(text: string): string[] {
  try {
    const environments = (parse(text) as { environments?: unknown } | null)?.environments;
    return environments && typeof environments === 'object' ? Object.keys(environments) : [];
  } catch {
    return [];
  }
}

/** The order of deploys for the configured environments. */
export function deployOrder(configured: readonly string[], previous: readonly string[], only?: string): DeployOrder {
  const removed = previous.filter((e) => !configured.includes(e));
  if (only !== undefined) return { first: [only], rest: [], removed };
  const [first, ...rest] = configured;
  return { first: first === undefined ? [] : [first], rest, removed };
}

export function main(argv: readonly string[], io: { out: (t: string) => void; err: (t: string) => void }): number {
  let values: { only?: string; previous?: string };
  try {
    values = parseArgs({ args: [...argv], options: { only: { type: 'string' }, previous: { type: 'string' } }, strict: true }).values;
  } catch (error) {
    io.err(`deploy:environments: ${(error as Error).message.split('\n')[0]} (options: --only ENV, --previous FILE)\n`);
    return 2;
  }
  let configured: string[];
  let app: string;
  try {
    const config = readConfig(configPath());
    configured = Object.keys(config.environments);
    app = config.app.name;
  } catch (error) {
    if (!isConfigProblem(error)) throw error;
    io.err(`${error.message}\n`);
    return 1;
  }
  if (values.only !== undefined && !configured.includes(values.only)) {
    io.err(`deploy:environments: "${values.only}" is not an environment of the config (${configured.join(', ')})\n`);
    return 2;
  }
  const previous = values.previous && existsSync(values.previous) ? previousEnvironments(readFileSync(values.previous, 'utf8')) : [];
  const order = deployOrder(configured, previous, values.only);
  for (const env of order.removed) {
    const stacks = [stackNames.data(app, env), stackNames.host(app, env), stackNames.health(app, env)].join(' ');
    io.err(
      `::notice title=Environment ${env} removed::${env} is no longer in the config: this pipeline no longer deploys it; its stacks stay deployed (and billed) until someone runs npx cdk destroy ${stacks}\n`,
    );
  }
  io.out(`first=${JSON.stringify(order.first)}\nrest=${JSON.stringify(order.rest)}\nremoved=${JSON.stringify(order.removed)}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
