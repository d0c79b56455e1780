import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { heldCommand, terminatedAt } from '../helpers/hold';
import { hostScriptsDir, recorderScript, runHostScript } from '../helpers/host-scripts';
import { expectOutcome } from '../helpers/outcomes';

/*
 * tls.sh and firewall.sh decide what to change; certbot, nginx, systemctl and ufw would change this
 * machine, so here they are small recorders: the tests assert the decisions and the exact commands.
 */

const root = mkdtempSync('/tmp/hostrt-tls-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A fresh directory with recording stand-ins for certbot, nginx -t, the reload and systemctl. */
function tlsHost(extra: Record<string, string> = {}) {
  const dir = join(root, `tls-${++counter}`);
  mkdirSync(dir);
  const calls = join(dir, 'calls');
  const le = join(dir, 'letsencrypt');
  const live = join(le, 'live/api.example.com');
  const tool = (name: string, body = 'exit 0') => {
    writeFileSync(join(dir, name), recorderScript(calls, body), { mode: 0o755 });
    return join(dir, name);
  };
  const env = {
    NGINX_BROKEN: '',
    APP_NAME: 'hostrt',
    STATE_DIR: join(dir, 'state'),
    DOMAIN: 'api.example.com',
    TLS_ENABLED: 'true',
    CERTBOT_EMAIL: 'ops@example.com',
    WEBROOT: join(dir, 'webroot'),
    LETSENCRYPT_DIR: le,
    APP_UPSTREAM: 'http://127.0.0.1:3000',
    NGINX_SITE_FILE: join(dir, 'nginx/hostrt.conf'),
    SYSTEMD_DIR: join(dir, 'systemd'),
    // certbot "issues" a certificate unless --dry-run or CERTBOT_FAIL; it fails like certbot does.
    CERTBOT_CMD: tool(
      'certbot',
      `[ -z "\${CERTBOT_FAIL:-}" ] || { echo 'Challenge failed for domain api.example.com' >&2; exit 1; }
case " $* " in *" --dry-run "*) ;; *" certonly "*) mkdir -p '${live}'; echo cert > '${live}/fullchain.pem'; echo key > '${live}/privkey.pem' ;; esac`,
    ),
    NGINX_TEST_CMD: tool('nginx-t', '[ -z "$NGINX_BROKEN" ] || { echo "nginx: [emerg] bad config" >&2; exit 1; }'),
    NGINX_RELOAD_CMD: tool('nginx-reload'),
    SYSTEMCTL_CMD: tool('systemctl'),
    ...extra,
  };
  return {
    env,
    dir,
    live,
    auditLog: join(env.STATE_DIR, 'audit.log'),
    site: () => readFileSync(env.NGINX_SITE_FILE, 'utf8'),
    calls: () =>
      existsSync(calls)
        ? readFileSync(calls, 'utf8')
            .trim()
            .split('\n')
            .map((l) => l.trimEnd())
        : [],
    tls: (args: string[], more: Record<string, string> = {}) => runHostScript('tls.sh', args, { ...env, ...more }),
  };
}

describe('tls.sh', () => {
  test('TLS off (dev): HTTP only, no certbot, no renew timer', async () => {
    const host = tlsHost({ TLS_ENABLED: 'false' });
    const result = await host.tls([]);
    expectOutcome('tls', 0, result, host.auditLog);
    expect(host.site()).toContain('listen 80;');
    expect(host.site()).not.toContain('listen 443');
    expect(host.site()).toContain('proxy_pass http://127.0.0.1:3000;');
    expect(host.calls()).toEqual(['nginx-t', 'nginx-reload']);
  });

  test('no certificate, --dry-run: certbot --dry-run with the webroot, nothing written or reloaded', async () => {
    const host = tlsHost();
    const result = await host.tls(['--dry-run']);
    expect(result.code).toBe(0);
    expect(host.calls()).toEqual([
      `certbot certonly --webroot -w ${host.env.WEBROOT} -d api.example.com --non-interactive --agree-tos --keep-until-expiring --email ops@example.com --dry-run`,
    ]);
    expect(result.stdout).toContain('server_name api.example.com;');
    expect(result.stderr).toContain('dry run: would write');
    expect(result.stderr).toContain('dry run: would install');
    expect(existsSync(host.env.NGINX_SITE_FILE)).toBe(false);
    expect(existsSync(host.env.SYSTEMD_DIR)).toBe(false);
    expect(existsSync(join(host.env.STATE_DIR, 'applied'))).toBe(false);
  });

  test('no certificate and certbot fails: nginx keeps serving HTTP and the script fails with the reason', async () => {
    const host = tlsHost();
    const result = await host.tls([], { CERTBOT_FAIL: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Challenge failed for domain api.example.com');
    expect(result.stderr).toContain('certbot could not issue a certificate for api.example.com (see its output above); nginx keeps serving HTTP');
    expect(host.site()).toContain(`location /.well-known/acme-challenge/ {\n        root ${host.env.WEBROOT};`);
    expect(host.site()).not.toContain('listen 443');
    expect(host.calls()).toEqual(['nginx-t', 'nginx-reload', expect.stringMatching(/^certbot certonly --webroot/)]);
  });

  test('no certificate: serve HTTP, issue one, switch to HTTPS and install the renew timer; a rerun changes nothing', async () => {
    const host = tlsHost();
    const first = await host.tls([]);
    expect(first.code).toBe(0);
    expect(host.site()).toContain('listen 443 ssl;');
    expect(host.site()).toContain(`ssl_certificate ${host.live}/fullchain.pem;`);
    expect(host.site()).toContain('return 301 https://$host$request_uri;');
    expect(host.calls()).toEqual([
      'nginx-t',
      'nginx-reload',
      `certbot certonly --webroot -w ${host.env.WEBROOT} -d api.example.com --non-interactive --agree-tos --keep-until-expiring --email ops@example.com`,
      'nginx-t',
      'nginx-reload',
      'systemctl daemon-reload',
      'systemctl enable --now hostrt-certbot-renew.timer',
    ]);
    expect(readFileSync(join(host.env.SYSTEMD_DIR, 'hostrt-certbot-renew.service'), 'utf8')).toContain(`ExecStart=${hostScriptsDir}/tls.sh renew`);
    expect(readFileSync(join(host.env.SYSTEMD_DIR, 'hostrt-certbot-renew.timer'), 'utf8')).toContain('OnCalendar=*-*-* 00,12:00:00');

    const second = await host.tls([]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('nginx already serves api.example.com over HTTPS');
    expect(host.calls().slice(7)).toEqual(['systemctl enable --now hostrt-certbot-renew.timer']);
  });

  test('a replacement host: the certificate kept on the data volume (STATE_DIR) serves HTTPS at once, certbot is not asked; the apply is recorded there', async () => {
    const host = tlsHost({ LETSENCRYPT_DIR: '' });
    const kept = join(host.env.STATE_DIR, 'letsencrypt/live/api.example.com');
    mkdirSync(kept, { recursive: true });
    writeFileSync(join(kept, 'fullchain.pem'), 'cert\n');
    writeFileSync(join(kept, 'privkey.pem'), 'key\n');
    const result = await host.tls([]);
    expectOutcome('tls', 0, result, host.auditLog);
    expect(host.site()).toContain(`ssl_certificate ${kept}/fullchain.pem;`);
    expect(host.calls()).toEqual(['nginx-t', 'nginx-reload', 'systemctl daemon-reload', 'systemctl enable --now hostrt-certbot-renew.timer']);
    expect(existsSync(join(host.env.STATE_DIR, 'applied/tls'))).toBe(true);
  });

  test('a certificate issued into /etc/letsencrypt before is moved to the data volume once, never issued again', async () => {
    const old = join(root, `old-letsencrypt-${counter + 1}`);
    const host = tlsHost({ LETSENCRYPT_DIR: '', OLD_LETSENCRYPT_DIR: old });
    mkdirSync(join(old, 'archive/api.example.com'), { recursive: true });
    mkdirSync(join(old, 'live/api.example.com'), { recursive: true });
    writeFileSync(join(old, 'archive/api.example.com/fullchain1.pem'), 'cert\n');
    writeFileSync(join(old, 'archive/api.example.com/privkey1.pem'), 'key\n');
    // certbot's layout: live/ holds relative links into archive/.
    symlinkSync('../../archive/api.example.com/fullchain1.pem', join(old, 'live/api.example.com/fullchain.pem'));
    symlinkSync('../../archive/api.example.com/privkey1.pem', join(old, 'live/api.example.com/privkey.pem'));
    const result = await host.tls([]);
    expectOutcome('tls', 0, result, host.auditLog);
    const kept = join(host.env.STATE_DIR, 'letsencrypt');
    expect(result.stderr).toContain(`moved the certificate of api.example.com from ${old} to ${kept}`);
    expect(readFileSync(join(kept, 'live/api.example.com/fullchain.pem'), 'utf8')).toBe('cert\n');
    expect(readlinkSync(join(kept, 'live/api.example.com/privkey.pem'))).toBe('../../archive/api.example.com/privkey1.pem');
    expect(host.site()).toContain(`ssl_certificate ${kept}/live/api.example.com/fullchain.pem;`);
    expect(host.calls().filter((c) => c.startsWith('certbot'))).toEqual([]);
  });

  test('a configuration nginx rejects is rolled back to the previous file', async () => {
    const host = tlsHost({ TLS_ENABLED: 'false' });
    await host.tls([]);
    const http = host.site();
    const result = await host.tls([], { TLS_ENABLED: 'true', NGINX_BROKEN: '1' });
    expectOutcome('tls', 1, result, host.auditLog);
    expect(result.stderr).toContain('nginx rejected the generated HTTPS configuration');
    expect(host.site()).toBe(http);
    expect(readdirSync(join(host.env.NGINX_SITE_FILE, '..'))).toEqual(['hostrt.conf']);
  });

  test('renew reloads nginx only when the certificate changed', async () => {
    const host = tlsHost();
    await host.tls([]);
    const before = host.calls().length;
    const unchanged = await host.tls(['renew']);
    expect(unchanged.code).toBe(0);
    expect(host.calls().slice(before)).toEqual([`certbot renew --webroot -w ${host.env.WEBROOT} --non-interactive`]);

    const renewing = host.env.CERTBOT_CMD.replace(/certbot$/, 'certbot-renewing');
    writeFileSync(renewing, recorderScript(join(host.env.CERTBOT_CMD, '../calls'), `echo renewed-cert-longer > '${host.live}/fullchain.pem'`), { mode: 0o755 });
    const changed = await host.tls(['renew'], { CERTBOT_CMD: renewing });
    expect(changed.code).toBe(0);
    expect(host.calls().slice(before + 1)).toEqual([`certbot-renewing renew --webroot -w ${host.env.WEBROOT} --non-interactive`, 'nginx-t', 'nginx-reload']);
  });
});

/** A stand-in ufw whose state (status text, added rules) lives in files the test writes. */
function ufwHost(status: string, added: string[], extra: Record<string, string> = {}) {
  const dir = join(root, `ufw-${++counter}`);
  mkdirSync(dir);
  const calls = join(dir, 'calls');
  writeFileSync(join(dir, 'status'), status);
  writeFileSync(join(dir, 'added'), ["Added user rules (see 'ufw status' for running firewall):", ...(added.length ? added : ['(None)'])].join('\n'));
  const ufw = join(dir, 'ufw');
  writeFileSync(
    ufw,
    recorderScript(calls, `case "$*" in "status verbose") cat '${dir}/status' ;; "show added") cat '${dir}/added' ;; version) echo 'ufw 0.36.2' ;; esac`),
    { mode: 0o755 },
  );
  const env = { APP_NAME: 'hostrt', STATE_DIR: join(dir, 'state'), UFW_CMD: ufw, FIREWALL_CHECK_URL: '', ...extra };
  return {
    env,
    dir,
    ufw,
    auditLog: join(env.STATE_DIR, 'audit.log'),
    run: (args: string[]) => runHostScript('firewall.sh', args, env),
    /** The ufw invocations that change something (reads filtered out). */
    changes: () =>
      readFileSync(calls, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => !['ufw status verbose', 'ufw show added', 'ufw version'].includes(l)),
  };
}

const inactive = 'Status: inactive\n';
const applied = 'Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), deny (routed)\nNew profiles: skip\n';

describe('firewall.sh', () => {
  test('apply on a fresh host: outbound allowed before anything is enabled, inbound 80 and 443 only', async () => {
    const host = ufwHost(inactive, []);
    const result = await host.run(['apply']);
    expectOutcome('firewall', 0, result, host.auditLog);
    // Recorded on the data volume, so a replacement host applies it again (host-boot.sh step 5).
    expect(existsSync(join(host.env.STATE_DIR, 'applied/firewall'))).toBe(true);
    expect(host.changes()).toEqual([
      'ufw default allow outgoing',
      'ufw default deny incoming',
      'ufw default deny routed',
      'ufw allow 80/tcp',
      'ufw allow 443/tcp',
      'ufw --force enable',
    ]);
  });

  test('apply where the rules are already in place changes nothing', async () => {
    const host = ufwHost(applied, ['ufw allow 80/tcp', 'ufw allow 443/tcp']);
    const result = await host.run(['apply']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('firewall already applied: inbound 80/tcp 443/tcp only, outbound allowed');
    expect(host.changes()).toEqual([]);
  });

  test('apply deletes any other inbound rule (SSH included)', async () => {
    const host = ufwHost(applied, ['ufw allow 22/tcp', 'ufw allow 80/tcp', 'ufw allow 443/tcp', 'ufw allow from 10.0.0.0/8']);
    expect((await host.run(['apply'])).code).toBe(0);
    expect(host.changes()).toEqual(['ufw --force delete allow 22/tcp', 'ufw --force delete allow from 10.0.0.0/8']);
  });

  test('apply --dry-run prints the commands and runs none', async () => {
    const host = ufwHost(inactive, ['ufw allow 22/tcp']);
    const result = await host.run(['apply', '--dry-run']);
    expect(result.code).toBe(0);
    expect(existsSync(join(host.env.STATE_DIR, 'applied'))).toBe(false);
    expect(result.stdout.trim().split('\n')).toEqual([
      'ufw default allow outgoing',
      'ufw default deny incoming',
      'ufw default deny routed',
      'ufw allow 80/tcp',
      'ufw allow 443/tcp',
      'ufw --force delete allow 22/tcp',
      'ufw --force enable',
    ]);
    expect(host.changes()).toEqual([]);
  });

  test('when the SSM endpoint stops answering after apply, ufw is disabled again and the script fails', async () => {
    const host = ufwHost(inactive, [], { FIREWALL_CHECK_URL: 'http://127.0.0.1:9/' });
    const result = await host.run(['apply']);
    expectOutcome('firewall', 1, result, host.auditLog);
    expect(result.stderr).toContain('after applying the rules http://127.0.0.1:9/ no longer answers (the SSM agent needs it); ufw has been disabled again');
    expect(existsSync(join(host.env.STATE_DIR, 'applied/firewall'))).toBe(false);
    expect(host.changes().at(-1)).toBe('ufw --force disable');
  });

  test('status prints the rules', async () => {
    const host = ufwHost(applied, ['ufw allow 80/tcp', 'ufw allow 443/tcp']);
    const result = await host.run(['status']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Default: deny (incoming), allow (outgoing), deny (routed)');
    expect(result.stdout).toContain('ufw allow 443/tcp');
    expect(host.changes()).toEqual([]);
  });
});

describe('every way tls.sh and firewall.sh end is documented (lib/host-runtime/outcomes.ts)', () => {
  test('bad usage (exit 2), nothing audited', async () => {
    const tls = tlsHost();
    expectOutcome('tls', 2, await tls.tls(['issue']), tls.auditLog);
    const firewall = ufwHost(inactive, []);
    expectOutcome('firewall', 2, await firewall.run(['open']), firewall.auditLog);
  });

  test('SIGTERM to tls apply while nginx checks the site: exit 143, audited as interrupted', async () => {
    const host = tlsHost({ TLS_ENABLED: 'false' });
    const held = heldCommand(join(host.dir, 'held'), 'nginx-t', host.env.NGINX_TEST_CMD);
    const result = await terminatedAt(held, 'tls.sh', ['apply'], { ...host.env, NGINX_TEST_CMD: 'nginx-t' });
    expectOutcome('tls', 143, result, host.auditLog);
  });

  test('SIGTERM to firewall apply while it reads ufw: exit 143, audited as interrupted, no rule changed', async () => {
    const host = ufwHost(inactive, []);
    const held = heldCommand(join(host.dir, 'held'), 'ufw', host.ufw, "'status verbose'");
    const result = await terminatedAt(held, 'firewall.sh', ['apply'], { ...host.env, UFW_CMD: 'ufw' });
    expectOutcome('firewall', 143, result, host.auditLog);
    expect(host.changes()).toEqual([]);
  });
});
