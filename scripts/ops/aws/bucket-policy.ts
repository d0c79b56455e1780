import { GetBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PolicyDocument } from '../commands/iam-audit';

/** A bucket's policy, or undefined when the bucket has none (or does not exist). */
export async function readBucketPolicy(client: S3Client, bucket: string): Promise<PolicyDocument | undefined> {
  try {
    const { Policy } = await client.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    return Policy ? (JSON.parse(Policy) as PolicyDocument) : undefined;
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NoSuchBucketPolicy' || name === 'NoSuchBucket') return undefined;
    throw error;
  }
}
