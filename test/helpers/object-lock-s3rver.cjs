'use strict';
/*
 * node object-lock-s3rver.cjs DIR PORT BUCKET: s3rver (from devDependencies) on 127.0.0.1:PORT with
 * one bucket, refusing uploads as S3 does for a bucket with Object Lock (the backups bucket,
 * lib/constructs/backups-bucket.ts): a PutObject or UploadPart without Content-MD5 or an
 * x-amz-checksum-* header (a checksum sent as a trailer is announced by x-amz-trailer) gets S3's
 * 400 InvalidRequest. s3rver alone takes any upload, so without this no host test would notice an
 * upload that production refuses. Started by test/helpers/s3.ts as a child process.
 */
const S3rver = require('s3rver');

const [directory, port, bucket] = process.argv.slice(2);
if (!directory || !port || !bucket) {
  process.stderr.write('usage: node object-lock-s3rver.cjs DIR PORT BUCKET\n');
  process.exit(2);
}

/** S3's words for an upload to an Object Lock bucket without a checksum. */
const REFUSAL = 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters';

/** Whether a request carries the checksum Object Lock requires: Content-MD5, x-amz-checksum-*, or one announced as a trailer. */
function hasChecksum(headers) {
  if (headers['content-md5']) return true;
  if (Object.keys(headers).some((name) => name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-algorithm')) return true;
  return /^x-amz-checksum-/.test(String(headers['x-amz-trailer'] ?? ''));
}

/** PUT /bucket/key (PutObject, or UploadPart with ?partNumber): not PUT /bucket, not a copy. */
function isUpload(ctx) {
  if (ctx.method !== 'PUT' || ctx.headers['x-amz-copy-source']) return false;
  const [, bucketName, ...key] = ctx.path.split('/');
  return Boolean(bucketName) && key.join('/') !== '';
}

async function objectLock(ctx, next) {
  if (!isUpload(ctx) || hasChecksum(ctx.headers)) return next();
  // Read the body first: answering while the client still sends it would reset the connection,
  // and the client would report that instead of S3's error.
  for await (const _ of ctx.req);
  ctx.status = 400;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRequest</Code><Message>${REFUSAL}</Message><RequestId>object-lock-test</RequestId></Error>`;
}

const server = new S3rver({ directory, address: '127.0.0.1', port: Number(port), silent: true, configureBuckets: [{ name: bucket }] });
// Before s3rver's own middleware, so a refused upload never reaches its store.
server.middleware.unshift(objectLock);
server.run().catch((error) => {
  process.stderr.write(`object-lock-s3rver: ${error.message}\n`);
  process.exit(1);
});
