import * as logs from 'aws-cdk-lib/aws-logs';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { configWith, problemsOf, shippedConfigInput } from '../helpers/config-fixtures';

/*
 * Regions, log retentions, hostnames, e-mails and CIDRs come from kept libraries (aws-cdk-lib's
 * RegionInfo and logs.RetentionDays, zod 4's formats). GIVEN the shipped config with one value
 * changed, WHEN it is validated, THEN a good value passes and a bad one is reported with its key path.
 */

// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, changed on purpose
type Raw = Record<string, any>;

/** The shipped dev pins a zone of us-east-1; another region gets its own first zone so only the region is judged. */
function inRegion(region: string) {
  return (c: Raw) => {
    c.environments.dev.region = region;
    c.environments.dev.instance.availabilityZone = `${region}a`;
  };
}

function problemsWith(edit: (raw: Raw) => void): readonly string[] {
  const raw = shippedConfigInput();
  edit(raw);
  return problemsOf(raw);
}

describe('regions come from aws-cdk-lib RegionInfo', () => {
  test.each(['eu-west-1', 'ap-southeast-7', 'us-gov-west-1'])('accepts %s', (region) => {
    expect(configWith(inRegion(region)).environments.dev.region).toBe(region);
  });

  test('accepts every commercial region CDK knows', () => {
    const commercial = RegionInfo.regions.filter((r) => r.partition === 'aws').map((r) => r.name);
    expect(commercial.length).toBeGreaterThan(25);
    for (const region of commercial) expect(problemsWith(inRegion(region))).toEqual([]);
  });

  test.each([
    ['us-north-9', 'an unknown name'],
    ['cn-north-1', 'the China partition (its own OIDC provider and prices)'],
    ['us-iso-east-1', 'an isolated partition'],
    ['US-EAST-1', 'upper case'],
  ])('rejects %s (%s) naming the key path', (region) => {
    expect(problemsWith((c) => (c.environments.dev.region = region))).toEqual([
      `environments.dev.region: "${region}" is not a known AWS region (e.g. us-east-1)`,
    ]);
  });
});

describe('log retention comes from logs.RetentionDays', () => {
  test('accepts every value of the enum', () => {
    const values = Object.values(logs.RetentionDays).filter((v) => typeof v === 'number');
    expect(values).toContain(logs.RetentionDays.TWO_WEEKS);
    for (const days of values) expect(configWith((c) => (c.environments.prod.logs.retentionDays = days)).environments.prod.logs.retentionDays).toBe(days);
  });

  test.each([0, 2, 15, 366, 10000])('rejects %p and lists the accepted values', (days) => {
    expect(problemsWith((c) => (c.environments.prod.logs.retentionDays = days))).toEqual([
      `environments.prod.logs.retentionDays: ${days} is not a CloudWatch Logs retention (one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999)`,
    ]);
  });

  test('rejects a string naming the key path', () => {
    expect(problemsWith((c) => (c.environments.prod.logs.retentionDays = '14'))).toEqual([
      'environments.prod.logs.retentionDays: "14" must be a number of days',
    ]);
  });
});

describe('hostnames are zod hostnames with at least two labels', () => {
  test.each(['api.auraxis.com.br', 'API.Auraxis.com.br', 'xn--bcher-kva.auraxis.com.br'])('accepts %s', (domain) => {
    expect(problemsWith((c) => (c.environments.prod.kubernetes.host = domain))).toEqual([]);
  });

  test.each([
    'localhost',
    '1.2.3.4',
    'api.auraxis.com.br.',
    'api_auraxis.com.br',
    '-api.auraxis.com.br',
    `${'a'.repeat(64)}.auraxis.com.br`,
    '*.auraxis.com.br',
    'api.auraxis.123',
  ])('rejects %s naming the key path', (domain) => {
    expect(problemsWith((c) => (c.environments.prod.kubernetes.host = domain))).toEqual([
      `environments.prod.kubernetes.host: "${domain}" is not a hostname (e.g. api.example.com)`,
    ]);
  });

  test('the hosted zone name is checked the same way', () => {
    expect(problemsWith((c) => (c.environments.prod.hostedZone.name = 'localhost'))).toContain(
      'environments.prod.hostedZone.name: "localhost" is not a hostname (e.g. api.example.com)',
    );
  });
});

describe('e-mail addresses are zod e-mails', () => {
  test.each(['ops@auraxis.com.br', 'first.last+alarms@example.co'])('accepts %s', (address) => {
    expect(problemsWith((c) => (c.environments.prod.alarmEmail = address))).toEqual([]);
  });

  test.each(['ops@', 'ops-at-auraxis', 'ops@auraxis', 'ops @auraxis.com.br', '@auraxis.com.br'])('rejects %s naming the key path', (address) => {
    expect(problemsWith((c) => (c.costGuardrails.email = address))).toEqual([`costGuardrails.email: "${address}" is not an e-mail address`]);
  });
});

describe('CIDRs are zod IPv4 CIDRs', () => {
  test.each(['10.20.0.0/16', '172.16.0.0/12', '192.168.1.7/32'])('accepts %s', (cidr) => {
    expect(problemsWith((c) => (c.environments.prod.kubernetes.egress.postgres.cidrs = [cidr]))).toEqual([]);
  });

  test.each(['10.20.0.0', '10.20.0.0/33', '256.0.0.0/8', '10.20.0/16', 'fd00::/8'])('rejects %s naming the key path and index', (cidr) => {
    expect(problemsWith((c) => (c.environments.prod.kubernetes.egress.postgres.cidrs = [cidr]))).toEqual([
      `environments.prod.kubernetes.egress.postgres.cidrs[0]: "${cidr}" is not an IPv4 CIDR (e.g. 10.0.0.0/16)`,
    ]);
  });
});
