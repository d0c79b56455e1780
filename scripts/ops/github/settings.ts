import type { BranchPoliciesBody, EnvironmentBody, GithubFacts, GithubRead, OidcSubjectBody } from '../commands/github-settings';

/** Where and how ops reads GitHub: the token comes from the environment (GITHUB_TOKEN), never argv. */
export interface GithubAccess {
  /** A read-only token; it is sent only in the Authorization header and never printed. */
  readonly token: string;
  /** @default https://api.github.com (tests point it at a local server) */
  readonly apiUrl?: string;
  /** @default global fetch */
  readonly fetchImpl?: typeof fetch;
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
}

export const GITHUB_API_URL = 'https://api.github.com';

async function read<T>(access: GithubAccess, path: string): Promise<GithubRead<T>> {
  const url = `${(access.apiUrl ?? GITHUB_API_URL).replace(/\/$/, '')}${path}`;
  try {
    const response = await (access.fetchImpl ?? fetch)(url, {
      headers: {
        Accept: 'application/vnd.github+json',
        Authorization: `Bearer ${access.token}`,
        'X-GitHub-Api-Version': '2022-11-28',
        'User-Agent': 'gitops-stack-ops',
      },
      signal: AbortSignal.timeout(access.timeoutMs ?? 10_000),
    });
    if (!response.ok) {
      const why =
        response.status === 404
          ? 'not found'
          : response.status === 401 || response.status === 403
            ? 'the token may not read this'
            : 'GitHub answered with an error';
      return { ok: false, status: response.status, error: why };
    }
    return { ok: true, body: (await response.json()) as T };
  } catch (error) {
    // A network problem or a timeout: the setting is unknown. The message never contains the token.
    return { ok: false, error: `GitHub API unreachable (${(error as Error).name})` };
  }
}

/** Reads the repository's OIDC subject customization and each environment with its branch policies. */
export async function readGithubSettings(access: GithubAccess, repository: string, environments: readonly string[]): Promise<GithubFacts> {
  const repo = `/repos/${repository}`;
  const oidcSubject = await read<OidcSubjectBody>(access, `${repo}/actions/oidc/customization/sub`);
  const entries = await Promise.all(
    environments.map(async (env) => {
      const environment = await read<EnvironmentBody>(access, `${repo}/environments/${encodeURIComponent(env)}`);
      const custom = environment.ok && environment.body.deployment_branch_policy?.custom_branch_policies === true;
      const branchPolicies = custom
        ? await read<BranchPoliciesBody>(access, `${repo}/environments/${encodeURIComponent(env)}/deployment-branch-policies`)
        : undefined;
      return [env, { environment, ...(branchPolicies ? { branchPolicies } : {}) }] as const;
    }),
  );
  return { repository, oidcSubject, environments: Object.fromEntries(entries) };
}
