import { createHash } from 'node:crypto';

/*
 * Turns synthesized CloudFormation templates into the concrete values they would have once
 * deployed, so an IAM policy evaluator can judge their policies: Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 * Fn::Select, Fn::Split, Fn::If (with the template's Conditions), Fn::GetAZs, Fn::ImportValue and
 * CDK's Fn::GetStackOutput, over a set of stacks. Physical names follow CloudFormation's rules:
 * a name the template gives is used; otherwise CloudFormation generates
 * `<stack name>-<logical id>-<random suffix>` (lower case for buckets), which is what makes
 * `<app>-<env>-*` match an environment's generated bucket, role and topic names.
 * Anything it does not know is an error, never a guess.
 */

/** One stack: its template and where it is deployed. */
export interface StackInput {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
  readonly template: Record<string, any>;
  /** Values of the template's parameters (defaults are used for the others). */
  readonly parameters?: Readonly<Record<string, string | readonly string[]>>;
}

const PARTITION = 'aws';

/** Property that holds a resource type's physical name, when the template sets one. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::S3::Bucket': 'BucketName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName',
  'AWS::IAM::Policy': 'PolicyName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SSM::Document': 'Name',
  'AWS::SSM::Parameter': 'Name',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::AutoScaling::AutoScalingGroup': 'AutoScalingGroupName',
};

/** Generated ids of resources whose Ref is an id, by type: the id's prefix. */
const ID_PREFIX: Record<string, string> = {
  'AWS::EC2::Instance': 'i-',
  'AWS::EC2::Volume': 'vol-',
  'AWS::EC2::SecurityGroup': 'sg-',
  'AWS::EC2::VPC': 'vpc-',
  'AWS::EC2::Subnet': 'subnet-',
  'AWS::EC2::RouteTable': 'rtb-',
  'AWS::EC2::InternetGateway': 'igw-',
  'AWS::EC2::LaunchTemplate': 'lt-',
  'AWS::EC2::VPCGatewayAttachment': 'IGW|vpc-',
  'AWS::EC2::SubnetRouteTableAssociation': 'rtbassoc-',
  'AWS::EC2::Route': 'rtb-route-',
  'AWS::Route53::HealthCheck': 'hc-',
  'AWS::Route53::RecordSet': 'record-',
  'AWS::DLM::LifecyclePolicy': 'policy-',
  'AWS::SNS::Subscription': 'arn:aws:sns:subscription-',
  'AWS::S3::BucketPolicy': 'bucket-policy-',
  'AWS::CE::AnomalyMonitor': 'monitor-',
  'AWS::CE::AnomalySubscription': 'subscription-',
  'AWS::Budgets::Budget': 'budget-',
  'AWS::IAM::OIDCProvider': 'oidc-',
};

const hash = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

export class ResolvedStacks {
  private readonly stacks = new Map<string, StackInput>();

  constructor(stacks: readonly StackInput[]) {
    for (const stack of stacks) this.stacks.set(stack.stackName, stack);
  }

  /** The stack of that name; throws if it is not in the set. */
  stack(stackName: string): StackInput {
    const stack = this.stacks.get(stackName);
    if (!stack) throw new Error(`cfn-resolve: no stack ${stackName} (have ${[...this.stacks.keys()].join(', ')})`);
    return stack;
  }

  /** Every stack name of the set. */
  stackNames(): string[] {
    return [...this.stacks.keys()];
  }

  /** Logical ids and resolved properties of a stack's resources of one type. */
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
  resourcesOfType(stackName: string, type: string): { logicalId: string; properties: any }[] {
    const stack = this.stack(stackName);
    return Object.entries(stack.template.Resources ?? {})
      .filter(([id, r]) => (r as { Type: string }).Type === type && this.included(stack, id))
      .map(([logicalId, r]) => ({ logicalId, properties: this.resolve(stackName, (r as { Properties?: unknown }).Properties ?? {}) }));
  }

  /** What `Ref` of a resource gives once deployed. */
  ref(stackName: string, logicalId: string): string {
    const stack = this.stack(stackName);
    const resource = stack.template.Resources?.[logicalId];
    if (!resource) throw new Error(`cfn-resolve: ${stackName} has no resource ${logicalId}`);
    const type: string = resource.Type;
    const name = this.physicalName(stackName, logicalId);
    switch (type) {
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${PARTITION}:iam::${stack.account}:policy${this.resolve(stackName, resource.Properties?.Path ?? '/')}${name}`;
      case 'AWS::SNS::Topic':
        return `arn:${PARTITION}:sns:${stack.region}:${stack.account}:${name}`;
      case 'AWS::EC2::EIP':
        return `203.0.113.${Number.parseInt(hash(`${stackName}/${logicalId}`, 2), 16) % 250}`;
      default:
        return name;
    }
  }

  /** What `Fn::GetAtt` of a resource attribute gives once deployed. */
  attribute(stackName: string, logicalId: string, attribute: string): string {
    const stack = this.stack(stackName);
    const resource = stack.template.Resources?.[logicalId];
    if (!resource) throw new Error(`cfn-resolve: ${stackName} has no resource ${logicalId}`);
    const type: string = resource.Type;
    const ref = this.ref(stackName, logicalId);
    const { account, region } = stack;
    const key = `${type}.${attribute}`;
    switch (key) {
      case 'AWS::S3::Bucket.Arn':
        return `arn:${PARTITION}:s3:::${ref}`;
      case 'AWS::S3::Bucket.RegionalDomainName':
        return `${ref}.s3.${region}.amazonaws.com`;
      case 'AWS::S3::Bucket.DomainName':
        return `${ref}.s3.amazonaws.com`;
      case 'AWS::IAM::Role.Arn':
        return `arn:${PARTITION}:iam::${account}:role${this.resolve(stackName, resource.Properties?.Path ?? '/')}${ref}`;
      case 'AWS::IAM::Role.RoleId':
        return `AROA${hash(ref, 16).toUpperCase()}`;
      case 'AWS::IAM::InstanceProfile.Arn':
        return `arn:${PARTITION}:iam::${account}:instance-profile/${ref}`;
      case 'AWS::IAM::ManagedPolicy.PolicyArn':
        return ref;
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:${PARTITION}:logs:${region}:${account}:log-group:${ref}:*`;
      case 'AWS::SNS::Topic.TopicArn':
        return ref;
      case 'AWS::SNS::Topic.TopicName':
        return ref.slice(ref.lastIndexOf(':') + 1);
      case 'AWS::CloudWatch::Alarm.Arn':
        return `arn:${PARTITION}:cloudwatch:${region}:${account}:alarm:${ref}`;
      case 'AWS::EC2::SecurityGroup.GroupId':
        return ref;
      case 'AWS::EC2::VPC.CidrBlock':
        return this.resolve(stackName, resource.Properties?.CidrBlock);
      case 'AWS::EC2::EIP.PublicIp':
        return ref;
      case 'AWS::EC2::EIP.AllocationId':
        return `eipalloc-${hash(ref, 17)}`;
      case 'AWS::EC2::LaunchTemplate.LatestVersionNumber':
      case 'AWS::EC2::LaunchTemplate.DefaultVersionNumber':
        return '1';
      case 'AWS::EC2::Instance.AvailabilityZone':
        return `${region}a`;
      case 'AWS::EC2::Volume.VolumeId':
        return ref;
      case 'AWS::DLM::LifecyclePolicy.Arn':
        return `arn:${PARTITION}:dlm:${region}:${account}:policy/${ref}`;
      case 'AWS::Scheduler::Schedule.Arn':
        return `arn:${PARTITION}:scheduler:${region}:${account}:schedule/default/${ref}`;
      case 'AWS::Route53::HealthCheck.HealthCheckId':
        return ref;
      case 'AWS::IAM::OIDCProvider.Arn':
        return `arn:${PARTITION}:iam::${account}:oidc-provider/token.actions.githubusercontent.com`;
      case 'AWS::CE::AnomalyMonitor.MonitorArn':
        return `arn:${PARTITION}:ce::${account}:anomalymonitor/${ref}`;
      default:
        throw new Error(`cfn-resolve: Fn::GetAtt ${logicalId}.${attribute} of ${type} is not known`);
    }
  }

  /** The physical name CloudFormation gives a resource: the template's, else a generated one. */
  physicalName(stackName: string, logicalId: string): string {
    const resource = this.stack(stackName).template.Resources[logicalId];
    const type: string = resource.Type;
    const property = NAME_PROPERTY[type];
    if (property && resource.Properties?.[property] !== undefined) return String(this.resolve(stackName, resource.Properties[property]));
    const prefix = ID_PREFIX[type];
    if (prefix) return `${prefix}${hash(`${stackName}/${logicalId}`, 17)}`;
    // CloudFormation's generated name: stack name, logical id and a random suffix, cut to the type's limit.
    const suffix = hash(`${stackName}/${logicalId}`, 12).toUpperCase();
    const generated = `${stackName}-${logicalId}-${suffix}`;
    if (type === 'AWS::S3::Bucket') return generated.toLowerCase().slice(0, 63);
    return generated.slice(0, type === 'AWS::IAM::Role' || type === 'AWS::IAM::ManagedPolicy' ? 64 : 256);
  }

  /** Every intrinsic of a value, resolved in the context of one stack; `AWS::NoValue` removed. */
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
  resolve(stackName: string, value: unknown): any {
    const resolved = this.resolveValue(stackName, value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  private resolveValue(stackName: string, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolveValue(stackName, v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::') || entries[0][0] === 'Condition')) {
      const [fn, arg] = entries[0];
      if (fn !== 'Condition') return this.intrinsic(stackName, fn, arg);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const r = this.resolveValue(stackName, v);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }

  private intrinsic(stackName: string, fn: string, arg: unknown): unknown {
    const stack = this.stack(stackName);
    const r = (v: unknown) => this.resolveValue(stackName, v);
    switch (fn) {
      case 'Ref':
        return this.refOf(stack, String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.*)/s);
        return this.attribute(stackName, logicalId, attribute);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        const resolved = r(parts);
        if (!Array.isArray(resolved)) throw new Error(`cfn-resolve: Fn::Join of a list that resolved to ${JSON.stringify(resolved)}`);
        return resolved.flat().map(String).join(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
        const values = r(variables) as Record<string, unknown>;
        return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (name.startsWith('!')) return `\${${name.slice(1)}}`;
          if (name in values) return String(values[name]);
          if (name.includes('.')) {
            const [logicalId, attribute] = name.split(/\.(.*)/s);
            return this.attribute(stackName, logicalId, attribute);
          }
          return String(this.refOf(stack, name));
        });
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = r(list) as unknown[];
        const i = Number(r(index));
        if (!Array.isArray(items) || i >= items.length) throw new Error(`cfn-resolve: Fn::Select ${i} of ${JSON.stringify(items)}`);
        return items[i];
      }
      case 'Fn::Split': {
        const [separator, text] = arg as [string, unknown];
        return String(r(text)).split(separator);
      }
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((z) => `${r(arg) || stack.region}${z}`);
      case 'Fn::Base64':
        return Buffer.from(String(r(arg))).toString('base64');
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        return this.condition(stack, condition) ? r(whenTrue) : r(whenFalse);
      }
      case 'Fn::ImportValue': {
        const name = String(r(arg));
        for (const other of this.stacks.values()) {
          for (const [key, output] of Object.entries(other.template.Outputs ?? {})) {
            const exported = (output as { Export?: { Name?: unknown } }).Export?.Name;
            if (exported !== undefined && this.resolve(other.stackName, exported) === name) return this.output(other.stackName, key);
          }
        }
        throw new Error(`cfn-resolve: no stack exports ${name}`);
      }
      case 'Fn::GetStackOutput': {
        const { StackName, OutputName } = arg as { StackName: string; OutputName: string };
        return this.output(String(r(StackName)), OutputName);
      }
      default:
        throw new Error(`cfn-resolve: ${fn} is not known`);
    }
  }

  /** The resolved value of a stack output. */
  output(stackName: string, outputName: string): unknown {
    const output = this.stack(stackName).template.Outputs?.[outputName];
    if (!output) throw new Error(`cfn-resolve: ${stackName} has no output ${outputName}`);
    return this.resolve(stackName, output.Value);
  }

  private refOf(stack: StackInput, name: string): unknown {
    switch (name) {
      case 'AWS::AccountId':
        return stack.account;
      case 'AWS::Region':
        return stack.region;
      case 'AWS::Partition':
        return PARTITION;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack.stackName;
      case 'AWS::StackId':
        return `arn:${PARTITION}:cloudformation:${stack.region}:${stack.account}:stack/${stack.stackName}/${hash(stack.stackName, 8)}`;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = stack.template.Parameters?.[name];
    if (parameter) {
      const given = stack.parameters?.[name];
      const value = given ?? parameter.Default;
      if (value === undefined) throw new Error(`cfn-resolve: parameter ${name} of ${stack.stackName} has no value`);
      if (parameter.Type === 'CommaDelimitedList' || parameter.Type === 'List<String>')
        return Array.isArray(value) ? value : String(value).split(',').filter(Boolean);
      if (String(parameter.Type).startsWith('AWS::SSM::Parameter::Value')) return `resolved(${value})`;
      return value;
    }
    if (stack.template.Resources?.[name]) return this.ref(stack.stackName, name);
    throw new Error(`cfn-resolve: Ref ${name} is neither a pseudo parameter, a parameter nor a resource of ${stack.stackName}`);
  }

  /** Whether a named condition of the template holds. */
  condition(stack: StackInput, name: string): boolean {
    const definition = stack.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`cfn-resolve: ${stack.stackName} has no condition ${name}`);
    return this.evaluate(stack, definition);
  }

  private evaluate(stack: StackInput, expression: unknown): boolean {
    const [[fn, arg]] = Object.entries(expression as Record<string, unknown>);
    const args = arg as unknown[];
    switch (fn) {
      case 'Fn::Equals': {
        const [a, b] = args.map((v) => this.resolveValue(stack.stackName, v));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !this.evaluate(stack, args[0]);
      case 'Fn::And':
        return args.every((a) => this.evaluate(stack, a));
      case 'Fn::Or':
        return args.some((a) => this.evaluate(stack, a));
      case 'Condition':
        return this.condition(stack, String(arg));
      default:
        throw new Error(`cfn-resolve: condition function ${fn} is not known`);
    }
  }

  /** Whether a resource exists once deployed (its `Condition`, if any, holds). */
  included(stack: StackInput, logicalId: string): boolean {
    const condition = stack.template.Resources?.[logicalId]?.Condition;
    return condition === undefined || this.condition(stack, condition);
  }
}

/** Marks `AWS::NoValue`, removed from lists and objects. */
const NO_VALUE = Symbol('AWS::NoValue');
