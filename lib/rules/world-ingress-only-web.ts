import type { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance, type NagRuleResult } from './nag';
import { type ProjectRule, resolvedProperty } from './project-rule';

/** The only ports the internet may reach: the host serves HTTP and HTTPS itself, and nothing else. */
export const WORLD_OPEN_PORTS: readonly number[] = [80, 443];

interface IngressRule {
  readonly IpProtocol?: unknown;
  readonly FromPort?: unknown;
  readonly ToPort?: unknown;
  readonly CidrIp?: unknown;
  readonly CidrIpv6?: unknown;
}

const WORLD = new Set(['0.0.0.0/0', '::/0']);

/** Finding id of an ingress rule open to the world on anything but one of `WORLD_OPEN_PORTS` over TCP. */
function worldIngressFinding(rule: IngressRule): string | undefined {
  const cidr = [rule.CidrIp, rule.CidrIpv6].find((c) => typeof c === 'string' && WORLD.has(c)) as string | undefined;
  if (!cidr) return undefined;
  const protocol = String(rule.IpProtocol);
  const from = Number(rule.FromPort);
  const to = Number(rule.ToPort);
  const web = (protocol === 'tcp' || protocol === '6') && from === to && WORLD_OPEN_PORTS.includes(from);
  return web ? undefined : `Ingress::${cidr}:${protocol}:${rule.FromPort ?? 'all'}-${rule.ToPort ?? 'all'}`;
}

/** Ingress open to `0.0.0.0/0` or `::/0` only on TCP 80 and 443, inline or as a separate ingress resource. */
export const worldIngressOnlyWeb: ProjectRule = {
  id: 'WorldIngressOnlyWeb',
  info: `The security group admits the whole internet on a port other than TCP ${WORLD_OPEN_PORTS.join(' and ')}.`,
  explanation:
    'The host is reached through SSM, never SSH; only the web ports it serves are public. A port opened to 0.0.0.0/0 or ::/0 by mistake (22, a database, all traffic) is an open door.',
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
