/*
 * EBS volumes grow in place and never shrink: CloudFormation fails the data stack's update (and
 * rolls back) when `Size` goes down. The config alone cannot tell a shrink from a first size, so
 * the pull-request review compares the base and head templates and reports a shrink as an error.
 */

interface TemplateLike {
  readonly Resources?: Record<string, { readonly Type?: string; readonly Properties?: { readonly Size?: unknown } }>;
}

/** One data volume whose size went down between two synthesized templates of the same stack. */
export interface VolumeShrink {
  readonly logicalId: string;
  readonly fromGiB: number;
  readonly toGiB: number;
}

/** The EBS volumes of `head` that are smaller than the same logical id in `base`. */
export function dataVolumeShrinks(base: TemplateLike, head: TemplateLike): VolumeShrink[] {
  const shrinks: VolumeShrink[] = [];
  for (const [logicalId, resource] of Object.entries(head.Resources ?? {})) {
    if (resource.Type !== 'AWS::EC2::Volume') continue;
    const before = base.Resources?.[logicalId]?.Properties?.Size;
    const after = resource.Properties?.Size;
    if (typeof before === 'number' && typeof after === 'number' && after < before) shrinks.push({ logicalId, fromGiB: before, toGiB: after });
  }
  return shrinks;
}

/** One line per shrink, naming the config key and what to do instead. */
export function formatShrinks(stack: string, shrinks: readonly VolumeShrink[]): string[] {
  return shrinks.map(
    (s) =>
      `${stack}: data volume ${s.logicalId} would shrink from ${s.fromGiB} GiB to ${s.toGiB} GiB; EBS cannot shrink a volume: keep dataVolume.sizeGiB at ${s.fromGiB} or more (to move to a smaller volume, restore a backup onto a new one)`,
  );
}
