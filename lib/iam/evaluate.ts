import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { IamPolicyDocument } from '../rules/iam-policy';

/*
 * One question to an IAM policy evaluator (@cloud-copilot/iam-simulate: identity policies,
 * resource policies and permissions boundaries combined as AWS does, conditions with every
 * operator, same- and cross-account): may this principal make this request? Used by the test
 * matrix over every environment's principals (test/iam/) and by `ops iam-audit`, so both judge
 * policies the same way. Action names are matched case-insensitively, as AWS matches them.
 */

/** A principal and every policy that bounds it. */
export interface EvaluatedPrincipal {
  /** Role ARN (`arn:aws:iam::<account>:role/<name>`). */
  readonly arn: string;
  readonly account: string;
  /** Inline and attached identity policies. */
  readonly identityPolicies: readonly { readonly name: string; readonly document: IamPolicyDocument }[];
  /** The permissions boundary, when the role has one. */
  readonly boundary?: IamPolicyDocument;
}

/** One request: an action on one resource, with the request's condition keys. */
export interface EvaluatedRequest {
  readonly action: string;
  /** The resource's ARN; `*` for actions without resource-level permissions. */
  readonly resource: string;
  /** The account owning the resource. */
  readonly resourceAccount: string;
  /** Condition keys of the request (e.g. `aws:ResourceTag/env`, `aws:RequestTag/env`, `s3:prefix`). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /** The resource's policy (bucket policy, role trust policy), when it has one. */
  readonly resourcePolicy?: IamPolicyDocument;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/** Keys every signed request of a role session carries; the evaluator does not add them itself. */
function globalContext(principal: EvaluatedPrincipal, request: EvaluatedRequest): Record<string, string> {
  return {
    'aws:ResourceAccount': request.resourceAccount,
    'aws:PrincipalArn': principal.arn,
    'aws:PrincipalAccount': principal.account,
    'aws:PrincipalType': 'AssumedRole',
    'aws:SecureTransport': 'true',
  };
}

/**
 * The evaluator's decision. A request or policy the evaluator cannot judge (unknown action,
 * a resource type the action does not take, a malformed policy) is an error, never a decision.
 */
export async function decide(principal: EvaluatedPrincipal, request: EvaluatedRequest): Promise<Decision> {
  const simulation: Simulation = {
    request: {
      principal: principal.arn,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: { ...globalContext(principal, request), ...(request.context as Record<string, string | string[]> | undefined) },
    },
    identityPolicies: principal.identityPolicies.map((p) => ({ name: p.name, policy: p.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy,
    permissionBoundaryPolicies: principal.boundary ? [{ name: 'boundary', policy: principal.boundary }] : undefined,
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`the IAM evaluator cannot judge ${request.action} on ${request.resource} by ${principal.arn}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Decision;
}
