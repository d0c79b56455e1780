import type { EvaluatedPrincipal } from '../../lib/iam/evaluate';
import type { PrincipalKind, ResourcePolicyRef } from '../../lib/iam/operations';
import type { IamPolicyDocument, IamStatement } from '../../lib/rules/iam-policy';
import { type MatrixView, matrixFailures } from './matrix';
import { sharedAccountFixture } from './shared-account';

/*
 * The matrix of test/iam/isolation.test.ts must fail when any one scoping element of dev's
 * policies goes: each condition of each statement, each deny, and each scoped resource widened to
 * `*`, in the policies that fence an environment: its permissions boundary, its backups bucket's
 * policy, its staging bucket's policy and its bootstrap deploy role's policy. A mutant the matrix
 * does not notice is a scoping element nothing proves necessary.
 */

const fixture = sharedAccountFixture();
const dev = fixture.resources.get('dev')!;
const devPrincipals = fixture.principals.get('dev')!;

/** One changed copy of a policy document, and what was changed. */
interface Mutant {
  readonly name: string;
  readonly document: IamPolicyDocument;
}

const statementsOf = (doc: IamPolicyDocument): IamStatement[] => [doc.Statement].flat() as IamStatement[];

/**
 * Every mutant of a document: each condition key removed, each deny removed, and in the boundary
 * each statement scoped by the environment's names alone widened to `Resource: *`.
 */
function mutantsOf(label: string, doc: IamPolicyDocument): Mutant[] {
  const mutants: Mutant[] = [];
  const withStatement = (i: number, change: (s: IamStatement) => IamStatement | undefined): IamPolicyDocument => {
    const statements = statementsOf(structuredClone(doc));
    const changed = change(statements[i]);
    return { ...doc, Statement: changed === undefined ? statements.filter((_, j) => j !== i) : statements.map((s, j) => (j === i ? changed : s)) };
  };
  statementsOf(doc).forEach((s, i) => {
    const sid = `${label} ${s.Sid ?? `#${i}`}`;
    if (s.Effect === 'Deny') mutants.push({ name: `${sid}: deny removed`, document: withStatement(i, () => undefined) });
    for (const [operator, keys] of Object.entries((s.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
      for (const key of Object.keys(keys)) {
        mutants.push({
          name: `${sid}: condition ${operator} ${key} removed`,
          document: withStatement(i, (st) => {
            const condition = st.Condition as Record<string, Record<string, unknown>>;
            delete condition[operator][key];
            if (Object.keys(condition[operator]).length === 0) delete condition[operator];
            if (Object.keys(condition).length === 0) delete (st as { Condition?: unknown }).Condition;
            return st;
          }),
        });
      }
    }
    // A boundary statement scoped by the environment's names (its Sid says "Own") and by nothing else.
    if (label === 'boundary' && s.Effect === 'Allow' && s.Condition === undefined && /Own/.test(s.Sid ?? '') && [s.Resource].flat().some((r) => r !== '*')) {
      mutants.push({ name: `${sid}: resource widened to *`, document: withStatement(i, (st) => ({ ...st, Resource: '*' })) });
    }
  });
  return mutants;
}

/** The matrix's view with one document replaced, wherever the principals or resource policies use it. */
function viewWith(original: IamPolicyDocument, replacement: IamPolicyDocument): MatrixView {
  const swap = (doc: IamPolicyDocument | undefined) => (doc === original ? replacement : doc);
  const principals = new Map<string, ReadonlyMap<PrincipalKind, EvaluatedPrincipal>>();
  for (const [env, byKind] of fixture.principals) {
    principals.set(
      env,
      new Map(
        [...byKind].map(([kind, p]) => [
          kind,
          { ...p, boundary: swap(p.boundary), identityPolicies: p.identityPolicies.map((ip) => ({ ...ip, document: swap(ip.document) as IamPolicyDocument })) },
        ]),
      ),
    );
  }
  return { principals, resources: fixture.resources, resourcePolicy: (ref: ResourcePolicyRef) => swap(fixture.resourcePolicy(ref)) };
}

const boundary = devPrincipals.get('created-role')!.boundary!;
const backupsPolicy = fixture.resourcePolicy({ kind: 'bucket', bucket: dev.backupsBucket })!;
const stagingPolicy = fixture.resourcePolicy({ kind: 'bucket', bucket: dev.stagingBucket })!;
const deployRolePolicy = devPrincipals.get('bootstrap-deploy')!.identityPolicies.find((p) => p.name === 'default')!.document;

const targets: [string, IamPolicyDocument][] = [
  ['boundary', boundary],
  ['backups bucket policy', backupsPolicy],
  ['staging bucket policy', stagingPolicy],
  ['bootstrap deploy role policy', deployRolePolicy],
];
const mutants = targets.flatMap(([label, doc]) => mutantsOf(label, doc).map((m) => ({ ...m, original: doc })));

test('there are mutants of every policy that fences dev (the mutation test is not empty)', () => {
  for (const [label] of targets) expect(mutants.filter((m) => m.name.startsWith(label)).length).toBeGreaterThan(0);
  expect(mutants.length).toBeGreaterThan(30);
});

test('the unmutated policies pass the matrix (the mutants below fail it for their mutation alone)', async () => {
  expect(await matrixFailures(fixture, { from: ['dev'] })).toEqual([]);
});

test('every mutant fails the matrix: no condition, deny or scoped resource of them is unproven', async () => {
  const survivors: string[] = [];
  for (const mutant of mutants) {
    const failures = await matrixFailures(viewWith(mutant.original, mutant.document), { from: ['dev'], stopAtFirst: true });
    if (failures.length === 0) survivors.push(mutant.name);
  }
  expect(survivors).toEqual([]);
}, 600_000);
