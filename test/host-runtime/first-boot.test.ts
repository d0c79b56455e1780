import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapCommands, cloudWatchAgentConfig, DRILL_POSTGRES_PACKAGE, shellQuote, swapCommands } from '../../lib/host-runtime/first-boot';
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
    expect(lines.slice(0, 4)).toEqual([
      'set -euo pipefail',
      'dnf install -y docker git rsyslog amazon-cloudwatch-agent nginx nftables',
      'systemctl enable --now rsyslog',
      'systemctl enable --now nginx',
    ]);
    // Starting nftables.service would load an empty configuration, and restarting it flushes every table (Docker's too).
    expect(lines.filter((l) => /nftables|nginx/.test(l) && l.startsWith('systemctl'))).toEqual(['systemctl enable --now nginx']);
    // tls.sh writes the site; nothing here writes nginx configuration.
    expect(lines.join('\n')).not.toContain('/etc/nginx');
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
