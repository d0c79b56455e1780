import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { AppChart } from '../../charts/app-chart';
import { environmentsOf } from '../../lib/config';
import { configWith } from '../helpers/config-fixtures';
import { findOne, type K8sObject, readManifestDir } from '../helpers/manifests';
import { restrictedViolations } from '../helpers/pod-security';
import { sharedDist, shippedManifests } from '../helpers/synth';

/*
 * The namespaces enforce the restricted Pod Security Standard: every pod the charts render must be
 * admitted by it, or the enforce label would stop the app (and the migration) from starting.
 */

// biome-ignore lint/suspicious/noExplicitAny: parsed manifest fragments
type Any = any;
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));
const podsOf = (objects: readonly K8sObject[]) => objects.filter((o) => o.spec?.template?.spec);

describe.each(['dev', 'prod'])('shipped %s', (env) => {
  test('its namespace enforces restricted, and every pod template (Deployment, migration Job) meets restricted', () => {
    const ns = findOne(readManifestDir(join(sharedDist, 'argocd')), 'Namespace', `auraxis-${env}`);
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const pods = podsOf(shippedManifests(env));
    expect(pods.map((o) => o.kind).sort()).toEqual(['Deployment', 'Job']);
    for (const o of pods) expect({ [o.kind]: restrictedViolations(o.spec.template.spec, o.spec.template.metadata?.annotations) }).toEqual({ [o.kind]: [] });
  });
});

test('a variant without gitops renders its Namespace with the same labels, and its pods meet restricted too', () => {
  const config = configWith((c) => delete c.environments.dev.kubernetes.gitops);
  const dev = environmentsOf(config).find((e) => e.name === 'dev');
  if (!dev) throw new Error('no dev');
  const objects = Testing.synth(new AppChart(Testing.app(), 'auraxis', { app: config.app, environment: dev })) as K8sObject[];
  expect(findOne(objects, 'Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  for (const o of podsOf(objects)) expect(restrictedViolations(o.spec.template.spec)).toEqual([]);
});

describe('the checker catches what restricted refuses (negative controls on a copy of the shipped Deployment)', () => {
  const pod = () => clone(findOne(shippedManifests('prod'), 'Deployment').spec.template.spec);
  test.each<[string, (p: Any) => void, string]>([
    ['a privileged container', (p) => (p.containers[0].securityContext.privileged = true), 'container api: privileged'],
    ['the host network', (p) => (p.hostNetwork = true), 'pod: hostNetwork'],
    ['a hostPath volume', (p) => p.volumes.push({ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }), 'volume docker: hostPath'],
    ['root', (p) => (p.containers[0].securityContext.runAsUser = 0), 'container api: runAsUser 0'],
    ['runAsNonRoot off', (p) => (p.containers[0].securityContext.runAsNonRoot = false), 'container api: runAsNonRoot is not true (nor set on the pod)'],
    ['privilege escalation', (p) => (p.containers[0].securityContext.allowPrivilegeEscalation = true), 'container api: allowPrivilegeEscalation is not false'],
    [
      'an added capability',
      (p) => (p.containers[0].securityContext.capabilities.add = ['SYS_ADMIN']),
      'container api: adds a capability other than NET_BIND_SERVICE',
    ],
    ['capabilities not dropped', (p) => delete p.containers[0].securityContext.capabilities, 'container api: capabilities do not drop ALL'],
    ['seccomp unconfined', (p) => (p.securityContext.seccompProfile = { type: 'Unconfined' }), 'pod: seccomp Unconfined'],
    ['a host port', (p) => (p.containers[0].ports[0].hostPort = 3000), 'container api: hostPort'],
  ])('%s', (_name, edit, violation) => {
    const p = pod();
    expect(restrictedViolations(p)).toEqual([]);
    edit(p);
    expect(restrictedViolations(p)).toContain(violation);
  });
});
