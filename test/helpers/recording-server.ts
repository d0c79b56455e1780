import { createServer } from 'node:http';

/**
 * A local HTTP server that records every request it receives (`METHOD /path`, in order) and
 * answers from `answer`: for tests that must prove a request was, or was never, sent.
 */
export function startRecordingServer(
  answer: (path: string, method: string) => { readonly status: number; readonly body: unknown },
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      const { status, body } = answer(req.url ?? '/', req.method ?? 'GET');
      res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}
