import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIRST_BOOT_DIR, firstBootPlaceholder, packedFirstBoot } from '../../lib/host-runtime/first-boot';
import {
  type HostLifecycleOptions,
  lifecycleArchive,
  lifecycleInstallCommands,
  lifecycleScripts,
  lifecycleSettings,
  lifecycleStartCommands,
} from '../../lib/host-runtime/lifecycle';
import { shippedScript } from '../../lib/host-runtime/scripts';

const options: HostLifecycleOptions = {
  appName: 'shop',
  composeFile: 'compose.prod.yml',
  sharedServices: ['postgres', 'redis'],
  dataVolume: { volumeId: 'vol-0123456789abcdef0', mountPoint: '/var/lib/shop', label: 'app-data', region: 'eu-west-1', script: '' },
  address: { kind: 'elastic-ip', allocationId: 'eipalloc-0123456789abcdef0' },
  groupName: 'shop-prod-host',
  hookName: 'clean-stop',
};

describe('host lifecycle builders', () => {
  test('the archive (plain: the first boot is packed as a whole) unpacks, with bash, to exactly the scripts the programs need, each byte for byte as shipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifecycle-'));
    try {
      execFileSync('bash', ['-c', lifecycleArchive(dir)]);
      expect(lifecycleScripts().sort()).toEqual([
        'data-volume.sh',
        'host-boot.sh',
        'host-stop.sh',
        'interruption-watch.sh',
        'lifecycle-lib.sh',
        'recorded_commit.py',
      ]);
      for (const name of lifecycleScripts()) expect(readFileSync(join(dir, name), 'utf8')).toBe(shippedScript(name).replace(/\n?$/, '\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('settings: the volume, the address, the group and hook, and the commands as words (flushes through the shared services)', () => {
    expect(lifecycleSettings(options)).toEqual({
      AWS_DEFAULT_REGION: 'eu-west-1',
      DATA_VOLUME_ID: 'vol-0123456789abcdef0',
      DATA_MOUNT_POINT: '/var/lib/shop',
      DATA_VOLUME_LABEL: 'app-data',
      ADDRESS_MODE: 'elastic-ip',
      EIP_ALLOCATION_ID: 'eipalloc-0123456789abcdef0',
      APP_START_CMD: 'systemctl start docker nginx',
      APP_STOP_CMD: 'systemctl stop nginx',
      PG_FLUSH_CMD: 'docker compose --project-directory /opt/shop -p shop -f compose.prod.yml exec -T postgres psql -U postgres -c CHECKPOINT',
      REDIS_FLUSH_CMD: 'docker compose --project-directory /opt/shop -p shop -f compose.prod.yml exec -T redis redis-cli SAVE',
      SERVICES_STOP_CMD: 'systemctl stop docker.socket docker',
      BACKUP_CMD: 'systemctl start shop-backup.service',
      ASG_NAME: 'shop-prod-host',
      LIFECYCLE_HOOK_NAME: 'clean-stop',
      DETACH_TIMEOUT: '90',
      LIFECYCLE_RUN_DIR: '/run/shop-lifecycle',
    });
    const dns = lifecycleSettings({
      ...options,
      sharedServices: [],
      address: { kind: 'dns', hostedZoneId: 'Z1', recordName: 'Dev.Example.com.', ttlSeconds: 60 },
    });
    expect(dns).toMatchObject({
      ADDRESS_MODE: 'dns',
      HOSTED_ZONE_ID: 'Z1',
      RECORD_NAME: 'dev.example.com',
      RECORD_TTL: '60',
      PG_FLUSH_CMD: '',
      REDIS_FLUSH_CMD: '',
    });
    expect(dns.EIP_ALLOCATION_ID).toBeUndefined();
    // A replacement deploys the recorded release through the deploy document, output in the command group.
    expect(lifecycleSettings({ ...options, deployDocumentName: 'shop-prod-deploy', commandLogGroupName: '/shop/prod/commands' })).toMatchObject({
      DEPLOY_DOCUMENT: 'shop-prod-deploy',
      COMMAND_LOG_GROUP: '/shop/prod/commands',
    });
    // ... and applies again what the data volume records as applied, through those documents.
    expect(
      lifecycleSettings({
        ...options,
        reapplyDocumentNames: { tls: 'shop-prod-tls', firewall: 'shop-prod-firewall', backup: 'shop-prod-backup' },
        commandLogGroupName: '/shop/prod/commands',
      }),
    ).toMatchObject({
      TLS_DOCUMENT: 'shop-prod-tls',
      FIREWALL_DOCUMENT: 'shop-prod-firewall',
      BACKUP_DOCUMENT: 'shop-prod-backup',
      COMMAND_LOG_GROUP: '/shop/prod/commands',
    });
    expect(Object.keys(lifecycleSettings(options)).filter((k) => k.endsWith('_DOCUMENT'))).toEqual([]);
  });

  test("the Spot warning's final backup starts the unit backup.sh install-timer writes (<app>-backup.service, running backup.sh run)", () => {
    const backup = shippedScript('backup.sh');
    expect(backup).toContain('local unit="$APP_NAME-backup"');
    expect(backup).toContain('ExecStart=$HOST_SCRIPT_DIR/backup.sh run');
    expect(backup).toContain('Type=oneshot'); // systemctl start waits until the backup has finished
    expect(lifecycleSettings(options).BACKUP_CMD).toBe('systemctl start shop-backup.service');
  });

  test('install mounts the volume before Docker (--volume-only); start enables the watch, then runs the whole boot', () => {
    const install = lifecycleInstallCommands(options);
    expect(install.at(-1)).toBe('LIFECYCLE_ENV_FILE=/etc/default/shop-lifecycle bash /usr/local/lib/shop-lifecycle/host-boot.sh --volume-only');
    expect(install).toContain('ExecStart=/bin/bash /usr/local/lib/shop-lifecycle/interruption-watch.sh');
    expect(install).toContain('Restart=always');
    expect(lifecycleStartCommands(options)).toEqual([
      'systemctl enable --now shop-interruption-watch.service',
      'LIFECYCLE_ENV_FILE=/etc/default/shop-lifecycle bash /usr/local/lib/shop-lifecycle/host-boot.sh',
    ]);
  });

  test('the packed first boot decodes, puts each value in place of its placeholder and runs the script (exit code passed on)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'first-boot-'));
    try {
      const script = `#!/bin/bash\nset -euo pipefail\necho "volume ${firstBootPlaceholder(0)} address ${firstBootPlaceholder(1)} again ${firstBootPlaceholder(0)}" > ${dir}/out\nexit 7\n`;
      const lines = packedFirstBoot(script, ['vol-0123456789abcdef0', 'eipalloc-0123456789abcdef0']).map((l) => l.split(FIRST_BOOT_DIR).join(dir));
      expect(lines.join('\n')).not.toContain('echo "volume'); // compressed, not plain
      const run = spawnSync('bash', ['-c', lines.join('\n')], { encoding: 'utf8' });
      expect(run.status).toBe(7);
      expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('volume vol-0123456789abcdef0 address eipalloc-0123456789abcdef0 again vol-0123456789abcdef0\n');
      expect(readFileSync(join(dir, 'first-boot.sh'), 'utf8')).not.toContain('@@FIRST_BOOT_VALUE_');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a setting that would break the settings file is refused', () => {
    expect(() => lifecycleInstallCommands({ ...options, groupName: 'a\nb' })).toThrow(
      'lifecycleInstallCommands: the setting ASG_NAME cannot be written as one line',
    );
  });
});
