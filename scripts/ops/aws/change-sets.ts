/*
 * The thin CloudFormation and S3 edge of `ops plan`: what is deployed (the stack's template), a
 * change set of the new template against it, read in full, and deleted again, whatever happened.
 * Nothing here executes a change set.
 */
import {
  type Change,
  type CloudFormationClient,
  CreateChangeSetCommand,
  type CreateChangeSetCommandInput,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  type DescribeChangeSetCommandOutput,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** The template a stack was last deployed with, or undefined when the stack does not exist. */
export async function deployedTemplate(cfn: CloudFormationClient, stackName: string): Promise<Record<string, unknown> | undefined> {
  try {
    const result = await cfn.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }));
    return JSON.parse(result.TemplateBody ?? '{}') as Record<string, unknown>;
  } catch (error) {
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** Puts a template where CloudFormation reads it from (`TemplateURL`), for templates over the 51,200-byte `TemplateBody` limit. */
export async function uploadTemplate(s3: S3Client, bucket: string, key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
}

export async function removeTemplate(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

export async function createChangeSet(cfn: CloudFormationClient, input: CreateChangeSetCommandInput): Promise<void> {
  await cfn.send(new CreateChangeSetCommand(input));
}

export interface ChangeSetWait {
  /** Milliseconds between reads while CloudFormation computes the change set. @default 3000 */
  readonly delayMs?: number;
  /** Reads before giving up. @default 100 (five minutes at the default delay) */
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How a change set ended: created (with every change, all pages), empty, or failed with CloudFormation's reason. */
export type ChangeSetOutcome =
  | { readonly status: 'created'; readonly changeSet: DescribeChangeSetCommandOutput }
  | { readonly status: 'empty' }
  | { readonly status: 'failed'; readonly reason: string };

/** CloudFormation's words for a change set without changes (a FAILED status that is not a failure). */
const NO_CHANGES = /didn't contain changes|No updates are to be performed/;

/** Waits for the change set, then reads all of it (every page of changes, with property values). */
export async function readChangeSet(cfn: CloudFormationClient, stackName: string, changeSetName: string, wait: ChangeSetWait = {}): Promise<ChangeSetOutcome> {
  const sleep = wait.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const describe = (NextToken?: string) =>
    cfn.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName, IncludePropertyValues: true, NextToken }));
  for (let attempt = 1; ; attempt++) {
    const first = await describe();
    if (first.Status === 'FAILED') {
      const reason = first.StatusReason ?? 'no reason given';
      return NO_CHANGES.test(reason) ? { status: 'empty' } : { status: 'failed', reason };
    }
    if (first.Status === 'CREATE_COMPLETE') {
      const changes: Change[] = [...(first.Changes ?? [])];
      for (let next = first.NextToken; next; ) {
        const page = await describe(next);
        changes.push(...(page.Changes ?? []));
        next = page.NextToken;
      }
      return { status: 'created', changeSet: { ...first, Changes: changes, NextToken: undefined } };
    }
    if (attempt >= (wait.maxAttempts ?? 100)) return { status: 'failed', reason: `still ${first.Status} after ${attempt} reads` };
    await sleep(wait.delayMs ?? 3000);
  }
}

/** Deletes a change set; one that does not exist (creation was refused) is already gone. */
export async function deleteChangeSet(cfn: CloudFormationClient, stackName: string, changeSetName: string): Promise<void> {
  try {
    await cfn.send(new DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
  } catch (error) {
    if ((error as Error).name !== 'ChangeSetNotFoundException') throw error;
  }
}
