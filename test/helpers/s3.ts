import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { localAwsCliEnv } from './aws-cli-env';
import { waitForPort } from './host-scripts';
import { projectRoot } from './paths';

/**
 * Waits past the next second: S3 records LastModified to the second, and backup keys carry a
 * timestamp to the second, so two uploads separated by this are ordered and named apart.
 */
export const nextSecond = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1100));

/**
 * A real S3-compatible server (`s3rver`, from devDependencies) on 127.0.0.1:`port` with one bucket,
 * reached by the AWS CLI through `--endpoint-url`. Runs as a child process; `stop()` kills it.
 * Like the backups bucket, which has S3 Object Lock, it refuses an upload without a checksum
 * (./object-lock-s3rver.cjs): uploads pass `--checksum-algorithm`, as backup.sh and restore.sh do.
 */
export class S3Server {
  private child?: ChildProcess;

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly bucket: string,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Environment for the AWS CLI: s3rver's fixed credentials, no profile or instance metadata lookups. */
  get awsEnv(): Record<string, string> {
    return {
      ...localAwsCliEnv(this.dir, 'S3RVER', 'S3RVER'),
      // The AWS CLI as on the host (v2 before 2.23, botocore before 1.36): no checksum unless an
      // upload asks for one. This CLI would otherwise add one by itself, and a script that forgot
      // its --checksum-algorithm would pass here and be refused by the Object Lock bucket.
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    };
  }

  async start(): Promise<void> {
    const data = join(this.dir, 'data');
    mkdirSync(data, { recursive: true });
    const runner = resolve(projectRoot, 'test/helpers/object-lock-s3rver.cjs');
    this.child = spawn(process.execPath, [runner, data, String(this.port), this.bucket], { stdio: 'ignore' });
    await waitForPort(this.port);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
  }
}
