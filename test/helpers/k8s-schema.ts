import { readFileSync } from 'node:fs';
import Ajv, { type AnySchema, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { definitionId, STRICT_SCHEMAS_FILE } from '../schemas/generate-kubernetes-schemas';
import type { K8sObject } from './manifests';

/*
 * Strict validation of rendered objects against the Kubernetes 1.27.1 OpenAPI schemas, with ajv.
 *
 * The built-in kinds' schemas are read from test/schemas/kubernetes-1.27-strict.json, generated
 * from kubernetes-models@4.3.1 with every object schema closed (`additionalProperties: false`;
 * maps such as labels keep theirs). A misspelt or misplaced field (`spec.replica`,
 * `readinessProbes`, a field from a newer Kubernetes) is then an error, as it is for
 * `kubectl apply --validate=strict`.
 *
 * Custom resources (Argo CD Application and AppProject, ExternalSecret and SecretStore, ServiceMonitor) have no built-in schema:
 * they are checked against the closed subsets of their CRD schemas below, covering the fields this
 * project renders.
 */

type Json = Record<string, unknown>;

/** The generated file: closed definitions by id, and the kinds they were generated for. */
export const strictSchemas = JSON.parse(readFileSync(STRICT_SCHEMAS_FILE, 'utf8')) as { kinds: string[]; definitions: Record<string, Json> };

const MAX_INT32 = 2 ** 31 - 1;
const QUANTITY = /^[+-]?(\d+|\d+\.\d+|\d+\.|\.\d+)([KMGTPE]i|[mkMGTPE]|[eE][+-]?(\d+|\d+\.\d+|\d+\.|\.\d+))?$/;

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) <= MAX_INT32 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  ajv.addFormat('quantity', QUANTITY);
  return ajv;
}

export { definitionId };

const objectMeta = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string' },
    namespace: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    finalizers: { type: 'array', items: { type: 'string' } },
  },
};
const closed = (properties: Json, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required });
const str = { type: 'string' };
const matchLabels = closed({ matchLabels: { type: 'object', additionalProperties: str } }, ['matchLabels']);

/** Closed subsets of the CRD schemas of the custom resources this project renders. */
export const CUSTOM_RESOURCE_SCHEMAS: Record<string, AnySchema> = {
  'argoproj.io/v1alpha1/Application': closed(
    {
      apiVersion: { const: 'argoproj.io/v1alpha1' },
      kind: { const: 'Application' },
      metadata: objectMeta,
      spec: closed(
        {
          project: str,
          source: closed({ repoURL: str, targetRevision: str, path: str }, ['repoURL']),
          destination: closed({ server: str, name: str, namespace: str }),
          syncPolicy: closed({
            automated: closed({ prune: { type: 'boolean' }, selfHeal: { type: 'boolean' }, allowEmpty: { type: 'boolean' } }),
            syncOptions: { type: 'array', items: str },
          }),
        },
        ['project', 'source', 'destination'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'argoproj.io/v1alpha1/AppProject': closed(
    {
      apiVersion: { const: 'argoproj.io/v1alpha1' },
      kind: { const: 'AppProject' },
      metadata: objectMeta,
      spec: closed({
        description: str,
        sourceRepos: { type: 'array', items: str },
        destinations: { type: 'array', items: closed({ server: str, name: str, namespace: str }) },
        clusterResourceWhitelist: { type: 'array', items: closed({ group: str, kind: str, name: str }, ['group', 'kind']) },
        namespaceResourceWhitelist: { type: 'array', items: closed({ group: str, kind: str }, ['group', 'kind']) },
      }),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'external-secrets.io/v1/ExternalSecret': closed(
    {
      apiVersion: { const: 'external-secrets.io/v1' },
      kind: { const: 'ExternalSecret' },
      metadata: objectMeta,
      spec: closed({
        refreshInterval: { type: 'string', pattern: '^\\d+(s|m|h)$' },
        // The CRD also admits ClusterSecretStore; this project renders only its namespaced SecretStore.
        secretStoreRef: closed({ name: str, kind: { const: 'SecretStore' } }, ['name', 'kind']),
        target: closed({ name: str, creationPolicy: { enum: ['Owner', 'Orphan', 'Merge', 'None'] } }),
        dataFrom: { type: 'array', items: closed({ extract: closed({ key: str }, ['key']) }) },
        data: { type: 'array', items: closed({ secretKey: str, remoteRef: closed({ key: str }, ['key']) }, ['secretKey', 'remoteRef']) },
      }),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'external-secrets.io/v1/SecretStore': closed(
    {
      apiVersion: { const: 'external-secrets.io/v1' },
      kind: { const: 'SecretStore' },
      metadata: objectMeta,
      spec: closed(
        {
          provider: closed(
            {
              aws: closed(
                {
                  service: { enum: ['SecretsManager', 'ParameterStore'] },
                  region: str,
                  role: str,
                  auth: closed({ jwt: closed({ serviceAccountRef: closed({ name: str, audiences: { type: 'array', items: str } }, ['name']) }) }),
                },
                ['service', 'region'],
              ),
            },
            ['aws'],
          ),
        },
        ['provider'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'monitoring.coreos.com/v1/ServiceMonitor': closed(
    {
      apiVersion: { const: 'monitoring.coreos.com/v1' },
      kind: { const: 'ServiceMonitor' },
      metadata: objectMeta,
      spec: closed(
        {
          selector: matchLabels,
          endpoints: { type: 'array', items: closed({ port: str, path: str, interval: { type: 'string', pattern: '^\\d+(ms|s|m|h)$' } }) },
        },
        ['selector', 'endpoints'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
};

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function validatorFor(apiVersion: string, kind: string): ValidateFunction {
  const key = `${apiVersion}/${kind}`;
  let validate = validators.get(key);
  if (validate) return validate;
  ajv ??= newAjv();
  const custom = CUSTOM_RESOURCE_SCHEMAS[key];
  if (custom) {
    validate = ajv.compile(custom);
  } else {
    const id = definitionId(apiVersion, kind);
    if (!strictSchemas.definitions[id]) {
      throw new Error(`no Kubernetes 1.27 schema for ${id} in test/schemas: add '${key}' to KINDS in test/schemas/generate-kubernetes-schemas.ts and run it`);
    }
    if (ajv.getSchema(id) === undefined) {
      for (const [schemaId, schema] of Object.entries(strictSchemas.definitions)) if (!ajv.getSchema(schemaId)) ajv.addSchema(schema as AnySchema, schemaId);
    }
    validate = ajv.getSchema(id);
    if (!validate) throw new Error(`no schema for ${key}`);
  }
  validators.set(key, validate);
  return validate;
}

/** Problems of one object against its strict schema, as `<kind>/<name><path> <message>` lines; [] when valid. */
export function schemaProblems(object: K8sObject): string[] {
  const validate = validatorFor(object.apiVersion, object.kind);
  const data: unknown = object;
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
    return `${object.kind}/${object.metadata?.name}${e.instancePath} ${e.message}${extra}`;
  });
}
