/*
 * Security changes judged, not only shown: each IAM statement, managed policy and security-group
 * rule that cloudformation-diff finds added is weighed here (⛔ or ⚠ with the reason), and the
 * cdk-nag acknowledgements a pull request adds or widens are listed with the reason they give.
 * Kubernetes workloads are judged in k8s-security.ts.
 */
import type { TemplateDiff } from '@aws-cdk/cloudformation-diff';
import type { Severity } from './cfn-changes';
import type { Acknowledgements } from './synth-output';

export type SecurityCategory = 'IAM' | 'Network' | 'Kubernetes' | 'Acknowledgements';

export interface SecurityFinding {
  readonly category: SecurityCategory;
  /** Stack name or `dist/<env>`. */
  readonly unit: string;
  readonly environment: string;
  /** Who or what is affected: a role, a security group, a workload, a construct. */
  readonly subject: string;
  /** The change, `+` added or `-` removed, in one line. */
  readonly change: string;
  /** The judgment: undefined when the change is shown but nothing about it is risky. */
  readonly severity?: Severity;
  /** Why it is judged so (with the acknowledgement's own reason for acknowledgements). */
  readonly reason?: string;
}

interface Judgment {
  readonly severity: Severity;
  readonly reason: string;
}

const worst = (judgments: readonly (Judgment | undefined)[]): Judgment | undefined => {
  const order: Severity[] = ['block', 'warn', 'info'];
  return judgments.filter((j): j is Judgment => j !== undefined).sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity))[0];
};

/** Managed policies that grant (nearly) everything. */
const ADMIN_POLICIES = /\/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$/;

/**
 * An added Allow statement judged by its actions, resources and principals. IAM matches action
 * names case-insensitively, so `SSM:*` is `ssm:*`.
 */
export function judgeStatement(statement: {
  readonly effect: string;
  readonly actions: readonly string[];
  readonly notActions?: boolean;
  readonly resources: readonly string[];
  readonly notResources?: boolean;
  readonly principals: readonly string[];
  readonly condition?: unknown;
}): Judgment | undefined {
  if (statement.effect !== 'Allow') return undefined;
  const actions = statement.actions.map((a) => a.trim().toLowerCase());
  const anyResource = statement.resources.some((r) => r.trim() === '*');
  const anyone = statement.principals.some((p) => /^(AWS:)?\*$/.test(p.trim()));
  const judgments: (Judgment | undefined)[] = [];
  if (statement.notActions) judgments.push({ severity: 'block', reason: 'NotAction with Allow: every action except the listed ones' });
  if (statement.notResources) judgments.push({ severity: 'warn', reason: 'NotResource with Allow: every resource except the listed ones' });
  if (actions.includes('*')) judgments.push({ severity: 'block', reason: 'every action of every service (`*`)' });
  for (const action of actions.filter((a) => a !== '*' && a.includes('*'))) {
    const service = action.split(':')[0];
    judgments.push(
      anyResource && action.endsWith(':*')
        ? { severity: 'block', reason: `every ${service} action on every resource (\`${action}\` on \`*\`)` }
        : { severity: 'warn', reason: `wildcard action \`${action}\`${anyResource ? ' on any resource' : ''}` },
    );
  }
  if (anyResource && !judgments.length) judgments.push({ severity: 'warn', reason: 'any resource (`*`)' });
  if (anyone)
    judgments.push(
      statement.condition
        ? { severity: 'warn', reason: 'any principal (`*`), limited only by its condition' }
        : { severity: 'block', reason: 'any principal (`*`): anyone, in any account' },
    );
  return worst(judgments);
}

/** IAM statement and managed-policy changes of a stack, additions judged. */
export function iamFindings(unit: string, environment: string, diff: TemplateDiff): SecurityFinding[] {
  const findings: SecurityFinding[] = [];
  const { statements, managedPolicies } = diff.iamChanges;
  for (const [sign, list] of [
    ['+', statements.additions],
    ['-', statements.removals],
  ] as const) {
    for (const s of list) {
      const r = s.render();
      const change = `${sign} ${r.effect} ${r.action.split('\n').join(', ')} on ${r.resource.split('\n').join(', ')}${r.condition ? ` when ${r.condition.replace(/\s+/g, ' ')}` : ''}`;
      const judgment =
        sign === '+'
          ? judgeStatement({
              effect: s.effect,
              actions: s.actions.values,
              notActions: s.actions.not,
              resources: s.resources.values,
              notResources: s.resources.not,
              principals: s.principals.values,
              condition: s.condition,
            })
          : undefined;
      findings.push({ category: 'IAM', unit, environment, subject: r.principal.split('\n').join(', '), change, ...judgment });
    }
  }
  for (const [sign, list] of [
    ['+', managedPolicies.additions],
    ['-', managedPolicies.removals],
  ] as const) {
    for (const p of list) {
      const judgment: Judgment | undefined =
        sign === '-'
          ? undefined
          : ADMIN_POLICIES.test(p.managedPolicyArn)
            ? { severity: 'block', reason: 'a managed policy that grants (nearly) every action' }
            : { severity: 'warn', reason: 'a managed policy: its statements change without a pull request when AWS updates it' };
      findings.push({ category: 'IAM', unit, environment, subject: p.identityArn, change: `${sign} managed policy ${p.managedPolicyArn}`, ...judgment });
    }
  }
  return findings;
}

/** Ports that must never face the internet: remote shells and desktops, databases, caches, container engines. */
const SENSITIVE_PORTS = new Map([
  [22, 'SSH'],
  [3389, 'RDP'],
  [5432, 'PostgreSQL'],
  [6379, 'Redis'],
  [3306, 'MySQL'],
  [27017, 'MongoDB'],
  [9200, 'Elasticsearch'],
  [2375, 'Docker'],
  [2376, 'Docker'],
  [11211, 'Memcached'],
]);
const WEB_PORTS = new Set([80, 443]);

/**
 * How much of the internet a CIDR covers: undefined for private, loopback and link-local ranges
 * and for public ranges smaller than a /8 (IPv4) or /16 (IPv6); a reason otherwise. A range split
 * in halves (0.0.0.0/1 and 128.0.0.0/1) is each half of the internet, judged as such.
 */
export function internetRange(cidr: string): string | undefined {
  const [address, prefixText] = cidr.split('/');
  const prefix = Number(prefixText ?? (address.includes(':') ? 128 : 32));
  if (address.includes(':')) {
    if (prefix === 0) return 'open to the internet (`::/0`)';
    if (/^(fc|fd|fe80|::1$)/i.test(address)) return undefined;
    return prefix <= 16 ? `open to ${cidr}, a large part of the IPv6 internet` : undefined;
  }
  if (prefix === 0) return 'open to the internet (`0.0.0.0/0`)';
  const [a, b] = address.split('.').map(Number);
  const privateRange =
    a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  if (privateRange && prefix >= 8) return undefined;
  return prefix <= 8 ? `open to ${cidr}, ${(2 ** (32 - prefix)).toLocaleString('en-US')} internet addresses` : undefined;
}

/** An ingress rule judged by who it admits and on which ports. */
export function judgeIngress(rule: {
  readonly ipProtocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidr?: string;
}): Judgment | undefined {
  const open = rule.cidr === undefined ? undefined : internetRange(rule.cidr);
  if (!open) return undefined;
  const all = rule.ipProtocol === '-1' || rule.fromPort === -1 || rule.fromPort === undefined;
  if (all) return { severity: 'block', reason: `every port ${open}` };
  const from = rule.fromPort as number;
  const to = rule.toPort ?? from;
  const sensitive = [...SENSITIVE_PORTS].filter(([port]) => port >= from && port <= to).map(([port, name]) => `${name} ${port}`);
  if (sensitive.length) return { severity: 'block', reason: `${sensitive.join(', ')} ${open}` };
  if (from === to && WEB_PORTS.has(from)) return undefined;
  return { severity: 'warn', reason: `port${from === to ? ` ${from}` : `s ${from}-${to}`} ${open}` };
}

/** Security-group rule changes of a stack, ingress additions judged. */
export function securityGroupFindings(unit: string, environment: string, diff: TemplateDiff): SecurityFinding[] {
  const findings: SecurityFinding[] = [];
  const { ingress, egress } = diff.securityGroupChanges;
  for (const [direction, collection] of [
    ['in', ingress],
    ['out', egress],
  ] as const) {
    for (const [sign, list] of [
      ['+', collection.additions],
      ['-', collection.removals],
    ] as const) {
      for (const rule of list) {
        const cidr = rule.peer?.kind === 'cidr-ip' ? rule.peer.ip : undefined;
        const judgment = sign === '+' && direction === 'in' ? judgeIngress({ ...rule, cidr }) : undefined;
        findings.push({
          category: 'Network',
          unit,
          environment,
          subject: `security group ${rule.groupId}`,
          change: `${sign} ${direction === 'in' ? 'ingress' : 'egress'} ${rule.describeProtocol()} ${direction === 'in' ? 'from' : 'to'} ${rule.describePeer()}`,
          ...judgment,
        });
      }
    }
  }
  return findings;
}

/** `AwsSolutions-IAM5[Resource::*]` → `AwsSolutions-IAM5`, and its `appliesTo` part. */
function splitRule(rule: string): { readonly family: string; readonly appliesTo?: string } {
  const match = /^([^[]+)\[(.*)\]$/.exec(rule);
  return match ? { family: match[1], appliesTo: match[2] } : { family: rule };
}

/**
 * Acknowledgements (cdk-nag and template validation, `Validations.of(x).acknowledge`) a head adds
 * or widens against its base, each with its reason; one removed is listed for the record. Widened:
 * the rule now acknowledged on the whole family (no `[appliesTo]`) where the base named one
 * finding, or on an ancestor construct of where the base acknowledged it (covering every child).
 */
export function acknowledgementFindings(unit: string, environment: string, base: Acknowledgements, head: Acknowledgements): SecurityFinding[] {
  const findings: SecurityFinding[] = [];
  const where = (path: string) => path.replace(/^\//, '');
  const baseHas = (path: string, rule: string) => base.get(path)?.has(rule) === true;
  for (const [path, rules] of head) {
    for (const [rule, reason] of rules) {
      if (baseHas(path, rule)) {
        if (base.get(path)?.get(rule) !== reason)
          findings.push({
            category: 'Acknowledgements',
            unit,
            environment,
            subject: where(path),
            change: `~ ${rule}: reason changed`,
            severity: 'info',
            reason: `“${reason}”`,
          });
        continue;
      }
      const { family, appliesTo } = splitRule(rule);
      const narrowerHere = [...(base.get(path)?.keys() ?? [])].filter((r) => splitRule(r).family === family && r !== rule);
      const narrowerBelow = [...base.entries()]
        .filter(([p, r]) => p !== path && p.startsWith(`${path}/`) && (r.has(rule) || [...r.keys()].some((k) => splitRule(k).family === family)))
        .map(([p]) => where(p));
      const wildcard = appliesTo?.includes('*') ? `; it covers a wildcard finding (${appliesTo})` : '';
      if ((narrowerHere.length && appliesTo === undefined) || narrowerBelow.length) {
        const was = narrowerHere.length ? narrowerHere.join(', ') : `${rule} on ${narrowerBelow.join(', ')}`;
        findings.push({
          category: 'Acknowledgements',
          unit,
          environment,
          subject: where(path),
          change: `+ ${rule} (widened from ${was})`,
          severity: 'warn',
          reason: `now covers every ${family} finding ${narrowerBelow.length ? 'of every construct below it' : 'on it'}${wildcard}: “${reason}”`,
        });
      } else {
        findings.push({
          category: 'Acknowledgements',
          unit,
          environment,
          subject: where(path),
          change: `+ ${rule}`,
          severity: 'warn',
          reason: `new acknowledgement${wildcard}: “${reason}”`,
        });
      }
    }
  }
  for (const [path, rules] of base) {
    for (const rule of rules.keys()) {
      if (head.get(path)?.has(rule)) continue;
      findings.push({
        category: 'Acknowledgements',
        unit,
        environment,
        subject: where(path),
        change: `- ${rule}`,
        severity: 'info',
        reason: 'no longer acknowledged here',
      });
    }
  }
  return findings;
}
