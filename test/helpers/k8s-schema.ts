import { dirname, join } from 'node:path';
import Ajv, { type AnySchema, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { K8sObject } from './synth';

/*
 * Strict validation of rendered objects against the Kubernetes 1.27.1 OpenAPI schemas.
 *
 * `kubernetes-models@4.3.1` (pinned: its schemas are generated from Kubernetes v1.27.1, the version
 * cdk8s-plus-27 targets) ships each definition as a JSON schema registered through
 * `@kubernetes-models/validate`'s `register(id, schema)`. Its own validators accept unknown fields
 * (the OpenAPI definitions never say `additionalProperties: false`). Here we collect those schemas,
 * close every object schema that lists `properties` and has no `additionalProperties` of its own
 * (maps such as labels keep theirs), and compile them with our own Ajv. A misspelt or misplaced field
 * (`spec.replica`, `readinessProbes`, a field from a newer Kubernetes) is then an error, as it is for
 * `kubectl apply --validate=strict`.
 *
 * Custom resources (Argo CD Application, ExternalSecret, ServiceMonitor) have no built-in schema:
 * they are checked against the closed subsets of their CRD schemas below, covering the fields this
 * project renders.
 */

type Json = Record<string, unknown>;

const collected = new Map<string, Json>();

function fileOf(id: string): string {
  const file = id
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  // kubernetes-models exports no `_schemas/*` subpath: load the file by its path inside the package.
  return id.startsWith('io.k8s.apimachinery.') ? `@kubernetes-models/apimachinery/_schemas/${file}` : join(dirname(require.resolve('kubernetes-models')), '_schemas', `${file}.js`);
}

/** Loads a definition and everything it references, capturing each schema as it is registered. */
function collect(id: string): void {
  if (collected.has(id)) return;
  const registry = require('@kubernetes-models/validate') as { register: (id: string, schema: Json) => void };
  const original = registry.register;
  registry.register = (schemaId, schema) => {
    collected.set(schemaId, schema);
  };
  let schemaModule: { addSchema: () => void };
  try {
    schemaModule = require(fileOf(id));
  } catch {
    throw new Error(`no Kubernetes 1.27 schema for ${id}`);
  }
  try {
    schemaModule.addSchema();
  } finally {
    registry.register = original;
  }
  if (!collected.has(id)) throw new Error(`no Kubernetes 1.27 schema registered as ${id}`);
}

/** A deep copy in which every object schema with `properties` rejects fields it does not list. */
export function closeSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) {
    // `properties` and `definitions` map names to schemas; anything else holds a schema or a literal.
    out[key] =
      (key === 'properties' || key === 'definitions') && value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value as Json).map(([name, sub]) => [name, closeSchema(sub)]))
        : key === 'enum' || key === 'required'
          ? value
          : closeSchema(value);
  }
  if ('properties' in out && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}

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

/** The definition id of a built-in kind, e.g. `networking.k8s.io/v1` Ingress → `io.k8s.api.networking.v1.Ingress`. */
export function definitionId(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  return `io.k8s.api.${group.replace(/\.k8s\.io$/, '')}.${version}.${kind}`;
}

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
  'external-secrets.io/v1/ExternalSecret': closed(
    {
      apiVersion: { const: 'external-secrets.io/v1' },
      kind: { const: 'ExternalSecret' },
      metadata: objectMeta,
      spec: closed({
        refreshInterval: { type: 'string', pattern: '^\\d+(s|m|h)$' },
        secretStoreRef: closed({ name: str, kind: { enum: ['SecretStore', 'ClusterSecretStore'] } }, ['name']),
        target: closed({ name: str, creationPolicy: { enum: ['Owner', 'Orphan', 'Merge', 'None'] } }),
        dataFrom: { type: 'array', items: closed({ extract: closed({ key: str }, ['key']) }) },
        data: { type: 'array', items: closed({ secretKey: str, remoteRef: closed({ key: str }, ['key']) }, ['secretKey', 'remoteRef']) },
      }),
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
    collect(id);
    for (const [schemaId, schema] of collected) {
      if (!ajv.getSchema(schemaId)) ajv.addSchema(closeSchema(schema) as AnySchema, schemaId);
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
