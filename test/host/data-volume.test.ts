import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { runHostScript } from '../helpers/host-scripts';

/*
 * data-volume.sh for real, against a loop device backed by a file: formats an empty volume, never
 * one that holds a file system, mounts by UUID through the fstab it writes, binds Docker's volumes
 * directory onto it, and orders docker.service after both mounts. Needs root and loop devices;
 * where the sandbox has none, the tests are reported as skipped with the reason (never passed).
 */

/** Why loop devices cannot be used here, or undefined when they can. */
function loopUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (losetup, mkfs.ext4, mount)';
  const probe = spawnSync('losetup', ['-f'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `no free loop device: ${probe.stderr.trim()}`;
}
const unavailable = loopUnavailable();
const loopTest = unavailable ? test.skip : test;
if (unavailable) console.warn(`data-volume.sh tests skipped: ${unavailable}`);

const root = mkdtempSync('/tmp/hostrt-volume-');
const devices: string[] = [];
const paths = {
  mount: join(root, 'state'),
  dockerVolumes: join(root, 'docker/volumes'),
  fstab: join(root, 'fstab'),
  systemd: join(root, 'systemd'),
  calls: join(root, 'systemctl.calls'),
};

function loopDevice(name: string): string {
  const file = join(root, name);
  execFileSync('truncate', ['-s', '32M', file]);
  const device = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim();
  devices.push(device);
  return device;
}

const settings = (device: string) => {
  const systemctl = join(root, 'systemctl');
  writeFileSync(systemctl, `#!/bin/sh\necho "systemctl $*" >> '${paths.calls}'\n`, { mode: 0o755 });
  return {
    DATA_VOLUME_DEVICE: device,
    DATA_MOUNT_POINT: paths.mount,
    DATA_VOLUME_LABEL: 'app-data',
    DOCKER_VOLUMES_DIR: paths.dockerVolumes,
    FSTAB_FILE: paths.fstab,
    SYSTEMD_DIR: paths.systemd,
    SYSTEMCTL_CMD: systemctl,
  };
};

const blkid = (device: string, tag: string) => execFileSync('blkid', ['-p', '-o', 'value', '-s', tag, device], { encoding: 'utf8' }).trim();
const unmountAll = () => {
  for (const target of [paths.dockerVolumes, paths.mount]) spawnSync('umount', [target]);
};

afterEach(unmountAll);
afterAll(() => {
  unmountAll();
  for (const device of devices) spawnSync('losetup', ['-d', device]);
  rmSync(root, { recursive: true, force: true });
});

loopTest('an empty volume is formatted once; a re-run finds the file system and keeps the files on it', async () => {
  const device = loopDevice('empty.img');
  writeFileSync(paths.fstab, '# root\nUUID=root / xfs defaults 0 1\n');
  const first = await runHostScript('data-volume.sh', [], settings(device));
  expect(first.stderr).toContain(`${device} is empty: creating an ext4 file system labelled app-data`);
  expect(first.code).toBe(0);
  const uuid = blkid(device, 'UUID');
  expect(blkid(device, 'LABEL')).toBe('app-data');
  // fstab: the old lines kept, the volume by UUID and the bind, both nofail.
  expect(readFileSync(paths.fstab, 'utf8')).toBe(
    '# root\nUUID=root / xfs defaults 0 1\n' +
      `UUID=${uuid} ${paths.mount} ext4 defaults,nofail,x-systemd.device-timeout=90 0 2 # data-volume.sh\n` +
      `${paths.mount}/docker-volumes ${paths.dockerVolumes} none bind,nofail,x-systemd.requires-mounts-for=${paths.mount} 0 0 # data-volume.sh\n`,
  );
  expect(readFileSync(join(paths.systemd, 'docker.service.d/data-volume.conf'), 'utf8')).toBe(
    `[Unit]\nRequiresMountsFor=${paths.mount} ${paths.dockerVolumes}\n`,
  );
  expect(readFileSync(paths.calls, 'utf8')).toBe('systemctl daemon-reload\n');

  // Postgres data in a Compose named volume lands on the data volume through the bind.
  writeFileSync(join(paths.dockerVolumes, 'PG_VERSION'), '16\n');
  writeFileSync(join(paths.mount, 'audit.log'), 'op=deploy result=ok\n');
  unmountAll();
  expect(existsSync(join(paths.mount, 'audit.log'))).toBe(false);

  const second = await runHostScript('data-volume.sh', [], settings(device));
  expect(second.code).toBe(0);
  expect(second.stderr).toContain(`${device} already holds a ext4 file system: not formatting`);
  expect(blkid(device, 'UUID')).toBe(uuid);
  expect(readFileSync(join(paths.mount, 'audit.log'), 'utf8')).toBe('op=deploy result=ok\n');
  expect(readFileSync(join(paths.dockerVolumes, 'PG_VERSION'), 'utf8')).toBe('16\n');
  expect(readFileSync(join(paths.mount, 'docker-volumes/PG_VERSION'), 'utf8')).toBe('16\n');
  // Nothing changed: no second daemon-reload, the same two fstab lines.
  expect(readFileSync(paths.calls, 'utf8')).toBe('systemctl daemon-reload\n');
  expect(readFileSync(paths.fstab, 'utf8').match(/# data-volume.sh/g)).toHaveLength(2);
});

loopTest('a volume that already holds a file system (the old host’s) is mounted as it is, never formatted', async () => {
  const device = loopDevice('existing.img');
  execFileSync('mkfs.ext4', ['-q', '-L', 'old-host', device]);
  const uuid = blkid(device, 'UUID');
  execFileSync('mkdir', ['-p', paths.mount]);
  execFileSync('mount', [device, paths.mount]);
  writeFileSync(join(paths.mount, 'deploy_state.json'), '{"current":{"ref":"v1"}}\n');
  execFileSync('umount', [paths.mount]);

  const result = await runHostScript('data-volume.sh', [], settings(device));
  expect(result.code).toBe(0);
  expect(result.stderr).not.toContain('creating an ext4 file system');
  expect(blkid(device, 'UUID')).toBe(uuid);
  expect(blkid(device, 'LABEL')).toBe('old-host');
  expect(readFileSync(join(paths.mount, 'deploy_state.json'), 'utf8')).toBe('{"current":{"ref":"v1"}}\n');
});

loopTest('a volume with a signature that is not a file system (a partition table) is refused, not formatted', async () => {
  const device = loopDevice('partitioned.img');
  // A DOS partition table: one Linux partition from sector 2048, and the 0x55AA boot signature.
  const mbr = Buffer.alloc(512);
  mbr.set([0x00, 0x20, 0x21, 0x00, 0x83, 0x00, 0x00, 0x00], 446);
  mbr.writeUInt32LE(2048, 454);
  mbr.writeUInt32LE(4096, 458);
  mbr.set([0x55, 0xaa], 510);
  const fd = openSync(device, 'r+');
  writeSync(fd, mbr, 0, 512, 0);
  closeSync(fd);
  const result = await runHostScript('data-volume.sh', [], settings(device));
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`${device} holds no file system but has signatures (dos); refusing to format it`);
  expect(blkid(device, 'PTTYPE')).toBe('dos');
});

test('usage errors name the missing setting', async () => {
  const result = await runHostScript('data-volume.sh', [], { DATA_MOUNT_POINT: '', DATA_VOLUME_ID: 'vol-1' });
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('DATA_MOUNT_POINT is not set');
});
