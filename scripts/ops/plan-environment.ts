/*
 * `ops plan --env <env>`: for each stack the environment deploys, a change set of the cloud
 * assembly's template against what is deployed (CloudFormation's own verdict: replacements
 * True or Conditional, dynamic references resolved), read whole and deleted again, also when it
 * failed; then the same sections as the pull-request review. Nothing is executed.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import type { NamedEnvironment, ProjectConfig } from '../../lib/config';
import { assemblyHash } from '../review/assembly-hash';
import { MAX_COMMENT_CHARS, renderComment } from '../review/comment';
import type { CfnTemplate } from '../review/synth-output';
import { type ChangeSetWait, createChangeSet, deleteChangeSet, deployedTemplate, readChangeSet, removeTemplate, uploadTemplate } from './aws/change-sets';
import { changeSetInput, changeSetName, formatPlanHead, type PlanTarget, planReview, planTargets, type StackPlan, templateLocation } from './commands/plan';

export interface PlanClients {
  readonly cloudFormation: (region: string) => CloudFormationClient;
  readonly s3: (region: string) => S3Client;
}

export interface PlanOptions {
  /** The cloud assembly directory (`cdk.out` of `npm run synth`, or the pipeline's artifact). */
  readonly assembly: string;
  readonly stackNames: readonly string[];
  readonly now?: () => number;
  readonly wait?: ChangeSetWait;
  readonly clients?: PlanClients;
  /** Progress lines (stderr). @default none */
  readonly progress?: (line: string) => void;
}

export interface PlanOutcome {
  /** False when a change set could not be made or read. */
  readonly ok: boolean;
  readonly text: string;
  readonly plans: readonly StackPlan[];
  /** A ⛔ finding (a replacement of data, a dangerous widening). */
  readonly gated: boolean;
}

const defaultClients: PlanClients = {
  cloudFormation: (region) => new CloudFormationClient({ region }),
  s3: (region) => new S3Client({ region }),
};

/** One stack's plan: the change set created, read and, whatever happened, deleted (and its template copy removed). */
async function planStack(target: PlanTarget, name: string, clients: PlanClients, wait?: ChangeSetWait): Promise<StackPlan> {
  const cfn = clients.cloudFormation(target.region);
  const template = JSON.parse(target.templateBody) as CfnTemplate;
  const deployed = (await deployedTemplate(cfn, target.stackName)) as CfnTemplate | undefined;
  if (!deployed) return { stackName: target.stackName, status: 'not deployed', template };
  const location = templateLocation(target);
  const s3 = 'upload' in location ? clients.s3(target.region) : undefined;
  try {
    if ('upload' in location) await uploadTemplate(s3 as S3Client, location.upload.bucket, location.upload.key, target.templateBody);
    await createChangeSet(cfn, changeSetInput(target, name, location));
    const outcome = await readChangeSet(cfn, target.stackName, name, wait);
    if (outcome.status === 'failed') return { stackName: target.stackName, status: 'failed', reason: outcome.reason };
    if (outcome.status === 'empty') return { stackName: target.stackName, status: 'no changes', deployed, template };
    return { stackName: target.stackName, status: 'changes', deployed, template, changeSet: outcome.changeSet };
  } finally {
    await deleteChangeSet(cfn, target.stackName, name);
    if ('upload' in location) await removeTemplate(s3 as S3Client, location.upload.bucket, location.upload.key);
  }
}

export async function planEnvironment(config: ProjectConfig, env: NamedEnvironment, options: PlanOptions): Promise<PlanOutcome> {
  const targets = planTargets(options.assembly, options.stackNames);
  const hash = assemblyHash(options.assembly);
  const name = changeSetName((options.now ?? Date.now)());
  const plans: StackPlan[] = [];
  for (const target of targets) {
    options.progress?.(`plan ${env.name}: change set ${name} of ${target.stackName} (${target.region})`);
    try {
      plans.push(await planStack(target, name, options.clients ?? defaultClients, options.wait));
    } catch (error) {
      if (error instanceof TypeError || error instanceof ReferenceError) throw error;
      plans.push({ stackName: target.stackName, status: 'failed', reason: (error as Error).message });
    }
  }
  const review = planReview(config.app.name, env.name, env.account, plans);
  const head = formatPlanHead(env.name, env.account, `${options.assembly} (${hash})`, plans);
  const sections = renderComment(review, {
    maxChars: MAX_COMMENT_CHARS,
    labels: {
      title: `### Sections, as the pull-request review shows them (${env.name})`,
      compared: `Compared what is deployed in account ${env.account} (each stack's template) with the assembly, CloudFormation's change sets deciding replacements.`,
    },
  });
  return { ok: plans.every((p) => p.status !== 'failed'), text: `${head}\n${sections}`, plans, gated: review.gated };
}
