// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub strings are CloudFormation templates, not JavaScript ones
import { ResolvedStacks } from './cfn-resolve';

/* The resolver the IAM matrix reads the synthesized templates with: each intrinsic, and its errors. */

const stack = (template: Record<string, unknown>, parameters?: Record<string, string>) =>
  new ResolvedStacks([
    { stackName: 'app-dev-data', account: '111122223333', region: 'us-east-1', template, parameters },
    {
      stackName: 'app-dev-host',
      account: '111122223333',
      region: 'us-east-1',
      template: {
        Resources: { Role: { Type: 'AWS::IAM::Role', Properties: {} } },
        Outputs: { RoleArn: { Value: { 'Fn::GetAtt': ['Role', 'Arn'] }, Export: { Name: 'app-dev-host:RoleArn' } } },
      },
    },
  ]);

describe('ResolvedStacks', () => {
  const resources = {
    Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
    Named: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { 'Fn::Sub': 'cdk-${Qualifier}-assets-${AWS::AccountId}-${AWS::Region}' } } },
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/app/dev/commands' } },
    Instance: { Type: 'AWS::EC2::Instance', Properties: {} },
    Policy: { Type: 'AWS::IAM::ManagedPolicy', Properties: { ManagedPolicyName: 'app-dev-boundary' } },
    Maybe: { Type: 'AWS::S3::Bucket', Condition: 'IsProd', Properties: {} },
  };
  const template = {
    Parameters: {
      Qualifier: { Type: 'String', Default: 'appdev' },
      List: { Type: 'CommaDelimitedList', Default: 'a,b' },
      Env: { Type: 'String', Default: 'dev' },
    },
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] }, NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] } },
    Resources: resources,
  };
  const s = stack(template);
  const r = (value: unknown) => s.resolve('app-dev-data', value);

  test('generated names start with the stack name (buckets in lower case), given names are used', () => {
    expect(r({ Ref: 'Bucket' })).toMatch(/^app-dev-data-bucket-[0-9a-f]{12}$/);
    expect(r({ Ref: 'Named' })).toBe('cdk-appdev-assets-111122223333-us-east-1');
    expect(r({ Ref: 'Logs' })).toBe('/app/dev/commands');
    expect(r({ Ref: 'Instance' })).toMatch(/^i-[0-9a-f]{17}$/);
  });

  test('Ref of a managed policy is its ARN; GetAtt gives ARNs in both notations', () => {
    expect(r({ Ref: 'Policy' })).toBe('arn:aws:iam::111122223333:policy/app-dev-boundary');
    expect(r({ 'Fn::GetAtt': ['Logs', 'Arn'] })).toBe('arn:aws:logs:us-east-1:111122223333:log-group:/app/dev/commands:*');
    expect(r({ 'Fn::GetAtt': 'Named.Arn' })).toBe('arn:aws:s3:::cdk-appdev-assets-111122223333-us-east-1');
  });

  test('pseudo parameters, parameters (lists split), Join, Sub with variables and attributes, Select, Split, GetAZs', () => {
    expect(r({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'Named' }, '/*']] })).toBe(
      'arn:aws:s3:::cdk-appdev-assets-111122223333-us-east-1/*',
    );
    expect(r({ Ref: 'List' })).toEqual(['a', 'b']);
    expect(r({ 'Fn::Sub': ['${X}-${Named.Arn}-${!Literal}', { X: { Ref: 'Env' } }] })).toBe(
      'dev-arn:aws:s3:::cdk-appdev-assets-111122223333-us-east-1-${Literal}',
    );
    expect(r({ 'Fn::Select': [1, { 'Fn::Split': [',', 'x,y,z'] }] })).toBe('y');
    expect(r({ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] })).toBe('us-east-1a');
  });

  test('Fn::If and AWS::NoValue: the branch of the condition, and NoValue removed from lists and objects', () => {
    expect(r({ 'Fn::If': ['IsProd', 'yes', 'no'] })).toBe('no');
    expect(r({ 'Fn::If': ['NotProd', 'yes', 'no'] })).toBe('yes');
    expect(r({ A: { 'Fn::If': ['IsProd', 1, { Ref: 'AWS::NoValue' }] }, B: [1, { Ref: 'AWS::NoValue' }] })).toEqual({ B: [1] });
    expect(stack(template, { Env: 'prod' }).resolve('app-dev-data', { 'Fn::If': ['IsProd', 'yes', 'no'] })).toBe('yes');
  });

  test('a resource whose Condition fails is not deployed: it is not listed', () => {
    expect(s.resourcesOfType('app-dev-data', 'AWS::S3::Bucket').map((b) => b.logicalId)).toEqual(['Bucket', 'Named']);
  });

  test('cross-stack references: Fn::GetStackOutput and Fn::ImportValue resolve to the other stack output', () => {
    const roleArn = s.resolve('app-dev-host', { 'Fn::GetAtt': ['Role', 'Arn'] });
    expect(roleArn).toMatch(/^arn:aws:iam::111122223333:role\/app-dev-host-Role-[0-9A-F]{12}$/);
    expect(r({ 'Fn::GetStackOutput': { StackName: 'app-dev-host', Region: 'us-east-1', OutputName: 'RoleArn' } })).toBe(roleArn);
    expect(r({ 'Fn::ImportValue': 'app-dev-host:RoleArn' })).toBe(roleArn);
  });

  test('what it does not know is an error naming it, never a guess', () => {
    expect(() => r({ 'Fn::Transform': {} })).toThrow('cfn-resolve: Fn::Transform is not known');
    expect(() => r({ Ref: 'Nothing' })).toThrow('cfn-resolve: Ref Nothing is neither a pseudo parameter, a parameter nor a resource of app-dev-data');
    expect(() => r({ 'Fn::GetAtt': ['Instance', 'PrivateIp'] })).toThrow('cfn-resolve: Fn::GetAtt Instance.PrivateIp of AWS::EC2::Instance is not known');
    expect(() => r({ 'Fn::ImportValue': 'missing' })).toThrow('cfn-resolve: no stack exports missing');
  });
});
