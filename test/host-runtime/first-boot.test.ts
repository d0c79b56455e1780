import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bootstrapCommands,
  cloudWatchAgentConfig,
  DRILL_POSTGRES_PACKAGE,
  nginxStartSettings,
  shellQuote,
  stateDir,
  swapCommands,
} from '../../lib/host-runtime/first-boot';
import { NGINX_DROP_IN_PATH, nginxDropIn, nginxUpstreamFile, nginxUpstreamName } from '../../lib/host-runtime/nginx';
import { shippedScript } from '../../lib/host-runtime/scripts';
import { projectRoot } from '../helpers/paths';

describe('host bootstrap builders', () => {
  test('shellQuote survives single quotes', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('origin/master')).toBe(`'origin/master'`);
  });

  test('the agent runs as root (Docker logs are root-only), drops host name and device so alarms can name the disk metric', () => {
    const config = cloudWatchAgentConfig({ containerLogGroupName: '/a/b/containers', systemLogGroupName: '/a/b/system' });
    expect(config.agent).toEqual({ run_as_user: 'root', omit_hostname: true, metrics_collection_interval: 300 });
    expect(config.metrics).toEqual({
      namespace: 'CWAgent',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the agent's own placeholder
      append_dimensions: { InstanceId: '${aws:InstanceId}' },
      metrics_collected: { disk: { measurement: ['used_percent'], resources: ['/'], drop_device: true } },
    });
  });

  test('the checkout quotes the repository and ref, and is idempotent', () => {
    const lines = bootstrapCommands({
      appName: 'shop',
      repository: 'git@github.com:acme/shop.git',
      gitRef: 'v1.2.3',
      agent: { containerLogGroupName: 'c', systemLogGroupName: 's' },
    });
    expect(lines.slice(-3)).toEqual([
      "if [ ! -d /opt/shop/.git ]; then git clone 'git@github.com:acme/shop.git' /opt/shop; fi",
      'git -C /opt/shop fetch --tags origin',
      "git -C /opt/shop checkout --detach 'v1.2.3'",
    ]);
    expect(lines[0]).toBe('set -euo pipefail');
    expect(lines.join('\n')).not.toMatch(/\.env/);
    expect(lines.join('\n')).not.toContain('swap');
  });

  test('nginx (for tls.sh) and nftables (for firewall.sh) are installed with the rest; nginx runs now and at boot, nftables waits for its rules', () => {
    const lines = bootstrapCommands({
      appName: 'shop',
      repository: 'https://example.com/shop.git',
      gitRef: 'origin/main',
      agent: { containerLogGroupName: 'c', systemLogGroupName: 's' },
    });
    expect(lines.slice(0, 3)).toEqual([
      'set -euo pipefail',
      'dnf install -y docker git rsyslog amazon-cloudwatch-agent nginx nftables',
      'systemctl enable --now rsyslog',
    ]);
    // nginx's pre-start step is in place before nginx first starts.
    expect(lines.indexOf('systemctl enable --now nginx')).toBeGreaterThan(lines.indexOf(`cat > ${NGINX_DROP_IN_PATH} <<'NGINX_DROP_IN_END'`));
    // Starting nftables.service would load an empty configuration, and restarting it flushes every table (Docker's too).
    expect(lines.filter((l) => /nftables|nginx/.test(l) && l.startsWith('systemctl'))).toEqual(['systemctl enable --now nginx']);
    // tls.sh writes the site; switch.sh and the pre-start step the upstream include: nothing here writes nginx configuration.
    expect(lines.filter((l) => /^(cat|printf|echo|install|tee).*\/etc\/nginx/.test(l))).toEqual([]);
  });

  test("nginx's pre-start step: nginx-upstream.sh installed as reviewed (comment lines dropped), run by a drop-in with the host's state file, include and upstream name, after the state directory is mounted", () => {
    const lines = bootstrapCommands({
      appName: 'shop-api',
      repository: 'https://example.com/shop.git',
      gitRef: 'origin/main',
      agent: { containerLogGroupName: 'c', systemLogGroupName: 's' },
    });
    const script = lines.slice(
      lines.indexOf("cat > /usr/local/sbin/shop-api-nginx-upstream.sh <<'NGINX_UPSTREAM_SCRIPT_END'") + 1,
      lines.indexOf('NGINX_UPSTREAM_SCRIPT_END'),
    );
    expect(`${script.join('\n')}\n`).toBe(shippedScript('nginx-upstream.sh'));
    expect(lines).toContain('chmod 0755 /usr/local/sbin/shop-api-nginx-upstream.sh');
    const dropIn = lines.slice(lines.indexOf(`cat > ${NGINX_DROP_IN_PATH} <<'NGINX_DROP_IN_END'`) + 1, lines.indexOf('NGINX_DROP_IN_END'));
    expect(dropIn).toEqual([
      '# Written by the first boot (lib/host-runtime/nginx.ts): nginx starts on the upstream the state file records.',
      '[Unit]',
      'RequiresMountsFor=/var/lib/shop-api',
      '',
      '[Service]',
      'Environment=APP_NAME=shop-api',
      'Environment=STATE_FILE=/var/lib/shop-api/deploy_state.json',
      'Environment=NGINX_UPSTREAM_FILE=/etc/nginx/conf.d/shop-api-upstream.conf',
      'Environment=NGINX_UPSTREAM_NAME=shop_api_app',
      'ExecStartPre=/usr/local/sbin/shop-api-nginx-upstream.sh',
      'Restart=on-failure',
      'RestartSec=2s',
    ]);
    expect(lines[lines.indexOf('NGINX_DROP_IN_END') + 1]).toBe('systemctl daemon-reload');
  });

  test("the drop-in's settings are the ones the SSM documents give switch.sh (one include, one upstream name, lib.sh's state file)", () => {
    const settings = nginxStartSettings('shop-api');
    expect(settings.upstreamName).toBe(nginxUpstreamName('shop-api'));
    expect(settings.upstreamFile).toBe(nginxUpstreamFile('shop-api'));
    expect(settings.stateFile).toBe(`${stateDir('shop-api')}/deploy_state.json`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell default in lib.sh
    expect(readFileSync(join(projectRoot, 'scripts/host/lib.sh'), 'utf8')).toContain('STATE_FILE=${STATE_FILE:-$STATE_DIR/deploy_state.json}');
    expect(() => nginxDropIn({ ...settings, stateFile: '/var/lib/x y' })).toThrow('nginxDropIn: STATE_FILE ("/var/lib/x y") must be letters, digits and _./-');
  });

  test('the restore drill finds PostgreSQL server binaries: the package is installed, its service stays off', () => {
    const lines = bootstrapCommands({
      appName: 'shop',
      repository: 'https://example.com/shop.git',
      gitRef: 'origin/main',
      agent: { containerLogGroupName: 'c', systemLogGroupName: 's' },
    });
    expect(DRILL_POSTGRES_PACKAGE).toMatch(/^postgresql\d+-server$/);
    expect(lines).toContain(`dnf install -y ${DRILL_POSTGRES_PACKAGE}`);
    // The drill starts a throwaway cluster of its own; a running server would only be a target to misuse.
    expect(lines.filter((l) => /postgres/.test(l) && l.startsWith('systemctl'))).toEqual([]);
    // Amazon Linux 2023's postgresqlNN-server puts initdb and pg_ctl in /usr/bin: the drill looks there.
    const drill = readFileSync(join(projectRoot, 'scripts/host/restore-drill.sh'), 'utf8');
    expect(drill).toMatch(/pg_config --bindir 2>\/dev\/null \|\| true; echo \/usr\/bin\)/);
  });

  test('a swap file of the configured size, created once, enabled now and at boot', () => {
    expect(swapCommands(1)).toEqual([
      '# 1 GiB swap file',
      'if [ ! -f /swapfile ]; then dd if=/dev/zero of=/swapfile bs=1M count=1024 status=none; chmod 0600 /swapfile; mkswap /swapfile; fi',
      'swapon --show=NAME --noheadings | grep -qx /swapfile || swapon /swapfile',
      "grep -q '^/swapfile ' /etc/fstab || echo '/swapfile none swap defaults 0 0' >> /etc/fstab",
    ]);
    expect(swapCommands(0)).toEqual([]);
  });
});
