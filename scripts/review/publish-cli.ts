#!/usr/bin/env node
/*
 * `npm run review:publish -- comment --head <sha> --body <file>`: posts the review artifact as the
 * pull request's sticky comment and sets the gate (the workflow_run job, with a write token).
 * `npm run review:publish -- acknowledge --pr <n> --head <sha> --actor <login> --added|--removed`:
 * records the acknowledge-state-change label for that head commit and updates comment and gate.
 * GitHub access from the environment only: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL.
 * Exit codes: 0 done (or nothing to do, said in one line); 1 GitHub or the artifact refused; 2 usage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { githubApi } from './github';
import { acknowledge, type GithubApi, publishReview } from './publish';

export const PUBLISH_USAGE = `usage: npm run review:publish -- comment --head <sha> --body <file>
       npm run review:publish -- acknowledge --pr <n> --head <sha> --actor <login> (--added | --removed)
GitHub access from GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (as GitHub Actions sets them).`;

export async function runPublish(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: { out: (t: string) => void; err: (t: string) => void },
  api?: GithubApi,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        head: { type: 'string' },
        body: { type: 'string' },
        pr: { type: 'string' },
        actor: { type: 'string' },
        added: { type: 'boolean' },
        removed: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    io.err(`review:publish: ${(error as Error).message.split('\n')[0]}\n${PUBLISH_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${PUBLISH_USAGE}\n`);
    return 0;
  }
  const [command] = positionals;
  const head = values.head ?? '';
  const usage = (why: string) => {
    io.err(`review:publish: ${why}\n${PUBLISH_USAGE}\n`);
    return 2;
  };
  if (!/^[0-9a-f]{40}$/.test(head)) return usage('--head must be the 40-hex head commit');
  if (command === 'comment' && (!values.body || !existsSync(values.body)))
    return usage(`--body must name the review comment file${values.body ? ` (${values.body} does not exist)` : ''}`);
  const pr = Number(values.pr);
  if (command === 'acknowledge' && (!Number.isInteger(pr) || pr < 1 || !values.actor || values.added === values.removed))
    return usage('acknowledge needs --pr <n>, --actor <login> and one of --added or --removed');
  if (command !== 'comment' && command !== 'acknowledge') return usage(`unknown command "${command ?? ''}"`);
  const client =
    api ??
    (env.GITHUB_TOKEN && env.GITHUB_REPOSITORY
      ? githubApi({ token: env.GITHUB_TOKEN, repository: env.GITHUB_REPOSITORY, apiUrl: env.GITHUB_API_URL })
      : undefined);
  if (!client) return usage('GITHUB_TOKEN and GITHUB_REPOSITORY must be set (they are in GitHub Actions)');
  try {
    const outcome =
      command === 'comment'
        ? await publishReview(client, head, readFileSync(values.body as string, 'utf8'))
        : await acknowledge(client, pr, head, values.actor as string, values.added === true);
    io.out(`${outcome.line}\n`);
    return 0;
  } catch (error) {
    io.err(`review:publish: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module)
  runPublish(process.argv.slice(2), process.env, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then((code) => {
    process.exitCode = code;
  });
