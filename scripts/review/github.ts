/*
 * The thin GitHub REST edge of the review's publisher: pull requests, commit statuses and issue
 * comments of one repository, with the workflow's token (sent only in the Authorization header).
 */
import type { CommitStatus, GithubApi } from './publish';

export interface GithubConnection {
  /** `owner/name`. */
  readonly repository: string;
  readonly token: string;
  /** @default https://api.github.com */
  readonly apiUrl?: string;
  /** @default global fetch */
  readonly fetchImpl?: typeof fetch;
}

/** A GitHub API call that failed: status and path, never the token. */
export class GithubError extends Error {}

export function githubApi(connection: GithubConnection): GithubApi {
  const base = `${(connection.apiUrl ?? 'https://api.github.com').replace(/\/$/, '')}/repos/${connection.repository}`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await (connection.fetchImpl ?? fetch)(`${base}${path}`, {
      method,
      headers: {
        Accept: 'application/vnd.github+json',
        Authorization: `Bearer ${connection.token}`,
        'X-GitHub-Api-Version': '2022-11-28',
        'User-Agent': 'gitops-stack-review',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    if (!response.ok)
      throw new GithubError(`GitHub answered ${response.status} to ${method} ${path}${response.status === 403 ? ' (does the job have the permission?)' : ''}`);
    return (response.status === 204 ? undefined : await response.json()) as T;
  };
  return {
    async pull(pr) {
      const body = await call<{ head: { sha: string }; labels: { name: string }[] }>('GET', `/pulls/${pr}`);
      return { headSha: body.head.sha, labels: body.labels.map((l) => l.name) };
    },
    statuses: (sha) => call<CommitStatus[]>('GET', `/commits/${sha}/statuses?per_page=100`),
    async setStatus(sha, context, state, description) {
      await call('POST', `/statuses/${sha}`, { context, state, description: description.slice(0, 140) });
    },
    async comments(pr) {
      const all: { id: number; body?: string | null; user?: { login?: string } | null }[] = [];
      for (let page = 1; ; page++) {
        const batch = await call<typeof all>('GET', `/issues/${pr}/comments?per_page=100&page=${page}`);
        all.push(...batch);
        if (batch.length < 100) return all;
      }
    },
    async createComment(pr, body) {
      await call('POST', `/issues/${pr}/comments`, { body });
    },
    async updateComment(id, body) {
      await call('PATCH', `/issues/comments/${id}`, { body });
    },
  };
}
