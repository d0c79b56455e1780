import * as iam from 'aws-cdk-lib/aws-iam';
import { ruleHarness } from './rule-harness';

const boundaryName = 'app-dev-permissions-boundary';

function role(boundary?: string) {
  const { stack, violations } = ruleHarness({ permissionsBoundaryName: () => boundaryName });
  new iam.Role(stack, 'Role', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    permissionsBoundary: boundary ? iam.ManagedPolicy.fromManagedPolicyName(stack, 'Boundary', boundary) : undefined,
  });
  return violations().filter((v) => v.rule.startsWith('Gitops-RoleHasPermissionsBoundary'));
}

describe('Gitops-RoleHasPermissionsBoundary', () => {
  test("COMPLIANT: the environment's boundary", () => {
    expect(role(boundaryName)).toEqual([]);
  });

  test.each<[string, string | undefined]>([
    ['no boundary', undefined],
    ["another environment's boundary", 'app-prod-permissions-boundary'],
  ])('NON_COMPLIANT: %s', (_name, boundary) => {
    expect(role(boundary)).toEqual([{ rule: 'Gitops-RoleHasPermissionsBoundary', paths: ['Probe/Role/Resource'] }]);
  });
});
