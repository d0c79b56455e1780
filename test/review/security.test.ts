import { withStagedScript } from '../../lib/host-runtime/documents';
import { internetRange, judgeIngress, judgeStatement } from '../../scripts/review/security';
import { PROD_HOST, reviewOf, rows, section } from './helpers';
import { scenario } from './scenario';

/*
 * Security judged, not only shown: each scenario plants the change a pull request would make and
 * expects its row with ⛔ or ⚠ and the reason, and the summary line counting it.
 */

/** The rows of the security table whose heading starts with `title`. */
function table(out: string, title: string): string[][] {
  const security = section(out, 2);
  const start = security.indexOf(`#### ${title}`);
  if (start < 0) return [];
  const end = security.indexOf('\n#### ', start + 1);
  return rows(security.slice(start, end < 0 ? undefined : end)).slice(1);
}

const INSTANCE_ROLE_POLICY = (r: { Type: string; Properties: { Roles?: unknown } }) =>
  r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('InstanceRole');

describe("a reviewer's branch: port 22 to the world, s3:GetObject on *, a NetworkPolicy egress to 0.0.0.0/0, a port opened in firewall.sh", () => {
  const s = scenario();
  const group = s.logicalId(PROD_HOST, 'AWS::EC2::SecurityGroup');
  s.template(PROD_HOST, (t) => {
    // The web rules are ingress resources of their own: the group has no inline list until this one.
    t.Resources[group].Properties.SecurityGroupIngress = t.Resources[group].Properties.SecurityGroupIngress ?? [];
    t.Resources[group].Properties.SecurityGroupIngress.push({ CidrIp: '0.0.0.0/0', Description: 'ssh', FromPort: 22, IpProtocol: 'tcp', ToPort: 22 });
    Object.values(t.Resources).find(INSTANCE_ROLE_POLICY)?.Properties.PolicyDocument.Statement.push({ Action: 's3:GetObject', Effect: 'Allow', Resource: '*' });
    const firewall = Object.values(t.Resources).find((r) => r.Type === 'AWS::SSM::Document' && r.Properties.Name === 'auraxis-prod-firewall');
    // firewall.sh is staged gzip'd and base64'd (lib/host-runtime/documents.ts): edited through its text.
    const inputs = firewall?.Properties.Content.mainSteps[0].inputs;
    inputs.runCommand = withStagedScript(inputs.runCommand, 'firewall.sh', (text) => text.replace(':-80/tcp 443/tcp}', ':-80/tcp 443/tcp 8443/tcp}'));
  });
  s.manifests('prod', (objects) => {
    const allow = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'auraxis-allow');
    const postgres = allow.spec.egress.find((e: { ports: { port: number }[] }) => e.ports[0].port === 5432);
    postgres.to = [{ ipBlock: { cidr: '0.0.0.0/0' } }];
  });
  const { code, out } = reviewOf(s);

  test('port 22 from everyone: ⛔ with the reason, and the check fails', () => {
    expect(table(out, 'Security-group rules')).toEqual([
      [
        '⛔',
        'prod',
        PROD_HOST,
        expect.stringMatching(/^security group \$\{HostSecurityGroup[0-9A-F]+\.GroupId\}$/),
        '+ ingress TCP 22 from Everyone (IPv4)',
        'SSH 22 open to the internet (`0.0.0.0/0`)',
      ],
    ]);
    expect(code).toBe(3);
  });

  test('s3:GetObject on any resource: ⚠', () => {
    expect(table(out, 'IAM statements')).toEqual([
      ['⚠', 'prod', PROD_HOST, expect.stringMatching(/^AWS:\$\{HostInstanceRole[0-9A-F]+\}$/), '+ Allow s3:GetObject on *', 'any resource (`*`)'],
    ]);
  });

  test('the widened NetworkPolicy: judged, and its YAML diff shown', () => {
    expect(table(out, 'Kubernetes (')).toEqual([
      ['⚠', 'prod', 'dist/prod', 'NetworkPolicy auraxis-prod/auraxis-allow', '~ changed', 'allows egress to any address (0.0.0.0/0)'],
    ]);
    expect(section(out, 2)).toContain('**prod** `NetworkPolicy auraxis-prod/auraxis-allow`');
    expect(section(out, 2)).toMatch(/\n- +cidr: 10\.20\.16\.0\/20\n\+ +cidr: 0\.0\.0\.0\/0\n/);
  });

  test('the port opened in firewall.sh: a diff of the script text', () => {
    const scripts = section(out, 2).slice(section(out, 2).indexOf('#### Host scripts'));
    expect(scripts).toContain('**prod** `auraxis-prod-firewall`');
    expect(scripts).toMatch(/\n-.*443\/tcp"?.*\n\+.*443\/tcp 8443\/tcp/);
    expect(scripts).not.toContain('"runCommand"');
  });

  test('the summary counts the security changes with their judgments', () => {
    expect(out).toContain('**Security: 3 changes (⛔ 1, ⚠ 2)**');
  });
});

describe('Kubernetes pod security', () => {
  test('a privileged container: ⛔, gated', () => {
    const s = scenario();
    s.manifests('prod', (objects) => {
      objects.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].securityContext.privileged = true;
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    expect(table(out, 'Kubernetes (')).toEqual([
      ['⛔', 'prod', 'dist/prod', 'Deployment auraxis-prod/auraxis', '~ pod template', 'container api is privileged: root on the node'],
    ]);
  });

  test('host namespaces, hostPath, added capabilities, root, a writable root filesystem and the API token: each judged', () => {
    const s = scenario();
    s.manifests('dev', (objects) => {
      const pod = objects.find((o) => o.kind === 'Deployment').spec.template.spec;
      pod.hostNetwork = true;
      pod.automountServiceAccountToken = true;
      pod.volumes.push({ name: 'docker', hostPath: { path: '/var/run/docker.sock' } });
      const context = pod.containers[0].securityContext;
      context.capabilities.add = ['NET_BIND_SERVICE', 'SYS_ADMIN'];
      context.runAsUser = 0;
      context.readOnlyRootFilesystem = false;
      context.allowPrivilegeEscalation = true;
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    expect(
      table(out, 'Kubernetes (')
        .map((r) => `${r[0]} ${r[5]}`)
        .sort(),
    ).toEqual(
      [
        "⛔ hostNetwork: the pod shares the node's network namespace",
        "⛔ hostPath volume docker (/var/run/docker.sock): the node's filesystem inside the pod",
        '⛔ container api adds capability SYS_ADMIN, which reaches beyond the container',
        '⛔ container api runs as root (runAsUser 0)',
        '⚠ container api adds capability NET_BIND_SERVICE',
        '⚠ container api can write its root filesystem (readOnlyRootFilesystem not true)',
        '⚠ container api may gain privileges (allowPrivilegeEscalation not false)',
        '⚠ the Kubernetes API token is mounted into the pod (automountServiceAccountToken not false): a compromised container can call the API',
      ].sort(),
    );
  });

  test('the default-deny NetworkPolicy removed: ⛔, gated', () => {
    const s = scenario();
    s.manifests('prod', (objects) => {
      objects.splice(
        objects.findIndex((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'default-deny'),
        1,
      );
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    expect(table(out, 'Kubernetes (')).toEqual([
      [
        '⛔',
        'prod',
        'dist/prod',
        'NetworkPolicy auraxis-prod/default-deny',
        '- removed',
        'the default deny is gone: every pod of the namespace accepts and sends any traffic no other policy limits',
      ],
    ]);
  });

  test('a disruption budget of 1 of 1 and a removed autoscaler: ⚠ each', () => {
    const s = scenario();
    s.manifests('dev', (objects) => {
      objects.push({
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'auraxis', namespace: 'auraxis-dev' },
        spec: { minAvailable: 1, selector: { matchLabels: { 'app.kubernetes.io/instance': 'auraxis-dev', 'app.kubernetes.io/name': 'auraxis' } } },
      });
    });
    s.manifests('prod', (objects) => {
      objects.splice(
        objects.findIndex((o) => o.kind === 'HorizontalPodAutoscaler'),
        1,
      );
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(0);
    expect(table(out, 'Kubernetes (')).toEqual([
      [
        '⚠',
        'dev',
        'dist/dev',
        'PodDisruptionBudget auraxis-dev/auraxis',
        '+ added',
        'minAvailable 1 of 1 replica of Deployment auraxis-dev/auraxis: no pod may be evicted, so every node drain (upgrades, scale-in) waits forever',
      ],
      [
        '⚠',
        'prod',
        'dist/prod',
        'HorizontalPodAutoscaler auraxis-prod/auraxis',
        '- removed',
        'autoscaling removed: Deployment auraxis stays at its fixed replica count under any load',
      ],
      // Without its autoscaler the Deployment runs its default single replica, which prod's budget of 2 now blocks.
      [
        '⚠',
        'prod',
        'dist/prod',
        'PodDisruptionBudget auraxis-prod/auraxis',
        '= unchanged (the replicas it protects changed)',
        'minAvailable 2 of 1 replica of Deployment auraxis-prod/auraxis: no pod may be evicted, so every node drain (upgrades, scale-in) waits forever',
      ],
    ]);
  });
});

describe('acknowledgements', () => {
  test('a new acknowledgement letting a wildcard through: listed with its reason; the ssm:* on * statement ⛔', () => {
    const s = scenario();
    s.template(PROD_HOST, (t) => {
      Object.values(t.Resources).find(INSTANCE_ROLE_POLICY)?.Properties.PolicyDocument.Statement.push({ Action: 'ssm:*', Effect: 'Allow', Resource: '*' });
    });
    s.metadata(PROD_HOST, (metadata) => {
      metadata['/auraxis-prod-host/Host/InstanceRole/DefaultPolicy'] = [
        { type: 'aws:cdk:acknowledged-rules', data: { 'Annotation::AwsSolutions-IAM5[Resource::*]': 'The agent needs it.' } },
      ];
    });
    const { code, out } = reviewOf(s);
    expect(code).toBe(3);
    expect(table(out, 'IAM statements')).toEqual([
      [
        '⛔',
        'prod',
        PROD_HOST,
        expect.stringMatching(/^AWS:\$\{HostInstanceRole/),
        '+ Allow ssm:* on *',
        'every ssm action on every resource (`ssm:*` on `*`)',
      ],
    ]);
    expect(table(out, 'cdk-nag and template-validation acknowledgements')).toEqual([
      [
        '⚠',
        'prod',
        PROD_HOST,
        'auraxis-prod-host/Host/InstanceRole/DefaultPolicy',
        '+ Annotation::AwsSolutions-IAM5[Resource::*]',
        'new acknowledgement; it covers a wildcard finding (Resource::*): “The agent needs it.”',
      ],
    ]);
    expect(out).toContain('**Security: 2 changes (⛔ 1, ⚠ 1)**');
  });

  test('an acknowledgement widened from one finding to the whole rule: ⚠ with the reason', () => {
    const s = scenario();
    s.metadata(PROD_HOST, (metadata) => {
      const entries = metadata['/auraxis-prod-host/DataVolumeAttachPolicy'];
      const entry = entries.find((e) => e.type === 'aws:cdk:acknowledged-rules');
      entry.data = { 'Annotation::AwsSolutions-IAM5': 'Everything on this role is fine.' };
    });
    const { out } = reviewOf(s);
    const acks = table(out, 'cdk-nag and template-validation acknowledgements');
    expect(acks[0]).toEqual([
      '⚠',
      'prod',
      PROD_HOST,
      'auraxis-prod-host/DataVolumeAttachPolicy',
      expect.stringMatching(/^\+ Annotation::AwsSolutions-IAM5 \(widened from Annotation::AwsSolutions-IAM5\[Resource::arn:aws:ec2:/),
      'now covers every Annotation::AwsSolutions-IAM5 finding on it: “Everything on this role is fine.”',
    ]);
  });
});

describe('judgments (tables of inputs)', () => {
  test.each([
    [{ effect: 'Allow', actions: ['*'], resources: ['*'], principals: [] }, 'block'],
    [{ effect: 'Allow', actions: ['SSM:*'], resources: ['*'], principals: [] }, 'block'],
    [{ effect: 'Allow', actions: ['s3:Get*'], resources: ['arn:aws:s3:::b/*'], principals: [] }, 'warn'],
    [{ effect: 'Allow', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'], principals: [] }, undefined],
    [{ effect: 'Allow', actions: ['sts:AssumeRole'], resources: [], principals: ['AWS:*'] }, 'block'],
    [{ effect: 'Allow', actions: ['s3:GetObject'], notActions: true, resources: ['x'], principals: [] }, 'block'],
    [{ effect: 'Deny', actions: ['*'], resources: ['*'], principals: [] }, undefined],
  ])('IAM %j → %s', (statement, severity) => {
    expect(judgeStatement(statement)?.severity).toBe(severity);
  });

  test.each([
    [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' }, undefined],
    [{ ipProtocol: 'tcp', fromPort: 8080, toPort: 8080, cidr: '0.0.0.0/0' }, 'warn'],
    [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidr: '0.0.0.0/1' }, 'block'],
    [{ ipProtocol: 'tcp', fromPort: 5000, toPort: 6000, cidr: '128.0.0.0/1' }, 'block'],
    [{ ipProtocol: '-1', cidr: '::/0' }, 'block'],
    [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidr: '10.0.0.0/8' }, undefined],
    [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidr: '203.0.113.0/24' }, undefined],
  ])('ingress %j → %s', (rule, severity) => {
    expect(judgeIngress(rule)?.severity).toBe(severity);
  });

  test('IAM action names are compared as IAM compares them, case-insensitively: SSM:* is ssm:*', () => {
    expect(judgeStatement({ effect: 'Allow', actions: ['SSM:*'], resources: ['*'], principals: [] })).toEqual({
      severity: 'block',
      reason: 'every ssm action on every resource (`ssm:*` on `*`)',
    });
  });

  test('a range split in halves is each half of the internet', () => {
    expect(internetRange('0.0.0.0/1')).toBe('open to 0.0.0.0/1, 2,147,483,648 internet addresses');
  });
});
