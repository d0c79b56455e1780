import { Testing } from 'cdk8s';
import { AppChart } from '../../charts/app-chart';
import { PRESYNC_HOOK } from '../../charts/migration-job';
import { environmentsOf, type ProjectConfig } from '../../lib/config';
import { configWith } from '../helpers/config-fixtures';
import { findOne, type K8sObject } from '../helpers/synth';

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
  expect(migrate).toMatchObject({ name: 'migrate', image: api.image, command: ['npx', 'prisma', 'migrate', 'deploy'], envFrom: api.envFrom, securityContext: api.securityContext });
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
