/*
 * The stacks of a synthesized cloud assembly as the cost estimate and the review read them: one
 * shape for an assembly on disk (`npm run synth -- --out DIR`, scripts/review/synth-output.ts) and
 * one in memory (`app.synth()`, bin/budget-check.ts).
 */

/** A CloudFormation template as synthesized. */
export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  [section: string]: unknown;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  [attribute: string]: unknown;
}

export interface SynthStack {
  readonly name: string;
  /** AWS account of the stack, from the assembly manifest (`aws://<account>/<region>`). */
  readonly account: string;
  /** The `env` tag its resources carry (bin/build-apps.ts), or `account` for account-wide stacks. */
  readonly environment: string;
  readonly template: CfnTemplate;
}

/** The value of tag `key` on the first resource of the template that carries it. */
export function tagValue(template: CfnTemplate, key: string): string | undefined {
  for (const resource of Object.values(template.Resources ?? {})) {
    for (const value of Object.values(resource.Properties ?? {})) {
      if (!Array.isArray(value)) continue;
      const tag = value.find((t) => t && typeof t === 'object' && (t as { Key?: unknown }).Key === key) as { Value?: unknown } | undefined;
      if (typeof tag?.Value === 'string') return tag.Value;
    }
  }
  return undefined;
}

/** One stack of a synth output; its environment is the `env` tag its resources carry (bin/build-apps.ts). */
export function synthStack(name: string, account: string, template: CfnTemplate): SynthStack {
  return { name, account, environment: tagValue(template, 'env') ?? 'account', template };
}
