import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, runCommand } from '../helpers/host-scripts';
import { S3Server } from '../helpers/s3';
import { tempDirsRemovedAfterAll } from '../helpers/temp-dirs';

/*
 * The host tests' S3 (test/helpers/s3.ts) refuses what the Object Lock backups bucket refuses: an
 * upload without a checksum. backup.test.ts and restore.test.ts run backup.sh and restore.sh against
 * it, so a script that drops its --checksum-algorithm fails there; this file checks the server
 * itself, with the AWS CLI set up as those tests set it up (no checksum unless asked).
 */

const tempDir = tempDirsRemovedAfterAll();
let s3: S3Server;
let file: string;
const REFUSAL =
  'An error occurred (InvalidRequest) when calling the PutObject operation: Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters';

beforeAll(async () => {
  const dir = tempDir('s3-lock-');
  s3 = new S3Server(dir, await freePort(), 'locked');
  await s3.start();
  file = join(dir, 'object');
  writeFileSync(file, 'backup bytes\n');
});
afterAll(() => s3?.stop());

const aws = (...args: string[]) => runCommand('aws', ['--endpoint-url', s3.endpoint, ...args], s3.awsEnv);
const keys = async () => (await aws('s3api', 'list-objects-v2', '--bucket', 'locked', '--query', 'Contents[].Key', '--output', 'text')).stdout.trim();

test('an upload without a checksum is refused with S3 Object Lock error, and nothing is stored', async () => {
  const refused = await aws('s3', 'cp', '--only-show-errors', file, 's3://locked/plain');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(REFUSAL);
  const api = await aws('s3api', 'put-object', '--bucket', 'locked', '--key', 'plain', '--body', file);
  expect(api.code).not.toBe(0);
  expect(api.stderr).toContain(REFUSAL);
  expect(await keys()).toBe('None');
});

test('an upload with --checksum-algorithm, or with Content-MD5, is stored; reading and listing need none', async () => {
  expect(await aws('s3', 'cp', '--only-show-errors', '--checksum-algorithm', 'CRC32', file, 's3://locked/crc32')).toMatchObject({ code: 0 });
  const md5 = (await runCommand('sh', ['-c', `openssl md5 -binary '${file}' | base64`])).stdout.trim();
  expect(await aws('s3api', 'put-object', '--bucket', 'locked', '--key', 'md5', '--body', file, '--content-md5', md5)).toMatchObject({ code: 0 });
  expect((await keys()).split(/\s+/).sort()).toEqual(['crc32', 'md5']);
  const copy = join(tempDir('s3-lock-'), 'copy');
  expect(await aws('s3', 'cp', '--only-show-errors', 's3://locked/crc32', copy)).toMatchObject({ code: 0 });
});
