import 'aws-sdk-client-mock-jest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { parseArgs } from '../../scripts/ops/commands/parse-args';
import { changeSetName, PLAN_TEMPLATE_PREFIX, TEMPLATE_BODY_LIMIT } from '../../scripts/ops/commands/plan';
import { runOps } from '../../scripts/ops/ops';
import { sharedCdkOut, shippedConfig } from '../helpers/synth';

/*
 * `ops plan` with the AWS SDK mocked at the network edge (aws-sdk-client-mock): per stack, the
 * deployed template read, a change set created from the assembly (large templates through the
 * staging bucket), read whole (every page, property values included), shown with CloudFormation's
 * replacement verdicts and the review's sections, and deleted, also when it failed.
 */
const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const config = shippedConfig();
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const NAME = changeSetName(NOW);
const template = (stack: string) => readFileSync(join(sharedCdkOut, `${stack}.template.json`), 'utf8');
const HOST = 'auraxis-prod-host';
const DATA = 'auraxis-prod-data';
const HEALTH = 'auraxis-prod-health';
const progress: string[] = [];

function plan(extra: string[] = []) {
  return runOps(
    {
      config,
      actor: 'test',
      now: () => NOW,
      planDelayMs: 0,
      progress: (line) => progress.push(line),
      planClients: { cloudFormation: (region) => new CloudFormationClient({ region }), s3: (region) => new S3Client({ region }) },
    },
    parseArgs(['plan', '--env', 'prod', '--assembly', sharedCdkOut, ...extra], Object.keys(config.environments)),
  );
}

/**
 * The deployed host template: the one before a pull request moved the launch template to arm64
 * and renamed the group (a new AutoScalingGroupName replaces the group and its instance).
 */
function deployedHost(): string {
  const t = JSON.parse(template(HOST));
  t.Resources[launchTemplateId].Properties.LaunchTemplateData.ImageId = t.Resources[launchTemplateId].Properties.LaunchTemplateData.ImageId.replace(
    'arm64',
    'x86_64',
  );
  t.Resources[groupId].Properties.AutoScalingGroupName = 'auraxis-prod-host-old';
  return JSON.stringify(t);
}
const idOf = (type: string) =>
  Object.entries(JSON.parse(template(HOST)).Resources as Record<string, { Type: string }>).find(([, r]) => r.Type === type)?.[0] as string;
const groupId = idOf('AWS::AutoScaling::AutoScalingGroup');
const launchTemplateId = idOf('AWS::EC2::LaunchTemplate');

beforeEach(() => {
  cfn.reset();
  s3.reset();
  progress.length = 0;
  cfn.on(GetTemplateCommand, { StackName: DATA }).resolves({ TemplateBody: template(DATA) });
  cfn.on(GetTemplateCommand, { StackName: HOST }).resolves({ TemplateBody: deployedHost() });
  cfn.on(GetTemplateCommand, { StackName: HEALTH }).rejects(Object.assign(new Error(`Stack with id ${HEALTH} does not exist`), { name: 'ValidationError' }));
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'arn:aws:cloudformation:us-east-1:1:changeSet/x' });
  cfn.on(DeleteChangeSetCommand).resolves({});
  cfn
    .on(DescribeChangeSetCommand, { StackName: DATA })
    .resolves({ Status: 'FAILED', StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set." });
  cfn
    .on(DescribeChangeSetCommand, { StackName: HOST, NextToken: undefined })
    .resolvesOnce({ Status: 'CREATE_IN_PROGRESS' })
    .resolves({
      Status: 'CREATE_COMPLETE',
      NextToken: 'page-2',
      Changes: [
        {
          Type: 'Resource',
          ResourceChange: {
            Action: 'Modify',
            LogicalResourceId: launchTemplateId,
            ResourceType: 'AWS::EC2::LaunchTemplate',
            Replacement: 'False',
            Details: [
              {
                Target: { Attribute: 'Properties', Name: 'LaunchTemplateData', RequiresRecreation: 'Never' },
                ChangeSource: 'DirectModification',
                Evaluation: 'Static',
              },
            ],
          },
        },
      ],
    });
  cfn.on(DescribeChangeSetCommand, { StackName: HOST, NextToken: 'page-2' }).resolves({
    Status: 'CREATE_COMPLETE',
    Changes: [
      {
        Type: 'Resource',
        ResourceChange: {
          Action: 'Modify',
          LogicalResourceId: groupId,
          ResourceType: 'AWS::AutoScaling::AutoScalingGroup',
          Replacement: 'True',
          Details: [
            {
              Target: { Attribute: 'Properties', Name: 'AutoScalingGroupName', RequiresRecreation: 'Always' },
              ChangeSource: 'DirectModification',
              Evaluation: 'Static',
            },
            {
              Target: { Attribute: 'Properties', Name: 'LaunchTemplate', RequiresRecreation: 'Never' },
              ChangeSource: 'ResourceAttribute',
              CausingEntity: `${launchTemplateId}.LatestVersionNumber`,
              Evaluation: 'Static',
            },
          ],
        },
      },
    ],
  });
  s3.on(PutObjectCommand).resolves({});
  s3.on(DeleteObjectCommand).resolves({});
});

describe('a plan with changes', () => {
  test('change sets created from the assembly: inline when small, through the staging bucket when large; never executed', async () => {
    const outcome = await plan();
    expect(outcome.ok).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(JSON.parse(template(DATA))))).toBeLessThanOrEqual(TEMPLATE_BODY_LIMIT);
    expect(cfn).toHaveReceivedCommandWith(CreateChangeSetCommand, {
      StackName: DATA,
      ChangeSetName: NAME,
      ChangeSetType: 'UPDATE',
      TemplateBody: JSON.stringify(JSON.parse(template(DATA))),
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
    });
    const manifest = JSON.parse(readFileSync(join(sharedCdkOut, `${HOST}.assets.json`), 'utf8'));
    const [destination] = Object.values(
      Object.values(manifest.files as Record<string, { destinations: Record<string, { bucketName: string; objectKey: string }> }>)[0].destinations,
    );
    const key = `${PLAN_TEMPLATE_PREFIX}${destination.objectKey}`;
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: destination.bucketName, Key: key, Body: template(HOST) });
    expect(cfn).toHaveReceivedCommandWith(CreateChangeSetCommand, {
      StackName: HOST,
      ChangeSetName: NAME,
      TemplateURL: `https://${destination.bucketName}.s3.us-east-1.amazonaws.com/${key}`,
    });
    // The health stack is not deployed: no change set for it.
    expect(cfn).not.toHaveReceivedCommandWith(CreateChangeSetCommand, { StackName: HEALTH });
    expect(cfn.commandCalls(CreateChangeSetCommand).every((c) => !('ExecuteChangeSet' in c.args[0].input))).toBe(true);
    expect(progress).toEqual([DATA, HOST, HEALTH].map((s) => `plan prod: change set ${NAME} of ${s} (us-east-1)`));
  });

  test('read whole: every page, with property values', async () => {
    await plan();
    expect(cfn).toHaveReceivedCommandWith(DescribeChangeSetCommand, { StackName: HOST, ChangeSetName: NAME, IncludePropertyValues: true, NextToken: 'page-2' });
    const { text } = await plan();
    expect(text).toContain(
      `| ${HOST} | Modify | ${groupId} | AWS::AutoScaling::AutoScalingGroup | ⛔ replaced | Properties AutoScalingGroupName (DirectModification, recreation always); Properties LaunchTemplate (ResourceAttribute: ${launchTemplateId}.LatestVersionNumber) |`,
    );
  });

  test("shown: CloudFormation's replacements first, then the review's sections from the change set's verdicts", async () => {
    const { text, json } = await plan();
    expect(text).toContain(`## Plan of prod: the cloud assembly against what is deployed in account ${config.environments.prod.account}`);
    expect(text).toMatch(
      new RegExp(`Change sets of ${sharedCdkOut} \\(sha256:[0-9a-f]{64}\\) against the deployed stacks, read and deleted again; nothing was executed\\.`),
    );
    const table = text.slice(text.indexOf('| Stack | Action |'));
    expect(table.split('\n').slice(2, 4)).toEqual([
      `| ${HOST} | Modify | ${groupId} | AWS::AutoScaling::AutoScalingGroup | ⛔ replaced | Properties AutoScalingGroupName (DirectModification, recreation always); Properties LaunchTemplate (ResourceAttribute: ${launchTemplateId}.LatestVersionNumber) |`,
      `| ${HOST} | Modify | ${launchTemplateId} | AWS::EC2::LaunchTemplate |  | Properties LaunchTemplateData (DirectModification) |`,
    ]);
    expect(text).toContain(`- ${DATA}: no changes (what is deployed is this template).`);
    expect(text).toContain(`- ${HEALTH}: not deployed yet; the deploy creates every resource of its template.`);
    const data = text.slice(text.indexOf('### 1. Data at risk'), text.indexOf('### 2. Security'));
    expect(data).toMatch(
      new RegExp(
        `\\| ⛔ \\| prod \\| ${HOST} \\| AWS::AutoScaling::AutoScalingGroup ${groupId} \\| replaced \\| AutoScalingGroupName requires replacement: CloudFormation creates a new group`,
      ),
    );
    expect(text).toContain(`Compared what is deployed in account ${config.environments.prod.account}`);
    expect(json).toMatchObject({ env: 'prod', gated: true });
  });

  test('deleted: every change set made, and the template copy', async () => {
    await plan();
    expect(cfn).toHaveReceivedCommandWith(DeleteChangeSetCommand, { StackName: DATA, ChangeSetName: NAME });
    expect(cfn).toHaveReceivedCommandWith(DeleteChangeSetCommand, { StackName: HOST, ChangeSetName: NAME });
    expect(cfn).toHaveReceivedCommandTimes(DeleteChangeSetCommand, 2);
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectCommand, 1);
  });
});

describe('a plan that fails', () => {
  test('creation refused: the reason shown, the (absent) change set deleted anyway, exit 1', async () => {
    cfn
      .on(CreateChangeSetCommand, { StackName: HOST })
      .rejects(Object.assign(new Error('User is not authorized to perform: cloudformation:CreateChangeSet'), { name: 'AccessDenied' }));
    cfn.on(DeleteChangeSetCommand, { StackName: HOST }).rejects(Object.assign(new Error('ChangeSet not found'), { name: 'ChangeSetNotFoundException' }));
    const outcome = await plan();
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain(`- ⛔ ${HOST}: CloudFormation refused the change set: User is not authorized to perform: cloudformation:CreateChangeSet`);
    expect(cfn).toHaveReceivedCommandWith(DeleteChangeSetCommand, { StackName: HOST, ChangeSetName: NAME });
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectCommand, 1);
  });

  test('a change set that fails in CloudFormation: its reason shown, and it is deleted', async () => {
    cfn
      .on(DescribeChangeSetCommand, { StackName: HOST, NextToken: undefined })
      .resolves({ Status: 'FAILED', StatusReason: 'Template format error: Unresolved resource dependencies [Foo]' });
    const outcome = await plan();
    expect(outcome.ok).toBe(false);
    expect(outcome.text).toContain(`- ⛔ ${HOST}: CloudFormation refused the change set: Template format error: Unresolved resource dependencies [Foo]`);
    expect(cfn).toHaveReceivedCommandWith(DeleteChangeSetCommand, { StackName: HOST, ChangeSetName: NAME });
  });

  test('an assembly without the environment is one line', async () => {
    await expect(
      runOps({ config, actor: 'test' }, parseArgs(['plan', '--env', 'prod', '--assembly', '/nonexistent'], Object.keys(config.environments))),
    ).rejects.toThrow('/nonexistent is not a cloud assembly (no manifest.json): run npm run synth first, or pass --assembly <dir>');
  });
});

describe('command line', () => {
  test('one environment at a time; --assembly defaults to cdk.out', () => {
    const envs = Object.keys(config.environments);
    expect(parseArgs(['plan', '--env', 'dev'], envs)).toMatchObject({ command: 'plan', envs: ['dev'], assembly: 'cdk.out' });
    expect(() => parseArgs(['plan', '--env', 'all'], envs)).toThrow('ops plan: one environment at a time');
    expect(() => parseArgs(['plan', '--env', 'prod', '--ref', 'main'], envs)).toThrow('ops plan: unknown option --ref');
  });
});
