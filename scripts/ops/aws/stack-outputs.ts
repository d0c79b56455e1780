import { type CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';

/** The outputs of a deployed stack by output key. Throws a message naming the stack when it is missing. */
export async function stackOutputs(client: CloudFormationClient, stackName: string): Promise<Record<string, string>> {
  let outputs: Output[];
  try {
    const result = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = result.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    if ((error as Error).name === 'ValidationError') {
      throw new Error(`stack ${stackName} is not deployed in this account and region (deploy it with: npx cdk deploy ${stackName})`);
    }
    throw error;
  }
  const entries: [string, string][] = [];
  for (const { OutputKey, OutputValue } of outputs) if (OutputKey && OutputValue) entries.push([OutputKey, OutputValue]);
  return Object.fromEntries(entries);
}

/** One output, or an error naming the stack and the key. */
export function requireOutput(outputs: Readonly<Record<string, string>>, stackName: string, key: string): string {
  const value = outputs[key];
  if (!value) throw new Error(`stack ${stackName} has no output ${key}; was it deployed from this version of the code?`);
  return value;
}
