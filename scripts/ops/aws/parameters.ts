import {
  DescribeParametersCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  type PutParameterCommandInput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { ParameterFact } from '../commands/secrets';

/*
 * The ops CLI's only contact with Parameter Store values. Metadata (names, versions, who) comes
 * from DescribeParameters, which never returns values; a value is read only by `ops rotate`, to
 * put it back if the rotation fails, and is never printed.
 */

/** Metadata of every parameter directly under `path` (no values). */
export async function describeSecrets(client: SSMClient, path: string): Promise<ParameterFact[]> {
  const facts: ParameterFact[] = [];
  let NextToken: string | undefined;
  do {
    const page = await client.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Option: 'OneLevel', Values: [path.replace(/\/$/, '')] }], NextToken }),
    );
    for (const p of page.Parameters ?? []) {
      if (p.Name) facts.push({ name: p.Name, version: p.Version ?? 0, lastModified: p.LastModifiedDate, lastModifiedBy: p.LastModifiedUser });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return facts;
}

/** The current value and version of a parameter, or undefined when it does not exist. */
export async function readSecret(client: SSMClient, name: string): Promise<{ value: string; version: number } | undefined> {
  try {
    const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    return out.Parameter?.Value === undefined ? undefined : { value: out.Parameter.Value, version: out.Parameter.Version ?? 0 };
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

/** Writes a new version; returns its number. */
export async function writeSecret(client: SSMClient, input: PutParameterCommandInput): Promise<number> {
  const out = await client.send(new PutParameterCommand(input));
  return out.Version ?? 0;
}
