import { decide, type EvaluatedPrincipal } from '../../lib/iam/evaluate';
import {
  crossEnvironmentOperations,
  type EnvironmentResources,
  neverOperations,
  type Operation,
  ownWork,
  type PrincipalKind,
  type ResourcePolicyRef,
} from '../../lib/iam/operations';
import type { IamPolicyDocument } from '../../lib/rules/iam-policy';

/*
 * The isolation matrix: for each ordered pair of environments (E, F), every principal of E
 * against the sensitive operations on F's resources (must be denied), against what no principal
 * may do even to its own environment (denied), and against its own work (must be allowed: the
 * positive controls). One evaluator (lib/iam/evaluate.ts) answers every cell.
 */

/** What the matrix evaluates: principals and resources of each environment, and the resource policies. */
export interface MatrixView {
  readonly principals: ReadonlyMap<string, ReadonlyMap<PrincipalKind, EvaluatedPrincipal>>;
  readonly resources: ReadonlyMap<string, EnvironmentResources>;
  readonly resourcePolicy: (ref: ResourcePolicyRef) => IamPolicyDocument | undefined;
}

/** One cell of the matrix that does not hold. */
export interface MatrixFailure {
  readonly principal: string;
  readonly operation: string;
  readonly expected: 'Allowed' | 'denied';
  readonly got: string;
}

/** Every cell to check for environments `from` (all when not given), in a cheap-to-fail-first order. */
export function matrixCells(view: MatrixView, from?: readonly string[]): { env: string; kind: PrincipalKind; op: Operation; allowed: boolean }[] {
  const cells: { env: string; kind: PrincipalKind; op: Operation; allowed: boolean }[] = [];
  const envs = [...view.principals.keys()].filter((e) => from === undefined || from.includes(e));
  for (const env of envs) {
    const own = view.resources.get(env) as EnvironmentResources;
    // The role a template could create first: it is bounded by the boundary alone.
    const kinds = [...(view.principals.get(env) as ReadonlyMap<PrincipalKind, EvaluatedPrincipal>).keys()].sort((a, b) =>
      a === 'created-role' ? -1 : b === 'created-role' ? 1 : 0,
    );
    for (const kind of kinds) {
      for (const other of view.resources.keys()) {
        if (other === env) continue;
        for (const op of crossEnvironmentOperations(own, view.resources.get(other) as EnvironmentResources)) cells.push({ env, kind, op, allowed: false });
      }
      for (const op of neverOperations(own, {
        executionRole: kind === 'execution',
        filePublishing: kind === 'file-publishing',
        bootstrapDeploy: kind === 'bootstrap-deploy',
        plan: kind === 'oidc-plan',
      }))
        cells.push({ env, kind, op, allowed: false });
      for (const op of ownWork(kind, own)) cells.push({ env, kind, op, allowed: true });
    }
  }
  return cells;
}

/** The cells that do not hold; with `stopAtFirst`, at most one. */
export async function matrixFailures(
  view: MatrixView,
  options: { readonly from?: readonly string[]; readonly stopAtFirst?: boolean } = {},
): Promise<MatrixFailure[]> {
  const failures: MatrixFailure[] = [];
  for (const { env, kind, op, allowed } of matrixCells(view, options.from)) {
    const principal = (view.principals.get(env) as ReadonlyMap<PrincipalKind, EvaluatedPrincipal>).get(kind) as EvaluatedPrincipal;
    const decision = await decide(principal, { ...op, resourcePolicy: op.resourcePolicy && view.resourcePolicy(op.resourcePolicy) });
    if ((decision === 'Allowed') !== allowed) {
      failures.push({
        principal: `${env} ${kind}`,
        operation: `${op.id}: ${op.action} on ${op.resource}`,
        expected: allowed ? 'Allowed' : 'denied',
        got: decision,
      });
      if (options.stopAtFirst) break;
    }
  }
  return failures;
}
