/*
 * What CloudFormation does to a resource's data, asked of the CloudFormation resource
 * specification that @aws-cdk/cloudformation-diff itself reads (`loadResourceModel`, one cached
 * database), not of a list kept beside it: which types hold data (`isStateful`), which property
 * changes replace a resource (`causesReplacement`), and the documented DeletionPolicy and
 * UpdateReplacePolicy rules.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatereplacepolicy.html
 */
import { loadResourceModel } from '@aws-cdk/cloudformation-diff/lib/diff/util';
import { renderIntrinsics } from '@aws-cdk/cloudformation-diff/lib/render-intrinsics';

/** The resource specification's own word: replacing or deleting a resource of this type loses data. */
export function holdsData(type: string): boolean {
  return loadResourceModel(type)?.isStateful === true;
}

/** `yes`, `maybe` or `no`: whether a change of a top-level property replaces the resource. */
export function replacementOf(type: string, property: string): 'yes' | 'maybe' | 'no' {
  const causes = loadResourceModel(type)?.properties?.[property]?.causesReplacement;
  return causes === 'yes' || causes === 'maybe' ? causes : 'no';
}

/** What a resource of a type holds, in words, for "what happens to its data". */
export function dataOf(type: string): string {
  switch (type) {
    case 'AWS::EC2::Volume':
      return 'the data on the volume';
    case 'AWS::S3::Bucket':
      return 'the objects in the bucket';
    case 'AWS::Logs::LogGroup':
      return 'the log events kept';
    case 'AWS::RDS::DBInstance':
    case 'AWS::RDS::DBCluster':
      return 'the database';
    case 'AWS::DynamoDB::Table':
      return 'the items in the table';
    default:
      return 'its data';
  }
}

/** A DeletionPolicy or UpdateReplacePolicy value. */
export type RetentionPolicy = 'Delete' | 'Retain' | 'RetainExceptOnCreate' | 'Snapshot';

/**
 * The DeletionPolicy CloudFormation applies: the attribute, else Snapshot for RDS clusters and for
 * RDS instances outside a cluster (CloudFormation's documented default), else Delete.
 */
export function deletionPolicyOf(resource: {
  readonly Type?: string;
  readonly DeletionPolicy?: unknown;
  readonly Properties?: Record<string, unknown>;
}): RetentionPolicy {
  const explicit = resource.DeletionPolicy;
  if (explicit === 'Retain' || explicit === 'RetainExceptOnCreate' || explicit === 'Snapshot' || explicit === 'Delete') return explicit;
  if (resource.Type === 'AWS::RDS::DBCluster') return 'Snapshot';
  if (resource.Type === 'AWS::RDS::DBInstance' && resource.Properties?.DBClusterIdentifier === undefined) return 'Snapshot';
  return 'Delete';
}

/** The UpdateReplacePolicy CloudFormation applies to the old resource of a replacement (default Delete). */
export function updateReplacePolicyOf(resource: object | undefined): RetentionPolicy {
  const value = (resource as { readonly UpdateReplacePolicy?: unknown } | undefined)?.UpdateReplacePolicy;
  return value === 'Retain' || value === 'Snapshot' || value === 'RetainExceptOnCreate' ? value : 'Delete';
}

/** What a retention policy does to an old resource and its data, in words. */
export function fateOf(
  policy: RetentionPolicy,
  data: string,
  attribute: 'DeletionPolicy' | 'UpdateReplacePolicy',
): { readonly kept: boolean; readonly text: string } {
  switch (policy) {
    case 'Retain':
    case 'RetainExceptOnCreate':
      return { kept: true, text: `${attribute} ${policy}: CloudFormation leaves it in the account, unmanaged, with ${data}` };
    case 'Snapshot':
      return { kept: false, text: `${attribute} Snapshot: CloudFormation takes a final snapshot, then deletes it; ${data} survives only in that snapshot` };
    default:
      return { kept: false, text: `${attribute} ${policy}: CloudFormation deletes it; ${data} is lost` };
  }
}

/**
 * A template value as text a reviewer reads: intrinsics rendered as cloudformation-diff renders
 * them (`${Ref}`, `${Res.Attr}`, `Fn::Join` evaluated), anything it leaves as an object as compact
 * JSON, never `[object Object]`.
 */
export function renderValue(value: unknown): string {
  const rendered = renderIntrinsics(value);
  if (typeof rendered === 'string') return rendered;
  if (rendered === undefined || rendered === null) return '';
  return JSON.stringify(rendered);
}
