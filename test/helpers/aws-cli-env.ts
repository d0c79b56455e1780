import { join } from 'node:path';

/**
 * The environment every local AWS stand-in gives the AWS CLI (s3rver, the SSM server, the EC2 /
 * Route53 / Auto Scaling APIs): fixed credentials, one region, and no profile, credentials file or
 * instance metadata to fall back on, so a run can never reach a real account from this machine.
 * `dir` holds the (absent) config and credentials files.
 */
export function localAwsCliEnv(dir: string, accessKeyId = 'TESTKEY', secretAccessKey = 'TESTSECRET'): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}
