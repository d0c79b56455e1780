import { Testing } from 'cdk8s';
import { AppChart } from '../../charts/app-chart';
import { PRESYNC_HOOK } from '../../charts/migration-job';
import { environmentsOf, type ProjectConfig } from '../../lib/config';
import { configWith, problemsOf, shippedConfigInput } from '../helpers/config-fixtures';
import { findOne, type K8sObject } from '../helpers/manifests';

// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, mutated freely by tests
type Any = any;

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
    securityContext: api.securityContext,
  });
  // The settings as the API has them; of the Secret, DATABASE_URL only (the default), never the whole Secret.
  expect(api.envFrom).toEqual([{ configMapRef: { name: 'auraxis-config' } }, { secretRef: { name: 'auraxis-api-env' } }]);
  expect(migrate.envFrom).toEqual([{ configMapRef: { name: 'auraxis-config' } }]);
  expect(migrate.env).toEqual([{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'auraxis-api-env', key: 'DATABASE_URL', optional: false } } }]);
  expect(migrate.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  expect(migrate.readinessProbe).toBeUndefined();
  expect(migrate.ports).toBeUndefined();
  // Its pod is not one of the Service's: the selector labels are not on it.
  expect(job.spec.template.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'auraxis-migrate', 'app.kubernetes.io/component': 'migration' });
});

describe('the secrets the migration gets (app.migration.secrets)', () => {
  const envOf = (objects: K8sObject[]) => findOne(objects, 'Job').spec.template.spec.containers[0];

  test('named ones only, each from the Secret by key; a name the app declares optional may be absent', () => {
    const migrate = envOf(synth(configWith((c) => (c.app.migration.secrets = ['DATABASE_URL', 'REDIS_PASSWORD', 'BINANCE_TESTNET_BASE_URL']))));
    expect(migrate.env).toEqual([
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'auraxis-api-env', key: 'DATABASE_URL', optional: false } } },
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'auraxis-api-env', key: 'REDIS_PASSWORD', optional: false } } },
      { name: 'BINANCE_TESTNET_BASE_URL', valueFrom: { secretKeyRef: { name: 'auraxis-api-env', key: 'BINANCE_TESTNET_BASE_URL', optional: true } } },
    ]);
    expect(JSON.stringify(migrate)).not.toMatch(/SECRET_KEY|ENCRYPTION_KEY|secretRef/);
  });

  test('none: an empty list, no DATABASE_URL declared, or no Secret at all', () => {
    expect(envOf(synth(configWith((c) => (c.app.migration.secrets = [])))).env).toBeUndefined();
    const undeclared = configWith((c) => {
      c.app.secrets.required = c.app.secrets.required.filter((n: string) => n !== 'DATABASE_URL');
    });
    expect(envOf(synth(undeclared)).env).toBeUndefined();
    const noSecret = configWith((c) => {
      for (const env of ['dev', 'prod']) {
        delete c.environments[env].kubernetes.existingSecret;
        delete c.environments[env].kubernetes.externalSecret;
      }
    });
    expect(envOf(synth(noSecret)).env).toBeUndefined();
    expect(envOf(synth(noSecret)).envFrom).toEqual([{ configMapRef: { name: 'auraxis-config' } }]);
  });

  test.each<[string, (c: Record<string, Any>) => void, string]>([
    [
      'a name app.secrets does not declare',
      (c) => (c.app.migration.secrets = ['DATABASE_URL', 'ADMIN_TOKEN']),
      'app.migration.secrets[1]: "ADMIN_TOKEN" is not a declared secret (list it in app.secrets.required or optional)',
    ],
    [
      'a name twice',
      (c) => (c.app.migration.secrets = ['DATABASE_URL', 'DATABASE_URL']),
      'app.migration.secrets: ["DATABASE_URL","DATABASE_URL"] names a secret twice',
    ],
    ['not a secret name', (c) => (c.app.migration.secrets = ['database_url']), 'app.migration.secrets[0]: "database_url" is not a secret name'],
  ])('refused: %s', (_name, edit, message) => {
    const raw = shippedConfigInput();
    edit(raw);
    expect(problemsOf(raw)).toEqual([expect.stringContaining(message)]);
  });
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
