import { writeFileSync } from 'node:fs';
import { hostScriptsDir, runCommand } from './host-scripts';
import type { S3Server } from './s3';

/*
 * Backup objects as the host's backup writes them, for tests that plant one: the archive under its
 * key and, beside it, the manifest the backup writes after its upload (key, size, sha256, times,
 * database), built by scripts/host/backup-lib.sh itself so the format is the one restore reads.
 */

/** The manifest object's key beside a backup key, as backup-lib.sh names it. */
export const manifestKeyOf = (key: string) => key.replace(/\.tar\.gz$/, '.manifest.json');

/** Runs the AWS CLI against the test's s3rver. */
export const awsS3 = (s3: S3Server, ...args: string[]) => runCommand('aws', ['--endpoint-url', s3.endpoint, ...args], s3.awsEnv);

/**
 * Uploads `file` as backup `key`, then (unless `manifest` is false) the manifest backup-lib.sh
 * writes for it, with `env` the host settings (APP_NAME, ENV_NAME, PGDATABASE) and `sha256` to
 * plant a manifest that does not match (default: the file's own).
 */
export async function uploadBackup(
  s3: S3Server,
  env: Record<string, string>,
  file: string,
  key: string,
  options: { manifest?: boolean; sha256?: string } = {},
): Promise<void> {
  const put = await awsS3(s3, 's3', 'cp', '--only-show-errors', '--checksum-algorithm', 'CRC32', file, `s3://${s3.bucket}/${key}`);
  if (put.code !== 0) throw new Error(`upload of ${key} failed: ${put.stderr}`);
  if (options.manifest === false) return;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const built = await runCommand(
    'bash',
    ['-c', `. "${hostScriptsDir}/lib.sh" && . "${hostScriptsDir}/backup-lib.sh" && backup_manifest_json "$@"`, 'manifest', key, file, now, now],
    env,
  );
  if (built.code !== 0) throw new Error(`backup_manifest_json failed: ${built.stderr}`);
  const manifest = JSON.parse(built.stdout);
  if (options.sha256) manifest.sha256 = options.sha256;
  const local = `${file}.manifest.json`;
  writeFileSync(local, `${JSON.stringify(manifest)}\n`);
  const putManifest = await awsS3(s3, 's3', 'cp', '--only-show-errors', '--checksum-algorithm', 'CRC32', local, `s3://${s3.bucket}/${manifestKeyOf(key)}`);
  if (putManifest.code !== 0) throw new Error(`upload of the manifest of ${key} failed: ${putManifest.stderr}`);
}

/** Removes a backup and its manifest. */
export async function removeBackup(s3: S3Server, key: string): Promise<void> {
  for (const k of [key, manifestKeyOf(key)]) await awsS3(s3, 's3', 'rm', '--only-show-errors', `s3://${s3.bucket}/${k}`);
}
