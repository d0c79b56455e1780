import { RegionInfo } from 'aws-cdk-lib/region-info';

/**
 * Partitions whose regions an environment may name: the commercial one and GovCloud. The
 * isolated and China partitions need their own OIDC provider, endpoints and price list, which
 * this project does not carry.
 */
const SUPPORTED_PARTITIONS: readonly string[] = ['aws', 'aws-us-gov'];

/**
 * AWS regions an environment may name, from aws-cdk-lib's offline region table (the one CDK
 * itself uses), so validating a config never needs network access or credentials and a new
 * region arrives with an aws-cdk-lib upgrade.
 */
export const AWS_REGIONS: readonly string[] = RegionInfo.regions
  .filter((r) => r.partition !== undefined && SUPPORTED_PARTITIONS.includes(r.partition))
  .map((r) => r.name);
