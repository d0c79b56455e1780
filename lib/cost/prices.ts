/*
 * The one price table of the cost estimate, and the usage it assumes where a template states none.
 * Every test expectation of lib/cost/estimate.ts is computed from these numbers.
 */

/**
 * On-demand us-east-1 list prices in USD.
 * Source: AWS's public pricing pages, recorded on `recorded`:
 * https://aws.amazon.com/ec2/pricing/on-demand/, https://aws.amazon.com/ebs/pricing/,
 * https://aws.amazon.com/vpc/pricing/ (public IPv4), https://aws.amazon.com/route53/pricing/,
 * https://aws.amazon.com/cloudwatch/pricing/, https://aws.amazon.com/s3/pricing/.
 * AWS changes them rarely; check the pages before relying on a cent.
 */
export const PRICES = {
  recorded: '2026-11-24',
  source: 'AWS public pricing pages (EC2 on-demand, EBS, VPC public IPv4, Route53, CloudWatch, S3), us-east-1',
  /** EC2 Linux on-demand, per instance-hour. */
  ec2Hourly: {
    't4g.nano': 0.0042,
    't4g.micro': 0.0084,
    't4g.small': 0.0168,
    't4g.medium': 0.0336,
    't4g.large': 0.0672,
    'c6g.medium': 0.034,
    'c7g.medium': 0.0363,
    'm6g.medium': 0.0385,
    'm7g.medium': 0.0408,
    't3.micro': 0.0104,
    't3.small': 0.0208,
    't3.medium': 0.0416,
    't3a.medium': 0.0376,
    'm7g.large': 0.0816,
  } as Readonly<Record<string, number>>,
  /** EBS storage per GiB-month, by volume type (gp3: baseline 3,000 IOPS and 125 MB/s included). */
  ebsGbMonth: { gp3: 0.08, gp2: 0.1 } as Readonly<Record<string, number>>,
  /** EBS snapshot storage (standard tier), per GB-month of data stored. */
  ebsSnapshotGbMonth: 0.05,
  /** Public IPv4 address (Elastic IP attached or idle), per hour. */
  publicIpv4Hourly: 0.005,
  /** Route53 basic health check of an AWS endpoint (the environment's Elastic IP, same account), per month. */
  healthCheckAwsEndpoint: 0.5,
  /** Route53 optional feature (HTTPS, string match, fast interval, latency) on an AWS endpoint, per month each. */
  healthCheckOptionalFeature: 1.0,
  /** Route53 hosted zone, per month (first 25 zones). */
  hostedZoneMonth: 0.5,
  /** CloudWatch standard-resolution alarm, per alarm-month. */
  alarmMonth: 0.1,
  /** CloudWatch custom metric (a namespace outside `AWS/`, e.g. the agent's disk_used_percent), per metric-month. */
  customMetricMonth: 0.3,
  /** CloudWatch Logs ingestion (standard class), per GB. */
  logsIngestGb: 0.5,
  /** CloudWatch Logs storage, per GB-month. */
  logsStoredGbMonth: 0.03,
  /** S3 storage per GB-month, by storage class. */
  s3GbMonth: { STANDARD: 0.023, STANDARD_IA: 0.0125 } as Readonly<Record<string, number>>,
  /** S3 Standard PUT requests, per 1,000 (one per backup uploaded). */
  s3PutPer1000: 0.005,
  /** S3 lifecycle transitions to Standard-IA, per 1,000 objects. */
  s3TransitionIaPer1000: 0.01,
  /**
   * CloudWatch's always-free tier, per account and month (not the 12-month new-account tier):
   * 10 alarms, 10 custom metrics, 5 GB of log data.
   */
  cloudwatchFreeTier: { alarms: 10, customMetrics: 10, logsGb: 5 },
} as const;

/**
 * EC2 Spot prices per instance-hour, by region and type: what a Spot host (instance.purchase: spot)
 * is priced at. Spot prices move with supply and demand; these are typical of the recorded week,
 * rounded up, not a quote. Refresh them with
 * `aws ec2 describe-spot-price-history --region us-east-1 --product-descriptions Linux/UNIX --instance-types <type> --start-time <date>`.
 */
export const SPOT_PRICES = {
  recorded: '2026-12-06',
  source:
    'EC2 Spot price history (Linux/UNIX, us-east-1, all zones; typical of the recorded week, rounded up) as summarised by the Spot Instance Advisor: approximate, not fetched by this estimate',
  hourly: {
    'us-east-1': {
      't4g.nano': 0.0014,
      't4g.micro': 0.0028,
      't4g.small': 0.0056,
      't4g.medium': 0.0112,
      't4g.large': 0.0224,
      'c6g.medium': 0.0145,
      'c7g.medium': 0.0155,
      'm6g.medium': 0.0165,
      'm7g.medium': 0.0175,
      't3.micro': 0.0035,
      't3.small': 0.007,
      't3.medium': 0.014,
      't3a.medium': 0.0125,
      'm7g.large': 0.035,
    } as Readonly<Record<string, number>>,
  } as Readonly<Record<string, Readonly<Record<string, number>>>>,
} as const;

/**
 * Resource types that cost nothing at this project's volume, with the reason. A type neither
 * priced by the estimator nor listed here is reported as "not estimated", never as zero.
 */
export const FREE_TYPES: Readonly<Record<string, string>> = {
  'AWS::EC2::VPC': 'no charge',
  'AWS::EC2::Subnet': 'no charge',
  'AWS::EC2::RouteTable': 'no charge',
  'AWS::EC2::SubnetRouteTableAssociation': 'no charge',
  'AWS::EC2::Route': 'no charge',
  'AWS::EC2::InternetGateway': 'no charge (data transfer not estimated)',
  'AWS::EC2::VPCGatewayAttachment': 'no charge',
  'AWS::EC2::SecurityGroup': 'no charge',
  'AWS::EC2::SecurityGroupIngress': 'no charge',
  'AWS::EC2::SecurityGroupEgress': 'no charge',
  'AWS::EC2::LaunchTemplate': 'no charge (its instance and root volume are priced with the Auto Scaling group)',
  'AWS::AutoScaling::LifecycleHook': 'no charge',
  'AWS::IAM::Role': 'no charge',
  'AWS::IAM::Policy': 'no charge',
  'AWS::IAM::ManagedPolicy': 'no charge',
  'AWS::IAM::InstanceProfile': 'no charge',
  'AWS::IAM::OIDCProvider': 'no charge',
  'AWS::Route53::RecordSet': 'records are free; queries to AWS resources (alias/A to an EIP) are not estimated',
  'AWS::SSM::Document': 'no charge (Run Command on EC2 is free)',
  'AWS::S3::BucketPolicy': 'no charge',
  'AWS::SNS::Topic': 'first 1,000 e-mail notifications a month free',
  'AWS::SNS::TopicPolicy': 'no charge',
  'AWS::SNS::Subscription': 'no charge',
  'AWS::Scheduler::Schedule': '14 million invocations a month free',
  'AWS::Budgets::Budget': 'the first two budgets without actions are free',
  'AWS::CE::AnomalyMonitor': 'no charge',
  'AWS::CE::AnomalySubscription': 'no charge',
  'AWS::CDK::Metadata': 'deploys nothing billable',
};

/** Usage no template states: the estimate's assumptions, in one place. */
export const ASSUMPTIONS = {
  /** AWS bills a month as 730 hours. */
  hoursPerMonth: 730,
  /** Container and system logs shipped by a host that runs all month, in GB (pro rata for a scheduled host). */
  logGbPerFullMonth: 0.5,
  /**
   * Size of one compressed backup (Postgres dump and Redis AOF), in GB: 8.7 MB was measured for a
   * 36 MB database of 100,000 users and their tokens (docs/cost.md); a larger database scales it.
   * Each run of the backup timer uploads one, kept until the bucket's expiration.
   */
  backupGb: 0.009,
  /** Backups a day when the backup document's schedule cannot be read (`daily`). */
  backupsPerDayUnknown: 1,
  /**
   * EBS snapshots are incremental: the oldest kept snapshot holds the volume's used blocks, each
   * later one only the blocks written since the one before. Used: what the data volume holds
   * (PostgreSQL, Redis, the state files: 36 MB of database measured, docs/cost.md), rounded up to
   * 1 GB. Changed: blocks PostgreSQL and Redis rewrite a day, assumed 0.25 GB (seven times the
   * measured database). Never more than every block of every kept snapshot.
   */
  snapshotUsedGb: 1,
  snapshotChangedGbPerDay: 0.25,
} as const;
