import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { isWorldRange, WIDEST_NON_WORLD_PREFIX } from '../../lib/rules/world-ingress-only-web';
import { ruleHarness } from './rule-harness';

function securityGroup(open: (sg: ec2.SecurityGroup) => void) {
  const { stack, violations } = ruleHarness();
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    natGateways: 0,
    maxAzs: 1,
    subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PUBLIC }],
    restrictDefaultSecurityGroup: false,
  });
  const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc, allowAllOutbound: true });
  open(sg);
  return violations();
}

describe('Gitops-WorldIngressOnlyWeb', () => {
  test('COMPLIANT: 80 and 443 open to the world over IPv4 and IPv6 (also as wide halves), anything open to a range no wider than the limit', () => {
    expect(
      securityGroup((sg) => {
        sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80));
        sg.addIngressRule(ec2.Peer.anyIpv6(), ec2.Port.tcp(443));
        // Wide ranges are "the world", and the world may reach the web ports.
        sg.addIngressRule(ec2.Peer.ipv4('0.0.0.0/1'), ec2.Port.tcp(443));
        sg.addIngressRule(ec2.Peer.ipv6('2000::/3'), ec2.Port.tcp(80));
        // Exactly at the limit: an IPv4 /8 and an IPv6 /32 are not the world.
        sg.addIngressRule(ec2.Peer.ipv4('10.0.0.0/8'), ec2.Port.tcp(22));
        sg.addIngressRule(ec2.Peer.ipv6('2001:db8::/32'), ec2.Port.tcp(5432));
      }),
    ).toEqual([]);
  });

  test('the documented limit: wider than IPv4 /8 or IPv6 /32 is the world; a string that is no CIDR counts as the world', () => {
    expect(WIDEST_NON_WORLD_PREFIX).toEqual({ ipv4: 8, ipv6: 32 });
    expect(['0.0.0.0/0', '0.0.0.0/1', '128.0.0.0/1', '11.0.0.0/7', '0.0.0.0'].map((c) => isWorldRange(c, 'ipv4'))).toEqual([true, true, true, true, true]);
    expect(['10.0.0.0/8', '203.0.113.0/24', '192.0.2.1/32'].map((c) => isWorldRange(c, 'ipv4'))).toEqual([false, false, false]);
    expect(['::/0', '2000::/3', '2001:db8::/31'].map((c) => isWorldRange(c, 'ipv6'))).toEqual([true, true, true]);
    expect(['2001:db8::/32', 'fd00:1::/48'].map((c) => isWorldRange(c, 'ipv6'))).toEqual([false, false]);
  });

  test.each<[string, (sg: ec2.SecurityGroup) => void, string]>([
    ['SSH to 0.0.0.0/0', (sg) => sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22)), 'Gitops-WorldIngressOnlyWeb[Ingress::0.0.0.0/0:tcp:22-22]'],
    ['all traffic from ::/0', (sg) => sg.addIngressRule(ec2.Peer.anyIpv6(), ec2.Port.allTraffic()), 'Gitops-WorldIngressOnlyWeb[Ingress::::/0:-1:all-all]'],
    [
      'a port range spanning 80',
      (sg) => sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcpRange(80, 443)),
      'Gitops-WorldIngressOnlyWeb[Ingress::0.0.0.0/0:tcp:80-443]',
    ],
    ['UDP 443', (sg) => sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.udp(443)), 'Gitops-WorldIngressOnlyWeb[Ingress::0.0.0.0/0:udp:443-443]'],
    [
      'Postgres to 11.0.0.0/7 (wider than /8)',
      (sg) => sg.addIngressRule(ec2.Peer.ipv4('11.0.0.0/7'), ec2.Port.tcp(5432)),
      'Gitops-WorldIngressOnlyWeb[Ingress::11.0.0.0/7:tcp:5432-5432]',
    ],
    [
      'SSH to 2000::/3 (all of IPv6 unicast)',
      (sg) => sg.addIngressRule(ec2.Peer.ipv6('2000::/3'), ec2.Port.tcp(22)),
      'Gitops-WorldIngressOnlyWeb[Ingress::2000::/3:tcp:22-22]',
    ],
  ])('NON_COMPLIANT: %s', (_name, open, rule) => {
    expect(securityGroup(open)).toEqual([{ rule, paths: ['Probe/Sg/Resource'] }]);
  });

  test('NON_COMPLIANT: 0.0.0.0/1 + 128.0.0.0/1, the whole internet in two halves, each named', () => {
    expect(
      securityGroup((sg) => {
        sg.addIngressRule(ec2.Peer.ipv4('0.0.0.0/1'), ec2.Port.tcp(22));
        sg.addIngressRule(ec2.Peer.ipv4('128.0.0.0/1'), ec2.Port.tcp(22));
      }),
    ).toEqual([
      { rule: 'Gitops-WorldIngressOnlyWeb[Ingress::0.0.0.0/1:tcp:22-22]', paths: ['Probe/Sg/Resource'] },
      { rule: 'Gitops-WorldIngressOnlyWeb[Ingress::128.0.0.0/1:tcp:22-22]', paths: ['Probe/Sg/Resource'] },
    ]);
  });

  test('NON_COMPLIANT: a separate ingress resource (AWS::EC2::SecurityGroupIngress) open on 5432', () => {
    const { stack, violations } = ruleHarness();
    new ec2.CfnSecurityGroupIngress(stack, 'Ingress', { groupId: 'sg-123', ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIp: '0.0.0.0/0' });
    expect(violations()).toEqual([{ rule: 'Gitops-WorldIngressOnlyWeb[Ingress::0.0.0.0/0:tcp:5432-5432]', paths: ['Probe/Ingress'] }]);
  });

  test('a separate ingress resource: "TCP" in capitals on 443 is the web port; from a /4 on 3389 it is not', () => {
    const { stack, violations } = ruleHarness();
    new ec2.CfnSecurityGroupIngress(stack, 'Web', { groupId: 'sg-123', ipProtocol: 'TCP', fromPort: 443, toPort: 443, cidrIp: '0.0.0.0/0' });
    new ec2.CfnSecurityGroupIngress(stack, 'Rdp', { groupId: 'sg-123', ipProtocol: 'tcp', fromPort: 3389, toPort: 3389, cidrIp: '64.0.0.0/4' });
    expect(violations()).toEqual([{ rule: 'Gitops-WorldIngressOnlyWeb[Ingress::64.0.0.0/4:tcp:3389-3389]', paths: ['Probe/Rdp'] }]);
  });
});
