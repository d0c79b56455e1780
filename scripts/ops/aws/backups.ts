import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** When the newest object under `prefix` was written, or undefined when there is none. */
export async function latestBackupTime(client: S3Client, bucket: string, prefix: string): Promise<Date | undefined> {
  let latest: Date | undefined;
  let ContinuationToken: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    for (const object of page.Contents ?? []) {
      if (object.LastModified && (!latest || object.LastModified > latest)) latest = object.LastModified;
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return latest;
}
