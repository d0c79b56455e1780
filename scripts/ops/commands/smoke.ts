import { parseArgs as parseOptions } from 'node:util';

/*
 * `ops smoke --env E [--url URL]`: the environment's smoke plan (lib/smoke/plan.ts) run from here
 * against its public URL with lib/smoke/run.ts. The options and help live here, beside the
 * command, so the CLI's command table takes them as they are.
 */

export const SMOKE_HELP = `usage: ops smoke --env <name|all> [--url <base-url>] [--json]

Runs the environment's smoke checks (app.smoke and environments.<env>.smoke in the config: health,
GraphQL, invalid login -> 4xx, login -> token -> authenticated reads) against its public URL
(https://<domain> with tls, http:// otherwise), the same checks the host runs before and after
each deploy switch. Login credentials are read by secret NAME from this process's environment
(e.g. SMOKE_PASSWORD, from the smoke-prod workflow's secrets); values and tokens are never printed.
Exit 1 when a check fails; then see why with: npm run ops -- logs --env <name> --since 15m

options:
  --url <base-url>   run against another base URL (e.g. http://127.0.0.1:3001 through a tunnel)
  --json             print the lines as JSON`;

/** The options `ops smoke` takes besides --env and --json. */
export interface SmokeArgs {
  /** @default - the environment's public URL */
  readonly url?: string;
}

/** Parses smoke's own options out of `rest` (the argv after the command); returns the others untouched. */
export function parseSmokeArgs(rest: readonly string[]): { smoke: SmokeArgs; rest: string[] } {
  if (rest.includes('--help') || rest.includes('-h')) throw new Error(SMOKE_HELP);
  const i = rest.indexOf('--url');
  if (i < 0) return { smoke: {}, rest: [...rest] };
  const url = rest[i + 1];
  const { values } = parseOptions({ args: ['--url', url ?? ''], options: { url: { type: 'string' } } });
  if (!values.url || !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(values.url)) throw new Error(`--url needs an http(s) base URL, got "${url ?? ''}"`);
  return { smoke: { url: values.url.replace(/\/+$/, '') }, rest: [...rest.slice(0, i), ...rest.slice(i + 2)] };
}

/** The environment's public base URL. */
export function publicBaseUrl(env: { readonly tls: boolean; readonly domain: string }): string {
  return `${env.tls ? 'https' : 'http'}://${env.domain}`;
}
