import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import type { SmokePlan } from '../../lib/smoke/plan';
import { noAnswerReason, runSmoke } from '../../lib/smoke/run';

/*
 * `ops smoke --url` says why a request got no answer, by the system's code (fetch reports every
 * failure as "fetch failed"; before, a refused localhost printed "TypeError"): each cause made for
 * real on loopback, through the same runner ops uses. The words are the host runner's too
 * (test/smoke/smoke-parity.test.ts).
 */

const plan: SmokePlan = { checks: [{ name: 'health', method: 'GET', path: '/healthz', headers: {}, auth: false, expectStatus: '200', json: [] }] };
type Listening = Server | ReturnType<typeof createTcpServer>;
const servers: Listening[] = [];
const sockets = new Set<Socket>();
afterAll(async () => {
  // Connections a test left open (the silent server's, fetch's kept-alive ones) would hold close() forever.
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done()))));
});

async function listening<T extends Listening>(server: T): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
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
  expect(await firstLine(`http://127.0.0.1:${await closedPort()}`)).toBe('FAIL health: GET /healthz -> no answer (ECONNREFUSED)');
});

test('a port fetch will not connect to (the Fetch standard blocks 9, the discard port): the reason, not "TypeError"', async () => {
  expect(await firstLine('http://127.0.0.1:9')).toBe('FAIL health: GET /healthz -> no answer (bad port)');
});

test('TLS to a port that speaks plain HTTP', async () => {
  const port = await listening(createServer((_, res) => res.end('ok')));
  expect(await firstLine(`https://127.0.0.1:${port}`)).toMatch(/^FAIL health: GET \/healthz -> no answer \((ERR_SSL_WRONG_VERSION_NUMBER|EPROTO)\)$/);
});

test('no answer in time', async () => {
  // Accepts the connection and never answers.
  const port = await listening(createTcpServer(() => undefined));
  expect(await firstLine(`http://127.0.0.1:${port}`, 300)).toBe('FAIL health: GET /healthz -> no answer (TimeoutError)');
});

test('the server closing the connection', async () => {
  const port = await listening(createTcpServer((socket) => socket.destroy()));
  expect(await firstLine(`http://127.0.0.1:${port}`)).toMatch(/-> no answer \((UND_ERR_SOCKET|ECONNRESET)\)$/);
});

test.each<[string, unknown, string]>([
  [
    'DNS (the cause fetch gives)',
    Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), { code: 'ENOTFOUND' }) }),
    'ENOTFOUND',
  ],
  [
    'a host with several addresses, all refusing',
    Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:80'), { code: 'ECONNREFUSED' })])),
    }),
    'ECONNREFUSED',
  ],
  [
    'an untrusted certificate',
    Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) }),
    'DEPTH_ZERO_SELF_SIGNED_CERT',
  ],
  [
    'a port fetch refuses (no code: the reason in words, not TypeError)',
    Object.assign(new TypeError('fetch failed'), { cause: new Error('bad port') }),
    'bad port',
  ],
])('noAnswerReason: %s', (_, error, reason) => {
  expect(noAnswerReason(error)).toBe(reason);
});
