import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  CloudFormationValidatePlugin,
  type IPolicyValidationContext,
  type PolicyValidationPluginReport,
  type PolicyValidationStack,
  type PolicyViolatingResource,
  type PolicyViolation,
} from 'aws-cdk-lib';

/*
 * CDK's CloudFormation template validation (the `@aws-cdk/core:validateAgainstDefaultRules` flag)
 * loads a WebAssembly engine and takes about half of `npm run synth`. Its report on a template is a
 * pure function of the template, the stack's path, account and region, and the validator's version,
 * so this subclass remembers each template's findings under a hash of exactly those, validates only
 * what it has not seen, and replays the rest. Being a `CloudFormationValidatePlugin`, it replaces the
 * default instance in the same place of synthesis: acknowledgements, the validation report and
 * failing synth on an error work as before, because CDK does all of that after this `validate`.
 */

/** Findings about one template, stored without its path (the output directory varies). */
type CachedViolation = Omit<PolicyViolation, 'violatingResources'> & {
  readonly violatingResources: Omit<PolicyViolatingResource, 'templatePath'>[];
};

export interface CachedCloudFormationValidatePluginProps {
  /** Directory of the cache, one JSON file per validated template (created when missing). */
  readonly cacheDir: string;
}

/** The default CloudFormation validation, run only on templates whose content it has not validated before. */
export class CachedCloudFormationValidatePlugin extends CloudFormationValidatePlugin {
  private readonly cacheDir: string;
  /** Templates validated by the engine during the last `validate` (the rest were replayed). */
  public lastValidated: string[] = [];

  constructor(props: CachedCloudFormationValidatePluginProps) {
    super();
    this.cacheDir = props.cacheDir;
  }

  /**
   * The engine's version, read from its package instead of from the engine: asking the engine loads
   * its WebAssembly (about a second), which a synth of unchanged templates never needs otherwise.
   */
  override get version(): string {
    return VALIDATOR_VERSION;
  }

  override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const keyed = context.stackTemplates.map((stack) => ({ stack, key: this.cacheKey(stack) }));
    const misses = keyed.filter(({ key }) => this.read(key) === undefined);
    this.lastValidated = misses.map(({ stack }) => stack.templatePath);
    if (misses.length > 0) {
      const stackTemplates = misses.map(({ stack }) => stack);
      const report = super.validate({ ...context, stackTemplates, templatePaths: stackTemplates.map((s) => s.templatePath) });
      for (const { stack, key } of misses) this.write(key, violationsOf(report.violations, stack.templatePath));
    }
    // Merged in stack order the way the engine's own report merges them: one violation per rule,
    // severity and description, listing every resource it was found on.
    const violations: PolicyViolation[] = [];
    for (const { stack, key } of keyed) {
      for (const cached of this.read(key) ?? []) {
        const resources = cached.violatingResources.map((r) => ({ ...r, templatePath: stack.templatePath }));
        const existing = violations.find((v) => v.ruleName === cached.ruleName && v.severity === cached.severity && v.description === cached.description);
        if (existing) existing.violatingResources.push(...resources);
        else violations.push({ ...cached, violatingResources: resources });
      }
    }
    return { success: violations.every((v) => v.severity !== 'error' && v.severity !== 'fatal'), violations };
  }

  private cacheKey(stack: PolicyValidationStack): string {
    return createHash('sha256')
      .update(JSON.stringify([CDK_VERSION, VALIDATOR_VERSION, stack.stackConstructPath, stack.accountId ?? null, stack.region ?? null]))
      .update(readFileSync(stack.templatePath))
      .digest('hex');
  }

  private read(key: string): CachedViolation[] | undefined {
    try {
      return JSON.parse(readFileSync(join(this.cacheDir, `${key}.json`), 'utf8'));
    } catch {
      return undefined; // not cached yet (or unreadable): validate again
    }
  }

  private write(key: string, violations: CachedViolation[]): void {
    mkdirSync(this.cacheDir, { recursive: true });
    // Written aside and renamed, so a synth killed mid-write cannot leave a truncated entry.
    const file = join(this.cacheDir, `${key}.json`);
    writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(violations));
    renameSync(`${file}.${process.pid}.tmp`, file);
  }
}

/** The rules ship with aws-cdk-lib: a new version may judge the same template differently. */
const CDK_VERSION: string = require('aws-cdk-lib/package.json').version;
/** The validation engine aws-cdk-lib carries (a dependency of its own, not of this project). */
const VALIDATOR_VERSION: string = require(
  require.resolve('@aws/cloudformation-validate/package.json', { paths: [dirname(require.resolve('aws-cdk-lib'))] }),
).version;

/** The part of a report that concerns one template. */
function violationsOf(violations: readonly PolicyViolation[], templatePath: string): CachedViolation[] {
  return violations
    .map((v) => ({
      ...v,
      violatingResources: v.violatingResources.filter((r) => r.templatePath === templatePath).map(({ templatePath: _, ...r }) => r),
    }))
    .filter((v) => v.violatingResources.length > 0);
}
