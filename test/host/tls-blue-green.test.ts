import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recorderScript, runHostScript } from '../helpers/host-scripts';

/*
 * tls.sh with blue/green: the site proxies to the colours' upstream, whose include file switch.sh
 * owns. Debian's real `nginx -t` checks what tls.sh wrote (a main nginx.conf under a prefix that
 * includes the conf.d directory, as the host's does); only the reload is a recorder, since no
 * nginx runs here. TLS is off (HTTP site) so no certificate is needed for the check.
 */

const root = mkdtempSync('/tmp/hostrt-tls-bg-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function blueGreenTlsHost(extra: Record<string, string> = {}) {
  const dir = join(root, `host-${++counter}`);
  const confd = join(dir, 'conf.d');
  for (const d of [confd, join(dir, 'logs'), join(dir, 'tmp'), join(dir, 'state')]) mkdirSync(d, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      `pid ${join(dir, 'logs/nginx.pid')};`,
      'events { worker_connections 16; }',
      'http {',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${join(dir, 'tmp', t)};`),
      `    include ${confd}/*.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  const nginxTest = ['nginx', '-q', '-t', '-p', dir, '-c', conf, '-e', join(dir, 'logs/error.log')];
  const calls = join(dir, 'calls');
  writeFileSync(join(dir, 'nginx-reload'), recorderScript(calls), { mode: 0o755 });
  const env = {
    APP_NAME: 'hostrt',
    STATE_DIR: join(dir, 'state'),
    DOMAIN: 'api.example.com',
    TLS_ENABLED: 'false',
    WEBROOT: join(dir, 'webroot'),
    SYSTEMD_DIR: join(dir, 'systemd'),
    SYSTEMCTL_CMD: 'true',
    NGINX_SITE_FILE: join(confd, 'hostrt.conf'),
    NGINX_UPSTREAM_FILE: join(confd, 'hostrt-upstream.conf'),
    NGINX_TEST_CMD: nginxTest.join(' '),
    NGINX_RELOAD_CMD: join(dir, 'nginx-reload'),
    // What the SSM documents write for blue/green (lib/host-runtime/documents.ts).
    BLUE_GREEN: 'true',
    BLUE_PORT: '3001',
    GREEN_PORT: '3002',
    NGINX_UPSTREAM_NAME: 'hostrt_app',
    APP_UPSTREAM: 'http://hostrt_app',
    HEALTH_URL: 'http://127.0.0.1:3000/healthz',
    ...extra,
  };
  return {
    env,
    upstreamFile: env.NGINX_UPSTREAM_FILE,
    site: () => readFileSync(env.NGINX_SITE_FILE, 'utf8'),
    upstream: () => readFileSync(env.NGINX_UPSTREAM_FILE, 'utf8'),
    reloads: () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').length : 0),
    /** Debian's nginx -t on what is in conf.d now: its exit code and message. */
    nginxTest: () => {
      try {
        execFileSync(nginxTest[0], nginxTest.slice(1), { stdio: 'pipe' });
        return { ok: true, output: '' };
      } catch (error) {
        return { ok: false, output: String((error as { stderr?: Buffer }).stderr ?? '') };
      }
    },
    tls: (args: string[] = [], more: Record<string, string> = {}) => runHostScript('tls.sh', args, { ...env, ...more }),
  };
}

test('positive control: a site proxying to the upstream name without its include file is refused by nginx -t, and tls.sh puts nothing in place', async () => {
  const host = blueGreenTlsHost({ BLUE_GREEN: 'false' });
  const result = await host.tls();
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("nginx rejected the generated HTTP configuration ('nginx -q -t");
  expect(result.stderr).toContain('host not found in upstream "hostrt_app"');
  expect(existsSync(host.env.NGINX_SITE_FILE)).toBe(false);
  expect(host.reloads()).toBe(0);
});

test('a host where no blue/green change ran yet: the upstream include is written on the in-place release, nginx -t passes, nginx reloads', async () => {
  const host = blueGreenTlsHost();
  const result = await host.tls();
  expect(result.stderr).not.toContain('error');
  expect(result.code).toBe(0);
  expect(host.site()).toContain('proxy_pass http://hostrt_app;');
  expect(host.upstream()).toContain('upstream hostrt_app {\n    server 127.0.0.1:3000;\n}');
  expect(result.stderr).toContain('upstream hostrt_app on the in-place release');
  expect(host.nginxTest()).toEqual({ ok: true, output: '' });
  expect(host.reloads()).toBe(1);
  // The same check without the include file fails: the file is what makes the site valid.
  rmSync(host.upstreamFile);
  expect(host.nginxTest()).toEqual({ ok: false, output: expect.stringContaining('host not found in upstream "hostrt_app"') });
});

test('the state file names the serving colour: the upstream points at its port', async () => {
  const host = blueGreenTlsHost();
  writeFileSync(join(host.env.STATE_DIR, 'deploy_state.json'), JSON.stringify({ servingColour: 'green', current: { ref: 'v1' } }));
  const result = await host.tls();
  expect(result.code).toBe(0);
  expect(host.upstream()).toContain('upstream hostrt_app {\n    server 127.0.0.1:3002;\n}');
  expect(host.nginxTest().ok).toBe(true);
});

test('an existing upstream file is never rewritten (switch.sh owns it), even when the site changes', async () => {
  const host = blueGreenTlsHost();
  const own = '# switch.sh wrote this\nupstream hostrt_app {\n    server 127.0.0.1:3001;\n}\n';
  writeFileSync(host.upstreamFile, own);
  writeFileSync(join(host.env.STATE_DIR, 'deploy_state.json'), JSON.stringify({ servingColour: 'green' }));
  const result = await host.tls();
  expect(result.code).toBe(0);
  expect(host.upstream()).toBe(own);
  expect(host.site()).toContain('proxy_pass http://hostrt_app;');
  expect(host.reloads()).toBe(1);
});

test('--dry-run says it would write the upstream file and writes nothing', async () => {
  const host = blueGreenTlsHost();
  const result = await host.tls(['apply', '--dry-run']);
  expect(result.code).toBe(0);
  expect(result.stderr).toContain(`dry run: would write ${host.upstreamFile} (upstream hostrt_app on the in-place release)`);
  expect(existsSync(host.upstreamFile)).toBe(false);
  expect(existsSync(host.env.NGINX_SITE_FILE)).toBe(false);
  expect(host.reloads()).toBe(0);
});

test('without blue/green no upstream file is written (the site proxies to the app port)', async () => {
  const host = blueGreenTlsHost({ BLUE_GREEN: 'false', APP_UPSTREAM: 'http://127.0.0.1:3000' });
  const result = await host.tls();
  expect(result.code).toBe(0);
  expect(host.site()).toContain('proxy_pass http://127.0.0.1:3000;');
  expect(existsSync(host.upstreamFile)).toBe(false);
  expect(host.nginxTest().ok).toBe(true);
});
