import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A parsed Kubernetes object. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field by the tests
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: ConfigMap data and other kinds' top-level fields
  [field: string]: any;
}

/** Parses every YAML document of every `.yaml` file in a directory. */
export function readManifestDir(dir: string): K8sObject[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((doc) => doc.toJS() as K8sObject))
    .filter((o) => o !== null);
}

/** The only object of a kind (and name, when given); throws if there is not exactly one. */
export function findOne(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0];
}
