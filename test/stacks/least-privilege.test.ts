import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { stackNames } from '../../lib/names';
import { commandOrParameterReadsOnAnyResource, templateStatements } from '../helpers/iam-templates';
import { shippedStackNames, shippedTemplate } from '../helpers/synth';

/*
 * Issue 8's acceptance on the synthesized templates: no statement allows ssm:GetCommandInvocation
 * or ssm:GetParameter* on `*`; a deploy role reads command output only from its own environment's
 * command log group, and the instance role writes command output only there.
 */

describe('no command-output or parameter read on Resource "*"', () => {
  test('the check finds planted statements (positive control: policy, managed policy, role inline policy, NotAction, managed AmazonSSMManagedInstanceCore)', () => {
    const stack = new Stack(new App(), 'Planted');
    const role = new iam.Role(stack, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
      inlinePolicies: { Inline: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['ssm:GetParameter*'], resources: ['*'] })] }) },
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetCommandInvocation'], resources: ['*'] }));
    new iam.ManagedPolicy(stack, 'Managed', { statements: [new iam.PolicyStatement({ actions: ['ssm:Get*'], resources: ['*'] })] });
    new iam.Policy(stack, 'NotAction', { roles: [role], statements: [new iam.PolicyStatement({ notActions: ['s3:*'], resources: ['*'] })] });
    // COMPLIANT neighbours: the same reads on named resources, and a Deny on *.
    new iam.Policy(stack, 'Scoped', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['ssm:GetParameters'], resources: ['arn:aws:ssm:us-east-1:111122223333:parameter/app/dev/*'] }),
        new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['ssm:GetCommandInvocation'], resources: ['*'] }),
      ],
    });

    const findings = commandOrParameterReadsOnAnyResource(Template.fromStack(stack).toJSON());

    // Logical ids without their hash suffix, sorted.
    expect(findings.map((f) => f.replace(/[0-9A-F]{8}:/, ':')).sort()).toEqual([
      'Managed: ssm:Get*',
      'NotAction: NotAction s3:*',
      'Role: managed AmazonSSMManagedInstanceCore',
      'Role: ssm:GetParameter*',
      'RoleDefaultPolicy: ssm:GetCommandInvocation',
    ]);
    expect(findings.join('\n')).not.toContain('Scoped');
  });

  test('no synthesized template of the shipped config has one', () => {
    const names = shippedStackNames();
    expect(names.length).toBeGreaterThanOrEqual(7);
    for (const name of names) expect({ name, findings: commandOrParameterReadsOnAnyResource(shippedTemplate(name).toJSON()) }).toEqual({ name, findings: [] });
  });
});

/** The data-stack output a host-stack ARN refers to, e.g. `auraxis-dev-data` / `...CommandLogs...`. */
function referencedOutputs(value: unknown): { stack: string; output: string }[] {
  const found: { stack: string; output: string }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const ref = (v as Record<string, { StackName?: string; OutputName?: string }>)['Fn::GetStackOutput'];
      if (ref?.StackName && ref.OutputName) found.push({ stack: ref.StackName, output: ref.OutputName });
      else Object.values(v).forEach(walk);
    }
  };
  walk(value);
  return found;
}

const actionsOf = (s: { Action?: unknown }) => [s.Action].flat() as string[];

describe.each(['dev', 'prod'])('%s command log group', (env) => {
  const template = () => shippedTemplate(stackNames.host('auraxis', env)).toJSON();
  const statementsOfRole = (prefix: string) =>
    templateStatements(template())
      .filter(({ resourceId }) => resourceId.startsWith(prefix) && !resourceId.startsWith(`${prefix}Role`))
      .map((s) => s.statement);

  test('the deploy role reads log events only from its own environment command log group', () => {
    const reads = statementsOfRole('DeployRole').filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
    expect(reads.map(actionsOf)).toEqual([['logs:FilterLogEvents', 'logs:GetLogEvents']]);
    const refs = referencedOutputs(reads[0].Resource);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.stack).toBe(stackNames.data('auraxis', env));
      expect(ref.output).toMatch(/CommandLogs/);
    }
    expect(JSON.stringify(reads[0].Resource)).not.toMatch(/"\*"|log-group:\*/);
  });

  test('the deploy role has no ssm read of command results at all', () => {
    const all = statementsOfRole('DeployRole').flatMap(actionsOf);
    expect(all.filter((a) => /^ssm:(GetCommandInvocation|ListCommandInvocations|ListCommands)$/i.test(a))).toEqual([]);
  });

  test('the instance role writes log events only to its own environment groups, the command log group among them', () => {
    const writes = statementsOfRole('HostInstanceRole').filter((s) => actionsOf(s).some((a) => a === 'logs:PutLogEvents' || a === 'logs:CreateLogStream'));
    const refs = writes.flatMap((s) => referencedOutputs(s.Resource));
    expect(refs.filter((r) => /CommandLogs/.test(r.output))).not.toEqual([]);
    for (const ref of refs) expect(ref.stack).toBe(stackNames.data('auraxis', env));
    for (const s of writes) expect(JSON.stringify(s.Resource)).not.toMatch(/"\*"|log-group:\*/);
  });

  test("the instance role's one account-wide logs action is DescribeLogGroups (names only), which the SSM agent needs", () => {
    const wide = templateStatements(template())
      .map((s) => s.statement)
      .filter((s) => JSON.stringify(s.Resource).includes('log-group:*'));
    expect(wide).toEqual([
      {
        Sid: 'FindCommandLogGroup',
        Effect: 'Allow',
        Action: 'logs:DescribeLogGroups',
        Resource: expect.stringMatching(/^arn:aws:logs:us-east-1:\d{12}:log-group:\*$/),
      },
    ]);
  });
});
