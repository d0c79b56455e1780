/**
 * EC2 instance types this project knows: the stacks pick the AMI by architecture, the schema asks
 * for swap below 2 GiB, and the cost estimate (lib/cost/estimate.ts, PRICES.ec2Hourly)
 * has an hourly price for each; a test keeps that price table and this list equal. To offer another
 * type, add it here with its memory and add its price there.
 */
export const INSTANCE_TYPES = {
  't4g.nano': { memoryGiB: 0.5 },
  't4g.micro': { memoryGiB: 1 },
  't4g.small': { memoryGiB: 2 },
  't4g.medium': { memoryGiB: 4 },
  't4g.large': { memoryGiB: 8 },
  't3.micro': { memoryGiB: 1 },
  't3.small': { memoryGiB: 2 },
  't3.medium': { memoryGiB: 4 },
  't3a.medium': { memoryGiB: 4 },
  'm7g.large': { memoryGiB: 8 },
} as const satisfies Record<string, { readonly memoryGiB: number }>;

export type KnownInstanceType = keyof typeof INSTANCE_TYPES;

export function isKnownInstanceType(type: string): type is KnownInstanceType {
  return Object.hasOwn(INSTANCE_TYPES, type);
}
