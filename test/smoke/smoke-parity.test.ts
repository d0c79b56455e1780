import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { runSmoke } from '../../lib/smoke/run';
import { runCommand } from '../helpers/host-scripts';
import { projectRoot } from '../helpers/paths';
import { type CannedAnswer, SECRETS, SMOKE_CASES, type SmokeCase } from './smoke-cases';

/*
 * The two smoke runners, one table (smoke-cases.ts): every case runs through lib/smoke/run.ts in
 * this process and through scripts/host/smoke.py as a subprocess, against the same local app. Each
 * must print the case's lines exactly, with the same verdict and exit code, and neither may print a
 * secret value or the token anywhere (stdout or stderr). A semantic change to one runner only fails
 * here; changing both means changing the table, in review.
 */

const SMOKE_PY = resolve(projectRoot, 'scripts/host/smoke.py');
const TIMEOUT_MS = 500;
const root = mkdtempSync('/tmp/smoke-parity-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A local app answering from the case's table; `close` drops connections still waiting on a delay. */
function startApp(answers: Readonly<Record<string, CannedAnswer>>): Promise<{ url: string; close: () => void; requests: string[] }> {
  const requests: string[] = [];
  const timers: NodeJS.Timeout[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const key = `${req.method} ${req.url}`;
      requests.push(key);
      const answer = answers[key];
      const send = (status: number, body: string | object = '') => {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        // A 3xx names a Location (answered 404), so a runner that followed redirects would report 404.
        res.writeHead(status, {
          'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json',
          ...(status >= 300 && status < 400 ? { Location: '/new' } : {}),
        });
        res.end(text);
      };
      if (!answer) return send(404, { error: 'not found' });
      const matches =
        (answer.when?.body === undefined || answer.when.body === raw) &&
        Object.entries(answer.when?.headers ?? {}).every(([name, value]) => req.headers[name] === value);
      if (!matches) return send(401, { error: 'unexpected request' });
      timers.push(setTimeout(() => send(answer.status, answer.body), answer.delayMs ?? 0));
    });
  });
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      done({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => {
          for (const t of timers) clearTimeout(t);
          server.closeAllConnections();
          server.close();
        },
      });
    });
  });
}

/** A port nobody listens on: one the kernel gave out and that was closed again. */
function closedPort(): Promise<string> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(`http://127.0.0.1:${port}`));
    });
  });
}

/** Runs one case through both runners; returns each runner's lines, verdict and full output. */
async function runBoth(c: SmokeCase, index: number) {
  const app = c.answers === 'refused' ? undefined : await startApp(c.answers);
  const url = app?.url ?? (await closedPort());
  try {
    const planFile = join(root, `plan-${index}.json`);
    const envFile = join(root, `env-${index}`);
    writeFileSync(planFile, JSON.stringify(c.plan));
    writeFileSync(
      envFile,
      `# the host's env file\n${Object.entries(c.secrets)
        .map(([k, v]) => `${k}=${v}\n`)
        .join('')}`,
    );
    chmodSync(envFile, 0o600);
    const ts = await runSmoke(c.plan, `${url}/`, (name) => c.secrets[name], { timeoutMs: TIMEOUT_MS });
    const py = await runCommand('python3', [SMOKE_PY, planFile, envFile, String(TIMEOUT_MS / 1000), `${url}/`]);
    return { url, ts, py, pyLines: py.stdout.split('\n').filter((l) => l !== '') };
  } finally {
    app?.close();
  }
}

describe.each(SMOKE_CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, index) => {
  test('both runners print the same lines, verdict and exit code, and no secret', async () => {
    const { url, ts, py, pyLines } = await runBoth(c, index);
    const expected = c.lines.map((line) => line.replace('BASE', url));
    const passed = !expected.some((line) => line.startsWith('FAIL'));
    expect([...ts.lines]).toEqual(expected);
    expect(pyLines).toEqual(expected);
    expect(ts.ok).toBe(passed);
    expect({ code: py.code, stderr: py.stderr }).toEqual({ code: passed ? 0 : 1, stderr: '' });
    for (const secret of Object.values(SECRETS)) {
      expect(ts.lines.join('\n')).not.toContain(secret);
      expect(py.output).not.toContain(secret);
    }
  });
});

test('the table covers what the runners must agree on', () => {
  const all = JSON.stringify(SMOKE_CASES);
  for (const needle of [
    '(token captured)',
    'skipped: the login step failed',
    'is not set',
    'expected 4xx',
    'which it must not be',
    'expected absent',
    'is absent',
    'body is not JSON',
    '[redacted]',
    'TimeoutError',
    'ECONNREFUSED',
  ]) {
    expect(all).toContain(needle);
  }
  expect(SMOKE_CASES.some((c) => c.plan.login?.encoding === 'form')).toBe(true);
});

describe('smoke.py refuses bad input in one line on stderr, exit 2, no traceback', () => {
  const good = join(root, 'good.json');
  const bad = join(root, 'bad.json');
  beforeAll(() => {
    writeFileSync(good, JSON.stringify({ checks: [] }));
    writeFileSync(bad, '{"checks": [');
  });
  test.each([
    ['no arguments', [], 'usage: smoke.py <plan.json> <secrets-file> <timeout-seconds> <base-url>'],
    ['a plan that is not JSON', [bad, '/nonexistent', '1', 'http://127.0.0.1:1'], `smoke plan ${bad} is unreadable or not a plan:`],
    [
      'a missing plan',
      [join(root, 'missing.json'), '/nonexistent', '1', 'http://127.0.0.1:1'],
      `smoke plan ${join(root, 'missing.json')} is unreadable or not a plan:`,
    ],
    ['a timeout that is not a number', [good, '/nonexistent', 'soon', 'http://127.0.0.1:1'], "smoke: timeout 'soon' is not a positive number of seconds"],
    ['a base URL without a scheme', [good, '/nonexistent', '1', '127.0.0.1:1'], "smoke: base URL '127.0.0.1:1' is not http:// or https://"],
  ])('%s', async (_what, args, message) => {
    const py = await runCommand('python3', [SMOKE_PY, ...args]);
    expect(py.code).toBe(2);
    expect(py.stdout).toBe('');
    expect(py.stderr.trim().split('\n')).toHaveLength(1);
    expect(py.stderr).toContain(message);
    expect(py.stderr).not.toContain('Traceback');
  });
});
