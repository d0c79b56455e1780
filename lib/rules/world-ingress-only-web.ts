import type { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance, type NagRuleResult } from './nag';
import { type ProjectRule, resolvedProperty } from './project-rule';

/** The only ports the internet may reach: the host serves HTTP and HTTPS itself, and nothing else. */
export const WORLD_OPEN_PORTS: readonly number[] = [80, 443];

/**
 * The widest source range that is not "the internet", by address family. Anything wider counts as
 * the whole internet: `0.0.0.0/1` plus `128.0.0.0/1` open a port to every IPv4 address as surely as
 * `0.0.0.0/0` does. An IPv4 /8 (16.7 million addresses: a former class A, and as large as the
 * private 10.0.0.0/8) and an IPv6 /32 (a whole ISP's standard allocation) are the limits.
 */
export const WIDEST_NON_WORLD_PREFIX = { ipv4: 8, ipv6: 32 } as const;

interface IngressRule {
  readonly IpProtocol?: unknown;
  readonly FromPort?: unknown;
  readonly ToPort?: unknown;
  readonly CidrIp?: unknown;
  readonly CidrIpv6?: unknown;
}

/**
 * Whether a source range counts as the internet: wider than `WIDEST_NON_WORLD_PREFIX` for its
 * family. A string that is not `<address>/<prefix>` counts too (CloudFormation would reject it;
 * the rule does not guess in its favour).
 */
export function isWorldRange(cidr: string, family: 'ipv4' | 'ipv6'): boolean {
  const match = /^[^/]+\/(\d{1,3})$/.exec(cidr.trim());
  if (!match) return true;
  return Number(match[1]) < WIDEST_NON_WORLD_PREFIX[family];
}

/** Finding id of an ingress rule open to the world on anything but one of `WORLD_OPEN_PORTS` over TCP. */
function worldIngressFinding(rule: IngressRule): string | undefined {
  // Unresolved values (a VPC's CIDR by reference, a prefix list) name a range, never the world.
  const world = (
    [
      [rule.CidrIp, 'ipv4'],
      [rule.CidrIpv6, 'ipv6'],
    ] as const
  ).find(([cidr, family]) => typeof cidr === 'string' && isWorldRange(cidr, family));
  if (!world) return undefined;
  const protocol = String(rule.IpProtocol).toLowerCase();
  const from = Number(rule.FromPort);
  const to = Number(rule.ToPort);
  const web = (protocol === 'tcp' || protocol === '6') && from === to && WORLD_OPEN_PORTS.includes(from);
  return web ? undefined : `Ingress::${world[0]}:${rule.IpProtocol}:${rule.FromPort ?? 'all'}-${rule.ToPort ?? 'all'}`;
}

/**
 * Ingress from the internet (any range wider than `WIDEST_NON_WORLD_PREFIX`) only on TCP 80 and
 * 443, inline or as a separate ingress resource.
 */
export const worldIngressOnlyWeb: ProjectRule = {
  id: 'WorldIngressOnlyWeb',
  info: `The security group admits the internet (a range wider than IPv4 /${WIDEST_NON_WORLD_PREFIX.ipv4} or IPv6 /${WIDEST_NON_WORLD_PREFIX.ipv6}) on a port other than TCP ${WORLD_OPEN_PORTS.join(' and ')}.`,
  explanation:
    'The host is reached through SSM, never SSH; only the web ports it serves are public. A port opened to 0.0.0.0/0, ::/0 or any other very wide range (0.0.0.0/1 + 128.0.0.0/1 is the whole internet too) by mistake (22, a database, all traffic) is an open door.',
  check(node: CfnResource): NagRuleResult {
    let rules: IngressRule[];
    if (node.cfnResourceType === 'AWS::EC2::SecurityGroup') rules = resolvedProperty<IngressRule[]>(node, 'SecurityGroupIngress') ?? [];
    else if (node.cfnResourceType === 'AWS::EC2::SecurityGroupIngress') {
      rules = [
        {
          IpProtocol: resolvedProperty(node, 'IpProtocol'),
          FromPort: resolvedProperty(node, 'FromPort'),
          ToPort: resolvedProperty(node, 'ToPort'),
          CidrIp: resolvedProperty(node, 'CidrIp'),
          CidrIpv6: resolvedProperty(node, 'CidrIpv6'),
        },
      ];
    } else return NagRuleCompliance.NOT_APPLICABLE;
    const findings = [...new Set(rules.map(worldIngressFinding).filter((f): f is string => f !== undefined))];
    return findings.length > 0 ? findings : NagRuleCompliance.COMPLIANT;
  },
};
