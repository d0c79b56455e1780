import { UsageError } from '../../../lib/cli/command-line';
import { type SmokePlan, smokeSecretNames } from '../../../lib/smoke/plan';

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
(e.g. SMOKE_PASSWORD, from the smoke-prod workflow's secrets); values and tokens are never printed,
and never sent over plain HTTP to another machine: a plan with a login against an http:// URL
other than this machine's loopback is refused (exit 2) before any request.
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

/** Whether a URL's host is this machine: what is sent there never crosses a network (an SSM port-forwarding session or an SSH tunnel ends here). */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || /^127(\.\d{1,3}){3}$/.test(hostname) || hostname === '[::1]';
}

/**
 * Why a smoke run must not start: its plan logs in (the credentials, then the token on every
 * `auth` check) and its base URL is plain HTTP to another machine, where every hop could read
 * them. One line naming the environment and what to do; undefined when nothing secret would
 * travel in clear (no login, HTTPS, or this machine's loopback).
 */
export function plainHttpRefusal(envName: string, plan: SmokePlan, baseUrl: string): string | undefined {
  if (!plan.login) return undefined;
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' || isLoopback(url.hostname)) return undefined;
  return `ops smoke --env ${envName}: refused, no request was sent: its login (${smokeSecretNames(plan).join(', ')}) and token would go over plain HTTP to ${baseUrl}; turn TLS on (environments.${envName}.tls: true), pass an https:// --url, or run it through the host: forward its port with an SSM session (AWS-StartPortForwardingSession) and pass --url http://127.0.0.1:<local port>`;
}
