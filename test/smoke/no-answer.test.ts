import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import type { SmokePlan } from '../../lib/smoke/plan';
import { noAnswerReason, runSmoke } from '../../lib/smoke/run';

/*
 * `ops smoke --url` says why a request got no answer (fetch reports every failure as "fetch
 * failed"): each cause made for real on loopback, through the same runner ops uses.
 */

const plan: SmokePlan = { checks: [{ name: 'health', method: 'GET', path: '/healthz', headers: {}, auth: false, expectStatus: '200', json: [] }] };
const servers: { close: (cb: () => void) => void }[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done()))));
});

async function listening<T extends Server | ReturnType<typeof createTcpServer>>(server: T): Promise<number> {
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const firstLine = async (baseUrl: string, timeoutMs = 5000) => (await runSmoke(plan, baseUrl, () => undefined, { timeoutMs })).lines[0];

test('connection refused', async () => {
  expect(await firstLine(`http://127.0.0.1:${await closedPort()}`)).toBe(
    'FAIL health: GET /healthz -> no answer (connection refused: nothing listens there (ECONNREFUSED))',
  );
});

test('TLS to a port that speaks plain HTTP', async () => {
  const port = await listening(createServer((_, res) => res.end('ok')));
  expect(await firstLine(`https://127.0.0.1:${port}`)).toMatch(
    /^FAIL health: GET \/healthz -> no answer \(TLS: wrong version number \(ERR_SSL_WRONG_VERSION_NUMBER|EPROTO\)\)$/,
  );
});

test('no answer in time', async () => {
  // Accepts the connection and never answers.
  const port = await listening(createTcpServer(() => undefined));
  expect(await firstLine(`http://127.0.0.1:${port}`, 300)).toBe('FAIL health: GET /healthz -> no answer (timed out after 0.3 s)');
});

test('the server closing the connection', async () => {
  const port = await listening(createTcpServer((socket) => socket.destroy()));
  expect(await firstLine(`http://127.0.0.1:${port}`)).toMatch(
    /-> no answer \((the server closed the connection \(UND_ERR_SOCKET\)|connection reset by the server \(ECONNRESET\))\)$/,
  );
});

test.each<[string, unknown, string]>([
  [
    'DNS (the cause fetch gives)',
    Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), { code: 'ENOTFOUND' }) }),
    'DNS: no such host (ENOTFOUND)',
  ],
  [
    'a host with several addresses, all refusing',
    Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:80'), { code: 'ECONNREFUSED' })])),
    }),
    'connection refused: nothing listens there (ECONNREFUSED)',
  ],
  [
    'an untrusted certificate',
    Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) }),
    'TLS: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
  ],
  [
    'a port fetch refuses',
    Object.assign(new TypeError('fetch failed'), { cause: new Error('bad port') }),
    'fetch does not connect to this port (blocked by the Fetch standard)',
  ],
])('noAnswerReason: %s', (_, error, reason) => {
  expect(noAnswerReason(error, 10_000)).toBe(reason);
});
