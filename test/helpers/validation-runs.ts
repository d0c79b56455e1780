import { type IPolicyValidationPlugin, Validations } from 'aws-cdk-lib';

/**
 * One validation plugin's run during a synth: which stacks it was given and what it concluded.
 * The validation report CDK writes lists only plugins with findings (acknowledged or not), so a
 * clean report alone cannot tell a clean check from a check that never ran.
 */
export interface ValidationRun {
  readonly plugin: string;
  /** Construct paths of the stacks (the stack names here) the plugin validated. */
  readonly stacks: readonly string[];
  readonly success: boolean;
  /** Rule names of the violations it reported. */
  readonly violations: readonly string[];
}

/**
 * Runs `fn` (e.g. a synth) while recording every validation plugin registered during it
 * (`Validations.of(scope).addPlugins`) and every run of those plugins. The plugins themselves are
 * kept (only their `validate` is observed), so CDK treats them exactly as without the recorder.
 */
export function recordingValidationRuns<T>(fn: () => T): {
  readonly result: T;
  readonly registered: readonly string[];
  readonly runs: readonly ValidationRun[];
} {
  const registered: string[] = [];
  const runs: ValidationRun[] = [];
  const original = Validations.prototype.addPlugins;
  Validations.prototype.addPlugins = function (this: Validations, ...plugins: IPolicyValidationPlugin[]) {
    for (const plugin of plugins) {
      registered.push(plugin.name);
      const validate = plugin.validate.bind(plugin);
      plugin.validate = (context) => {
        const report = validate(context);
        runs.push({
          plugin: plugin.name,
          stacks: context.stackTemplates.map((s) => s.stackConstructPath).sort(),
          success: report.success,
          violations: report.violations.map((v) => v.ruleName),
        });
        return report;
      };
    }
    original.apply(this, plugins);
  };
  try {
    return { result: fn(), registered, runs };
  } finally {
    Validations.prototype.addPlugins = original;
  }
}
