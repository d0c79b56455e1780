import { join } from 'node:path';
import { definitionId, schemaProblems, strictSchemas } from '../helpers/k8s-schema';
import { findOne, type K8sObject, readManifestDir } from '../helpers/manifests';
import { sharedDist, shippedManifests } from '../helpers/synth';
import { closeSchema } from '../schemas/generate-kubernetes-schemas';

/*
 * Every rendered object is valid against the Kubernetes 1.27.1 schemas with unknown fields rejected
 * (custom resources: closed subsets of their CRD schemas). The negative cases prove the strictness.
 */

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

describe.each(['dev', 'prod'])('the shipped %s manifests', (env) => {
  test('are all valid against the strict Kubernetes 1.27 schemas', () => {
    const objects = shippedManifests(env);
    expect(objects.length).toBeGreaterThan(8);
    expect(objects.flatMap(schemaProblems)).toEqual([]);
  });
});

test('the shipped Argo CD bootstraps (Namespace, AppProject, Application per environment) are valid against their strict and closed schemas', () => {
  const objects = readManifestDir(join(sharedDist, 'argocd'));
  expect(objects.map((o) => o.kind).sort()).toEqual(['AppProject', 'AppProject', 'Application', 'Application', 'Namespace', 'Namespace']);
  expect(objects.flatMap(schemaProblems)).toEqual([]);
});

describe('strictness: a broken copy of a valid object is rejected', () => {
  const deployment = () => clone(findOne(shippedManifests('prod'), 'Deployment'));

  test('an unknown field in the Deployment spec', () => {
    const d = deployment();
    d.spec.replica = 3;
    expect(schemaProblems(d)).toContainEqual(expect.stringContaining('Deployment/auraxis/spec must NOT have additional properties (replica)'));
  });

  test('an unknown field deep in a container (a field the 1.27 schema does not have)', () => {
    const d = deployment();
    d.spec.template.spec.containers[0].readinessProbes = d.spec.template.spec.containers[0].readinessProbe;
    expect(schemaProblems(d)).toContainEqual(expect.stringContaining('/spec/template/spec/containers/0 must NOT have additional properties (readinessProbes)'));
  });

  test('a wrong type', () => {
    const d = deployment();
    d.spec.template.spec.containers[0].ports[0].containerPort = '3000';
    expect(schemaProblems(d)).toContainEqual(expect.stringContaining('/spec/template/spec/containers/0/ports/0/containerPort must be integer'));
  });

  test('a missing required field', () => {
    const d = deployment();
    delete d.spec.template.spec.containers[0].name;
    expect(schemaProblems(d)).toContainEqual(expect.stringContaining("must have required property 'name'"));
  });

  test('an unknown field in a NetworkPolicy rule and in a PodDisruptionBudget', () => {
    const policy = clone(findOne(shippedManifests('prod'), 'NetworkPolicy', 'auraxis-allow'));
    policy.spec.ingress[0].path = '/metrics';
    expect(schemaProblems(policy)).toContainEqual(expect.stringContaining('/spec/ingress/0 must NOT have additional properties (path)'));
    const pdb = clone(findOne(shippedManifests('prod'), 'PodDisruptionBudget'));
    pdb.spec.maxUnavailable = 'one';
    pdb.spec.minAvailabe = 2;
    expect(schemaProblems(pdb)).toContainEqual(expect.stringContaining('must NOT have additional properties (minAvailabe)'));
  });

  test('an unknown field in a custom resource', () => {
    const app = clone(findOne(readManifestDir(join(sharedDist, 'argocd')), 'Application', 'auraxis-dev'));
    app.spec.source.chart = 'auraxis';
    expect(schemaProblems(app)).toContainEqual(expect.stringContaining('Application/auraxis-dev/spec/source must NOT have additional properties (chart)'));
    const project = clone(findOne(readManifestDir(join(sharedDist, 'argocd')), 'AppProject', 'auraxis-dev'));
    project.spec.namespaceResourceWhitelist[0].name = 'x';
    project.spec.namespaceResourceBlacklist = [];
    expect(schemaProblems(project)).toEqual([
      'AppProject/auraxis-dev/spec must NOT have additional properties (namespaceResourceBlacklist)',
      'AppProject/auraxis-dev/spec/namespaceResourceWhitelist/0 must NOT have additional properties (name)',
    ]);
    const store = clone(findOne(shippedManifests('prod'), 'SecretStore'));
    store.spec.provider.aws.auth.secretRef = {};
    expect(schemaProblems(store)).toEqual(['SecretStore/aws-parameter-store/spec/provider/aws/auth must NOT have additional properties (secretRef)']);
  });

  test('an ExternalSecret that references a ClusterSecretStore is refused (the closed subset admits only the namespaced store)', () => {
    const es = clone(findOne(shippedManifests('prod'), 'ExternalSecret'));
    es.spec.secretStoreRef.kind = 'ClusterSecretStore';
    expect(schemaProblems(es)).toEqual(['ExternalSecret/auraxis-api-env/spec/secretStoreRef/kind must be equal to constant']);
  });

  test('maps such as labels stay open', () => {
    const d = deployment();
    d.metadata.labels = { ...d.metadata.labels, 'example.com/anything': 'goes' };
    expect(schemaProblems(d)).toEqual([]);
  });

  test('a kind the 1.27 schemas do not know is an error, not a pass', () => {
    const bogus: K8sObject = { apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } };
    expect(() => schemaProblems(bogus)).toThrow(/io\.k8s\.api\.apps\.v1\.Deploymnet/);
  });
});

test('definition ids and closing of schemas', () => {
  expect(definitionId('v1', 'Service')).toBe('io.k8s.api.core.v1.Service');
  expect(definitionId('networking.k8s.io/v1', 'NetworkPolicy')).toBe('io.k8s.api.networking.v1.NetworkPolicy');
  expect(definitionId('policy/v1', 'PodDisruptionBudget')).toBe('io.k8s.api.policy.v1.PodDisruptionBudget');
  expect(closeSchema({ type: 'object', properties: { a: { type: 'object', properties: { b: {} } } } })).toEqual({
    type: 'object',
    properties: { a: { type: 'object', properties: { b: {} }, additionalProperties: false } },
    additionalProperties: false,
  });
  expect(closeSchema({ type: 'object', additionalProperties: { type: 'string' } })).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
});

test('the generated schema file covers every built-in kind the shipped synth renders, every object schema closed', () => {
  const rendered = new Set(
    ['dev', 'prod']
      .flatMap((env) => shippedManifests(env))
      .filter((o) => !o.apiVersion.match(/argoproj|external-secrets|coreos/))
      .map((o) => `${o.apiVersion}/${o.kind}`),
  );
  expect([...rendered].filter((k) => !strictSchemas.kinds.includes(k))).toEqual([]);
  const open: string[] = [];
  const walk = (schema: unknown, path: string): void => {
    if (Array.isArray(schema)) {
      for (const [i, s] of schema.entries()) walk(s, `${path}[${i}]`);
    } else if (schema && typeof schema === 'object') {
      const o = schema as Record<string, unknown>;
      if ('properties' in o && !('additionalProperties' in o)) open.push(path);
      for (const [k, v] of Object.entries(o)) if (k !== 'enum' && k !== 'required') walk(v, `${path}.${k}`);
    }
  };
  walk(strictSchemas.definitions, 'definitions');
  expect(open).toEqual([]);
});
