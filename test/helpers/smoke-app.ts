import { createServer, type Server } from 'node:http';

/**
 * A small API for smoke tests and the deploy benchmark's checks: `/healthz`, `/graphql` (an empty
 * query is a VALIDATION_ERROR), `/auth/login` (JSON email + password → access_token) and `/auth/me`
 * (needs the bearer token). `broken: true` makes GraphQL crash with a 500 INTERNAL_ERROR.
 */
export interface SmokeAppOptions {
  readonly email: string;
  readonly password: string;
  readonly token: string;
  readonly broken?: boolean;
}

/** The app's server, its base URL, and every request it received (method and path), in order. */
export function startSmokeApp(options: SmokeAppOptions): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      let body: Record<string, unknown> = {};
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        return json(400, { error: { code: 'BAD_JSON' } });
      }
      if (req.url === '/healthz') return json(200, { status: 'ok' });
      if (req.url === '/graphql' && req.method === 'POST') {
        if (options.broken) return json(500, { errors: [{ message: 'boom', extensions: { code: 'INTERNAL_ERROR' } }] });
        if (!body.query) return json(400, { errors: [{ message: 'empty query', extensions: { code: 'VALIDATION_ERROR' } }] });
        return json(200, { data: {} });
      }
      if (req.url === '/auth/login' && req.method === 'POST') {
        if (body.email === options.email && body.password === options.password) return json(200, { access_token: options.token });
        return json(401, { error: { code: 'INVALID_CREDENTIALS' } });
      }
      if (req.url === '/auth/me') {
        if (req.headers.authorization === `Bearer ${options.token}`) return json(200, { email: options.email });
        return json(401, { error: { code: 'UNAUTHENTICATED' } });
      }
      return json(404, { error: { code: 'NOT_FOUND' } });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}`, requests });
    });
  });
}
