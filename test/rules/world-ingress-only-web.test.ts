import * as ec2 from 'aws-cdk-lib/aws-ec2';
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
  test('COMPLIANT: 80 and 443 open to the world over IPv4 and IPv6, anything open to a private range', () => {
    expect(
      securityGroup((sg) => {
        sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80));
        sg.addIngressRule(ec2.Peer.anyIpv6(), ec2.Port.tcp(443));
        sg.addIngressRule(ec2.Peer.ipv4('10.0.0.0/8'), ec2.Port.tcp(22));
      }),
    ).toEqual([]);
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
  ])('NON_COMPLIANT: %s', (_name, open, rule) => {
    expect(securityGroup(open)).toEqual([{ rule, paths: ['Probe/Sg/Resource'] }]);
  });

  test('NON_COMPLIANT: a separate ingress resource (AWS::EC2::SecurityGroupIngress) open on 5432', () => {
    const { stack, violations } = ruleHarness();
    new ec2.CfnSecurityGroupIngress(stack, 'Ingress', { groupId: 'sg-123', ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIp: '0.0.0.0/0' });
    expect(violations()).toEqual([{ rule: 'Gitops-WorldIngressOnlyWeb[Ingress::0.0.0.0/0:tcp:5432-5432]', paths: ['Probe/Ingress'] }]);
  });
});
