import { Testing } from 'cdk8s';
import { AppChart } from '../../charts/app-chart';
import { PRESYNC_HOOK } from '../../charts/migration-job';
import { environmentsOf, type ProjectConfig } from '../../lib/config';
import { configWith } from '../helpers/config-fixtures';
import { findOne, type K8sObject } from '../helpers/manifests';

/*
 * The migration runs once per sync as an Argo CD PreSync Job, with the Deployment's own pod
 * security (a copy of the rendered pod, so a hardening of the Deployment reaches the Job).
 */

function synth(config: ProjectConfig, env = 'prod'): K8sObject[] {
  const environment = environmentsOf(config).find((e) => e.name === env)!;
  return Testing.synth(new AppChart(Testing.app(), 'chart', { app: config.app, environment })) as K8sObject[];
}

test('a PreSync Job runs the configured command with the Deployment security contexts, no retries, no probes', () => {
  const objects = synth(configWith(() => undefined));
  const job = findOne(objects, 'Job');
  const deployment = findOne(objects, 'Deployment');
  const pod = deployment.spec.template.spec;
  const api = pod.containers[0];

  expect(job.metadata.annotations).toEqual(PRESYNC_HOOK);
  expect(job.metadata.annotations?.['argocd.argoproj.io/hook']).toBe('PreSync');
  expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600 });
  const jobPod = job.spec.template.spec;
  expect(jobPod.restartPolicy).toBe('Never');
  expect(jobPod.securityContext).toEqual(pod.securityContext);
  expect(jobPod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
  expect(jobPod.serviceAccountName).toBe(pod.serviceAccountName);
  expect(jobPod.automountServiceAccountToken).toBe(false);
  expect(jobPod.containers).toHaveLength(1);
  const [migrate] = jobPod.containers;
  expect(migrate).toMatchObject({
    name: 'migrate',
    image: api.image,
    command: ['npx', 'prisma', 'migrate', 'deploy'],
    envFrom: api.envFrom,
    securityContext: api.securityContext,
  });
  expect(migrate.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  expect(migrate.readinessProbe).toBeUndefined();
  expect(migrate.ports).toBeUndefined();
  // Its pod is not one of the Service's: the selector labels are not on it.
  expect(job.spec.template.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'auraxis-migrate', 'app.kubernetes.io/component': 'migration' });
});

test('no migration configured: no Job', () => {
  const objects = synth(configWith((c) => delete c.app.migration));
  expect(objects.filter((o) => o.kind === 'Job')).toEqual([]);
});

test("the Job's pods may reach DNS and Postgres only, through PreSync policies created before the Job (earlier wave)", () => {
  const prod = synth(
    configWith(() => undefined),
    'prod',
  );
  const policy = prod.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'auraxis-migrate-allow')!;
  expect(policy.metadata.annotations).toMatchObject({ 'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/sync-wave': '-1' });
  expect(policy.spec.podSelector.matchLabels).toEqual(findOne(prod, 'Job').spec.template.metadata.labels);
  expect(policy.spec.policyTypes).toEqual(expect.arrayContaining(['Ingress', 'Egress']));
  expect(policy.spec.ingress ?? []).toEqual([]);
  const peers = policy.spec.egress.flatMap((rule: { to: unknown[] }) => rule.to);
  expect(peers).toContainEqual({ ipBlock: { cidr: '10.20.16.0/20' } });
  expect(peers).toContainEqual(expect.objectContaining({ podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }));
  expect(JSON.stringify(policy.spec.egress)).not.toContain('6379');
  expect(prod.filter((o) => o.metadata.name === 'postgres-allow-from-auraxis-migrate')).toEqual([]);

  // dev: Postgres runs as pods in the namespace, which admit the migration as well as the app.
  const dev = synth(
    configWith(() => undefined),
    'dev',
  );
  const admit = dev.find((o) => o.metadata.name === 'postgres-allow-from-auraxis-migrate')!;
  expect(admit.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'postgres' });
  expect(admit.spec.ingress).toEqual([
    {
      from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'auraxis-migrate', 'app.kubernetes.io/component': 'migration' } } }],
      ports: [{ port: 5432, protocol: 'TCP' }],
    },
  ]);
});
