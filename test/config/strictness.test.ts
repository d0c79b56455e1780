import type { z } from 'zod';
import { configSchema } from '../../lib/config/schema';
import { problemsOf, shippedConfigInput } from '../helpers/config-fixtures';

/*
 * Every object in the config schema rejects unknown keys: a misspelt key (`instance: {tpye: ...}`)
 * must fail, not silently fall back to a default. The sections are found by walking the schema, so
 * a section added later is covered without touching this test.
 */

interface Section {
  /** Key path of the section, `*` for an environment name. */
  readonly path: readonly string[];
  readonly schema: z.ZodType;
}

// biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definitions
type AnyDef = any;

/** Every object schema reachable from `schema`, with its key path. */
function objectSections(schema: z.ZodType, path: readonly string[] = []): Section[] {
  const def: AnyDef = schema._zod.def;
  switch (def.type) {
    case 'object':
      return [{ path, schema }, ...Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, child]) => objectSections(child, [...path, key]))];
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      return objectSections(def.innerType, path);
    case 'pipe':
      return [...objectSections(def.in, path), ...objectSections(def.out, path)];
    case 'record':
      return objectSections(def.valueType, [...path, '*']);
    case 'array':
      return objectSections(def.element, [...path, '0']);
    case 'union':
      return (def.options as z.ZodType[]).flatMap((option) => objectSections(option, path));
    default:
      return [];
  }
}

const sections = objectSections(configSchema as unknown as z.ZodType);
const label = (s: Section) => s.path.join('.') || '(root)';

test('the walk finds every section of the schema', () => {
  // A floor, not an exact count: adding a section must not need this test edited.
  expect(sections.length).toBeGreaterThanOrEqual(21);
  expect(sections.map(label)).toEqual(
    expect.arrayContaining(['(root)', 'app', 'environments.*.instance', 'environments.*.instance.schedule', 'environments.*.kubernetes.gitops']),
  );
});

describe.each(sections.map((s) => [label(s), s] as const))('section %s', (_, section) => {
  test('is a strict object (unknown keys are an error)', () => {
    const catchall: AnyDef = (section.schema._zod.def as AnyDef).catchall;
    expect(catchall?._zod.def.type).toBe('never');
  });
});

/**
 * The same, by behaviour, for each section the shipped config holds (environment `*` → `prod`):
 * the misspelt key is reported with its full path, whichever section it is in.
 */
function holderAt(root: unknown, path: readonly string[]): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key === '*' ? 'prod' : key];
  }
  return node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>) : undefined;
}

const present = sections.filter((s) => holderAt(shippedConfigInput(), s.path) !== undefined);

test('most sections are present in the shipped config, so the behavioural check below is not empty', () => {
  expect(present.length).toBeGreaterThanOrEqual(15);
});

test.each(present.map((s) => [label(s), s] as const))('a misspelt key in %s is reported with its path', (_, section) => {
  const raw = shippedConfigInput();
  const holder = holderAt(raw, section.path) as Record<string, unknown>;
  holder.tpye = 't4g.large';
  const where = [...section.path.map((k) => (k === '*' ? 'prod' : k)), 'tpye'].join('.').replace(/\.(\d+)\./g, '[$1].');
  expect(problemsOf(raw)).toContain(`${where}: is not a known key (remove it or check its spelling)`);
});
