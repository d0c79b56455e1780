import { App, Stack } from 'aws-cdk-lib';
import { ProjectChecks, type ProjectChecksProps } from '../../lib/rules';

/** One violation of the project pack: the rule (with finding) and the construct paths it names. */
export interface Violation {
  readonly rule: string;
  readonly paths: string[];
}

/**
 * A fresh stack to plant resources in, and a function running the project's pack over it (the
 * way CDK's validation runs it at synth) and returning what it reports.
 */
export function ruleHarness(props: ProjectChecksProps = {}): { stack: Stack; violations: () => Violation[] } {
  const app = new App();
  const stack = new Stack(app, 'Probe', { env: { account: '111111111111', region: 'us-east-1' } });
  return {
    stack,
    violations: () =>
      new ProjectChecks(app, props)
        .validateScope(app)
        .violations.map((v) => ({ rule: v.ruleName, paths: v.violatingResources.map((r) => r.constructPath ?? '') })),
  };
}
