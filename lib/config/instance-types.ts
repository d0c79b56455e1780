/**
 * EC2 instance types this project knows: the stacks pick the AMI by architecture, the schema asks
 * for swap below 2 GiB, and the cost estimate (lib/cost/estimate.ts, PRICES.ec2Hourly)
 * has an hourly price for each; a test keeps that price table and this list equal. To offer another
 * type, add it here with its memory and add its price there.
 */
export const INSTANCE_TYPES = {
  't4g.nano': { memoryGiB: 0.5, arch: 'arm64' },
  't4g.micro': { memoryGiB: 1, arch: 'arm64' },
  't4g.small': { memoryGiB: 2, arch: 'arm64' },
  't4g.medium': { memoryGiB: 4, arch: 'arm64' },
  't4g.large': { memoryGiB: 8, arch: 'arm64' },
  'c6g.medium': { memoryGiB: 2, arch: 'arm64' },
  'c7g.medium': { memoryGiB: 2, arch: 'arm64' },
  'm6g.medium': { memoryGiB: 4, arch: 'arm64' },
  'm7g.medium': { memoryGiB: 4, arch: 'arm64' },
  't3.micro': { memoryGiB: 1, arch: 'x86_64' },
  't3.small': { memoryGiB: 2, arch: 'x86_64' },
  't3.medium': { memoryGiB: 4, arch: 'x86_64' },
  't3a.medium': { memoryGiB: 4, arch: 'x86_64' },
  'm7g.large': { memoryGiB: 8, arch: 'arm64' },
} as const satisfies Record<string, { readonly memoryGiB: number; readonly arch: 'arm64' | 'x86_64' }>;

export type KnownInstanceType = keyof typeof INSTANCE_TYPES;

export function isKnownInstanceType(type: string): type is KnownInstanceType {
  return Object.hasOwn(INSTANCE_TYPES, type);
}

/** Most types a Spot host is spread over: a few pools are enough for one instance. */
export const MAX_SPOT_TYPES = 4;

/**
 * The types a Spot host may run on: the configured type first, then every other known type of the
 * same architecture (one AMI) and the same memory (the swap rule and the app's memory stay true),
 * at most MAX_SPOT_TYPES. For 1 GiB arm64 that is t4g.micro alone: no other Graviton type has 1 GiB.
 */
export function spotInstanceTypes(type: KnownInstanceType): KnownInstanceType[] {
  const { memoryGiB, arch } = INSTANCE_TYPES[type];
  const same = (Object.keys(INSTANCE_TYPES) as KnownInstanceType[]).filter(
    (other) => other !== type && INSTANCE_TYPES[other].arch === arch && INSTANCE_TYPES[other].memoryGiB === memoryGiB,
  );
  return [type, ...same].slice(0, MAX_SPOT_TYPES);
}
