import { UsageError } from '../../../lib/cli/command-line';

/*
 * `ops smoke --env E [--url URL]`: the environment's smoke plan (lib/smoke/plan.ts) run from here
 * against its public URL with lib/smoke/run.ts. Its entry in the command table (parse-args.ts)
 * takes the help text and the --url check from here.
 */

/** The lines `ops smoke --help` prints after the summary. */
export const SMOKE_DETAILS = `Runs the environment's smoke checks (app.smoke and environments.<env>.smoke in the config: health,
GraphQL, invalid login -> 4xx, login -> token -> authenticated reads) against its public URL
(https://<domain> with tls, http:// otherwise), the same checks the host runs before and after
each deploy switch. Login credentials are read by secret NAME from this process's environment
(e.g. SMOKE_PASSWORD, from the smoke-prod workflow's secrets); values and tokens are never printed.
Exit 1 when a check fails; then see why with: npm run ops -- logs --env <name> --since 15m`;

/** The options `ops smoke` takes besides --env and --json. */
export interface SmokeArgs {
  /** @default - the environment's public URL */
  readonly url?: string;
}

/** `--url`'s value as a base URL without trailing slashes; a usage error naming the flag otherwise. */
export function smokeBaseUrl(url: string, command = 'ops smoke'): string {
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(url)) throw new UsageError(`${command}: --url needs an http(s) base URL, got "${url}"`);
  return url.replace(/\/+$/, '');
}

export { publicBaseUrl } from '../../../lib/smoke/plan';
