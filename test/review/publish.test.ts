import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACKNOWLEDGE_LABEL, GATE_END, GATE_START, REVIEW_MARKER } from '../../scripts/review/comment';
import { githubApi } from '../../scripts/review/github';
import { ACKNOWLEDGEMENT_CONTEXT, COMMENT_AUTHOR, type CommitStatus, GATE_CONTEXT, type GithubApi, resultOf } from '../../scripts/review/publish';
import { runPublish } from '../../scripts/review/publish-cli';
import { sharedSynthDir } from '../helpers/synth';
import { run } from './helpers';
import { scenario } from './scenario';

/*
 * The publisher, against an in-memory GitHub (the REST edge is tested apart with a recording
 * fetch): one sticky comment, the gate as a commit status, and the acknowledgement bound to the
 * head commit it was given for.
 */
const SHA1 = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);

interface Comment {
  id: number;
  body: string;
  user: { login: string };
}

function fakeGithub(pr: { number: number; head: string; labels: string[] }) {
  const statuses = new Map<string, CommitStatus[]>();
  const comments: Comment[] = [];
  let nextId = 1;
  const api: GithubApi = {
    pull: async (n) => {
      if (n !== pr.number) throw new Error(`no pull request ${n}`);
      return { headSha: pr.head, labels: [...pr.labels] };
    },
    statuses: async (sha) => [...(statuses.get(sha) ?? [])],
    setStatus: async (sha, context, state, description) => {
      statuses.set(sha, [{ context, state, description }, ...(statuses.get(sha) ?? [])]);
    },
    comments: async () => comments.map((c) => ({ ...c })),
    createComment: async (_n, body) => {
      comments.push({ id: nextId++, body, user: { login: COMMENT_AUTHOR } });
    },
    updateComment: async (id, body) => {
      const comment = comments.find((c) => c.id === id);
      if (!comment) throw new Error(`no comment ${id}`);
      comment.body = body;
    },
  };
  const gate = (sha: string) => statuses.get(sha)?.find((s) => s.context === GATE_CONTEXT)?.state;
  return { api, comments, statuses, gate, pr };
}

const io = () => {
  const lines = { out: '', err: '' };
  return { lines, io: { out: (t: string) => (lines.out += t), err: (t: string) => (lines.err += t) } };
};

/** A review comment of the shipped output against a scenario, for pull request 7 at `head`. */
function reviewComment(head: string, gated: boolean): string {
  const s = scenario();
  if (gated) {
    s.manifests('prod', (objects) => {
      objects.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].securityContext.privileged = true;
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'review-publish-'));
  const { out } = run([sharedSynthDir, s.dir, '--pr', '7', '--head-ref', head]);
  writeFileSync(join(dir, 'comment.md'), out);
  return join(dir, 'comment.md');
}
const clean = reviewComment(SHA1, false);
const gated1 = reviewComment(SHA1, true);
const gated2 = reviewComment(SHA2, true);

async function publish(github: ReturnType<typeof fakeGithub>, head: string, body: string) {
  const { lines, io: sink } = io();
  const code = await runPublish(['comment', '--head', head, '--body', body], {}, sink, github.api);
  return { code, ...lines };
}
async function label(github: ReturnType<typeof fakeGithub>, added: boolean) {
  if (added) github.pr.labels.push(ACKNOWLEDGE_LABEL);
  else github.pr.labels.splice(github.pr.labels.indexOf(ACKNOWLEDGE_LABEL), 1);
  const { lines, io: sink } = io();
  const code = await runPublish(
    ['acknowledge', '--pr', '7', '--head', github.pr.head, '--actor', 'alice', added ? '--added' : '--removed'],
    {},
    sink,
    github.api,
  );
  return { code, ...lines };
}

test('the review carries its result (pull request, head, gated) for the publisher', () => {
  expect(resultOf(readFileSync(gated1, 'utf8'))).toEqual({ pr: 7, head: SHA1, status: 'reviewed', gated: true });
  expect(readFileSync(gated1, 'utf8').startsWith(`${REVIEW_MARKER}\n<!-- gitops-stack:result `)).toBe(true);
});

test('one sticky comment: posted once, then updated in place; a look-alike by someone else is left alone', async () => {
  const github = fakeGithub({ number: 7, head: SHA1, labels: [] });
  github.comments.push({ id: 100, body: `${REVIEW_MARKER}\nforged`, user: { login: 'mallory' } });
  expect((await publish(github, SHA1, clean)).code).toBe(0);
  expect((await publish(github, SHA1, clean)).code).toBe(0);
  expect(github.comments.filter((c) => c.user.login === COMMENT_AUTHOR)).toHaveLength(1);
  expect(github.comments[0].body).toBe(`${REVIEW_MARKER}\nforged`);
  expect(github.gate(SHA1)).toBe('success');
});

test('⛔ without the label: the gate fails and the comment says how to acknowledge', async () => {
  const github = fakeGithub({ number: 7, head: SHA1, labels: [] });
  await publish(github, SHA1, gated1);
  expect(github.gate(SHA1)).toBe('failure');
  expect(github.comments[0].body).toContain(
    `${GATE_START}\n⛔ **The check fails** until the pull request carries the \`${ACKNOWLEDGE_LABEL}\` label, added for this head commit`,
  );
});

test('the label added for the head: recorded on that commit, the comment and gate follow; a new push needs it again', async () => {
  const github = fakeGithub({ number: 7, head: SHA1, labels: [] });
  await publish(github, SHA1, gated1);
  const added = await label(github, true);
  expect(added).toMatchObject({ code: 0, out: `acknowledgement of ${SHA1} recorded; gate: success\n` });
  expect(github.statuses.get(SHA1)?.find((s) => s.context === ACKNOWLEDGEMENT_CONTEXT)).toEqual({
    context: ACKNOWLEDGEMENT_CONTEXT,
    state: 'success',
    description: 'acknowledged by @alice',
  });
  expect(github.gate(SHA1)).toBe('success');
  expect(github.comments[0].body).toContain(
    `${GATE_START}\n**Acknowledged** by @alice with the \`${ACKNOWLEDGE_LABEL}\` label for this head commit: the check passes.\n${GATE_END}`,
  );

  // A new push: the label is still on the pull request, but it was given for SHA1.
  github.pr.head = SHA2;
  await publish(github, SHA2, gated2);
  expect(github.gate(SHA2)).toBe('failure');
  expect(github.comments[0].body).toContain('The label was added for an earlier commit, not this head: remove it and add it again');

  await label(github, false);
  await label(github, true);
  expect(github.gate(SHA2)).toBe('success');
});

test('the label removed: the acknowledgement is withdrawn and the gate fails again', async () => {
  const github = fakeGithub({ number: 7, head: SHA1, labels: [] });
  await publish(github, SHA1, gated1);
  await label(github, true);
  const removed = await label(github, false);
  expect(removed.out).toBe(`acknowledgement of ${SHA1} withdrawn; gate: failure\n`);
  expect(github.gate(SHA1)).toBe('failure');
});

test('a review of a head the pull request moved away from is not posted; an artifact of another commit is refused', async () => {
  const github = fakeGithub({ number: 7, head: SHA2, labels: [] });
  expect(await publish(github, SHA1, gated1)).toMatchObject({
    code: 0,
    out: `pull request #7 has moved on to ${SHA2}: the review of ${SHA1} is not posted (its own run posts the newer one)\n`,
  });
  expect(github.comments).toHaveLength(0);
  const refused = await publish(github, SHA2, gated1);
  expect(refused).toMatchObject({
    code: 1,
    err: `review:publish: the review artifact is of commit ${SHA1}, not of the workflow run's head ${SHA2} (refusing to post it)\n`,
  });
});

test('a failure comment sets the gate to failure', async () => {
  const github = fakeGithub({ number: 7, head: SHA1, labels: [ACKNOWLEDGE_LABEL] });
  const dir = mkdtempSync(join(tmpdir(), 'review-publish-failed-'));
  const { out } = run(['--failed', 'synth of the head commit', '--next', 'npm run synth', '--pr', '7', '--head-ref', SHA1]);
  writeFileSync(join(dir, 'comment.md'), out);
  await publish(github, SHA1, join(dir, 'comment.md'));
  expect(github.gate(SHA1)).toBe('failure');
  expect(github.comments[0].body).toContain('No review: the synth of the head commit failed');
});

test('usage: a head that is not a commit, no body, no token', async () => {
  const { io: sink, lines } = io();
  expect(await runPublish(['comment', '--head', 'main', '--body', clean], {}, sink)).toBe(2);
  expect(await runPublish(['comment', '--head', SHA1, '--body', clean], {}, sink)).toBe(2);
  expect(lines.err).toContain('GITHUB_TOKEN and GITHUB_REPOSITORY must be set');
});

test('the REST edge: the calls, the token only in the Authorization header, errors without it', async () => {
  const calls: { url: string; method: string; auth: string | null; body?: string }[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({ url, method: String(init.method), auth: new Headers(init.headers).get('Authorization'), body: init.body as string | undefined });
    if (url.endsWith('/pulls/7')) return new Response(JSON.stringify({ head: { sha: SHA1 }, labels: [{ name: 'x' }] }), { status: 200 });
    if (url.includes('/statuses/')) return new Response('{}', { status: 201 });
    return new Response('{"message":"Resource not accessible by integration"}', { status: 403 });
  }) as unknown as typeof fetch;
  const api = githubApi({ repository: 'o/r', token: 'secret-token', apiUrl: 'https://github.example/api/v3', fetchImpl });
  expect(await api.pull(7)).toEqual({ headSha: SHA1, labels: ['x'] });
  await api.setStatus(SHA1, GATE_CONTEXT, 'success', 'ok');
  await expect(api.createComment(7, 'hello')).rejects.toThrow('GitHub answered 403 to POST /issues/7/comments (does the job have the permission?)');
  expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
    'GET https://github.example/api/v3/repos/o/r/pulls/7',
    `POST https://github.example/api/v3/repos/o/r/statuses/${SHA1}`,
    'POST https://github.example/api/v3/repos/o/r/issues/7/comments',
  ]);
  expect(calls.every((c) => c.auth === 'Bearer secret-token')).toBe(true);
  expect(JSON.parse(calls[1].body as string)).toEqual({ context: GATE_CONTEXT, state: 'success', description: 'ok' });
});
