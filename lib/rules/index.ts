import type { CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { NagMessageLevel, NagPack, type NagPackProps } from './nag';
import { noDataPlaneOnAnyResource } from './no-data-plane-on-any-resource';
import { noPrivilegeOnAnyResource } from './no-privilege-on-any-resource';
import { noWildcardTrust } from './no-wildcard-trust';
import { oidcTrustExact } from './oidc-trust-exact';
import type { ProjectRule, RuleContext } from './project-rule';
import { roleHasPermissionsBoundary } from './role-has-permissions-boundary';
import { worldIngressOnlyWeb } from './world-ingress-only-web';

/** Pack name: findings read `Gitops-<rule>[<finding>]`. */
export const PROJECT_PACK_NAME = 'Gitops';

/** The project's rules, in the order they are reported. */
export const PROJECT_RULES: readonly ProjectRule[] = [
  worldIngressOnlyWeb,
  noDataPlaneOnAnyResource,
  noWildcardTrust,
  oidcTrustExact,
  noPrivilegeOnAnyResource,
  roleHasPermissionsBoundary,
];

export interface ProjectChecksProps extends NagPackProps {
  /**
   * The permissions boundary name roles of a stack must carry.
   * @default - any boundary satisfies the boundary rule
   */
  readonly permissionsBoundaryName?: (stack: Stack) => string | undefined;
}

/**
 * The project's cdk-nag pack: registered beside `AwsSolutionsChecks` with
 * `Validations.of(app).addPlugins(new ProjectChecks(app))`, so a finding fails `npm run synth` and
 * `cdk synth` naming the rule and the construct path. Every finding is an error.
 */
export class ProjectChecks extends NagPack {
  public readonly name = PROJECT_PACK_NAME;
  private readonly context: RuleContext;

  constructor(scope?: IConstruct, props: ProjectChecksProps = {}) {
    super(scope, props);
    this.packName = PROJECT_PACK_NAME;
    this.context = { permissionsBoundaryName: props.permissionsBoundaryName ?? (() => undefined) };
  }

  protected checkResource(node: CfnResource): void {
    for (const rule of PROJECT_RULES) {
      this.applyRule({
        ruleSuffixOverride: rule.id,
        info: rule.info,
        explanation: rule.explanation,
        level: NagMessageLevel.ERROR,
        rule: (resource: CfnResource) => rule.check(resource, this.context),
        node,
      });
    }
  }
}
