import { z } from 'zod';
import { positiveInt, typeError, urlPath } from '../primitives';

/*
 * The app's secrets: their NAMES only (values live in SSM Parameter Store, never in this repo),
 * where each environment keeps them, and how a rotation is made safe. The host renders its env
 * file from the path, the Kubernetes ExternalSecret reads the same path, the ops CLI writes it.
 */

/** The shape of a secret name; also the SSM document parameter pattern and the ops CLI's check. */
export const SECRET_NAME_PATTERN = '^[A-Z][A-Z0-9_]{0,127}$';

/** An env-file variable name, as the app reads it: `DATABASE_URL`, `SECRET_KEY`. */
export const secretName = z
  .string(typeError('is not a secret name (upper-case letters, digits and "_", e.g. DATABASE_URL)'))
  .regex(new RegExp(SECRET_NAME_PATTERN), {
    message: 'is not a secret name (upper-case letters, digits and "_", e.g. DATABASE_URL)',
  });

/**
 * A Parameter Store path holding one environment's secrets: absolute, ending in "/", each part
 * made of the characters SSM allows in parameter names.
 */
export const parameterPath = z.string(typeError('is not a Parameter Store path (e.g. /auraxis/prod/)')).regex(/^(\/[A-Za-z0-9_.-]+)+\/$/, {
  message: 'is not a Parameter Store path (absolute, ending in "/", e.g. /auraxis/prod/)',
});

/** The grammar of a response check: `<field> <op> <field or number>`, e.g. `updated == scanned`. */
const RESPONSE_CHECK = /^([A-Za-z_][A-Za-z0-9_.]*) (==|!=|>=|<=|>|<) ([A-Za-z_][A-Za-z0-9_.]*|-?\d+(?:\.\d+)?)$/;

/** A parsed response check; a right-hand side is either another field of the response or a number. */
export interface ResponseCheck {
  readonly field: string;
  readonly op: '==' | '!=' | '>=' | '<=' | '>' | '<';
  readonly right: { readonly field: string } | { readonly number: number };
  readonly text: string;
}

/** Parses one check; undefined when it does not follow the grammar (the schema rejects those). */
export function parseResponseCheck(text: string): ResponseCheck | undefined {
  const match = RESPONSE_CHECK.exec(text);
  if (!match) return undefined;
  const [, field, op, right] = match;
  return { field, op: op as ResponseCheck['op'], right: /^-?\d/.test(right) ? { number: Number(right) } : { field: right }, text };
}

export const responseCheck = z.string(typeError('is not a response check')).refine((value) => parseResponseCheck(value) !== undefined, {
  message: 'is not a response check "<field> <op> <field or number>" with op one of == != >= <= > < (e.g. "scanned > 0")',
});

/**
 * An app endpoint that re-encrypts data from the old key to the new one (the runbook's
 * `POST /ops/security/reencrypt-exchange-secrets`). The ops CLI calls it twice over the
 * environment's public URL: with `dry_run: true`, whose JSON answer must pass every check, then
 * with `dry_run: false`. The keys travel in the request body only; the operator's admin token
 * (`ops rotate --token-file`) in the Authorization header.
 */
export const reencryptHookSchema = z.strictObject({
  /** Path of the endpoint on the environment's domain. */
  path: urlPath,
  /** Body field names. @default old_key, new_key, dry_run (the runbook's) */
  oldKeyField: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'is not a JSON field name' })
    .default('old_key'),
  newKeyField: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'is not a JSON field name' })
    .default('new_key'),
  dryRunField: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'is not a JSON field name' })
    .default('dry_run'),
  /** Checks on the dry run's JSON answer, all of which must hold before the apply call. */
  checks: z.array(responseCheck).min(1, { message: 'must list at least one check (e.g. "scanned > 0")' }),
});

const secretNames = z.array(secretName).default([]);

/** The app's secrets and the rotation safety net (top level `app.secrets`). */
export const appSecretsSchema = z
  .strictObject({
    /** Names a deploy refuses to go without (exit 65 naming the missing one). @default [] */
    required: secretNames,
    /** Names rendered when present, skipped when absent. @default [] */
    optional: secretNames,
    /** Names whose rotation logs every user out (the runbook's `SECRET_KEY`): `ops rotate` asks for confirmation. @default [] */
    invalidatesSessions: secretNames,
    /** A rotation needs a backup younger than this, or takes one first. @default 24 */
    maxBackupAgeHours: positiveInt.default(24),
    /** Re-encryption calls made before a secret's new value is written, by secret name. @default - none */
    reencrypt: z.record(secretName, reencryptHookSchema).default({}),
  })
  .superRefine((secrets, ctx) => {
    const declared = new Set([...secrets.required, ...secrets.optional]);
    const seen = new Set<string>();
    for (const [list, names] of [
      ['required', secrets.required],
      ['optional', secrets.optional],
    ] as const) {
      names.forEach((name, index) => {
        if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [list, index], message: `is declared twice; each secret is either required or optional` });
        seen.add(name);
      });
    }
    secrets.invalidatesSessions.forEach((name, index) => {
      if (!declared.has(name))
        ctx.addIssue({ code: 'custom', path: ['invalidatesSessions', index], message: 'is not a declared secret (list it in required or optional)' });
    });
    for (const name of Object.keys(secrets.reencrypt)) {
      if (!declared.has(name))
        ctx.addIssue({ code: 'custom', path: ['reencrypt', name], message: 'is not a declared secret (list it in required or optional)' });
    }
  });

/** Where one environment keeps its secrets (`environments.<env>.secrets`). */
export const environmentSecretsSchema = z.strictObject({
  /** Parameter Store path of this environment's SecureStrings, one parameter per name. @default /<app>/<env>/ */
  path: parameterPath.optional(),
  /** `ops rotate` refuses without `--change-window <id>` (the runbook's approved window). @default false */
  requireChangeWindow: z.boolean(typeError('must be true or false')).default(false),
});

export type AppSecretsConfig = z.output<typeof appSecretsSchema>;
export type EnvironmentSecretsConfig = z.output<typeof environmentSecretsSchema>;

/** The Parameter Store path of an environment's secrets: its configured `path`, else `/<app>/<env>/`. */
export function secretsPath(appName: string, environmentName: string, secrets: { readonly path?: string } | undefined): string {
  return secrets?.path ?? `/${appName}/${environmentName}/`;
}

/** Every declared name, required first, in config order. */
export function declaredSecretNames(secrets: AppSecretsConfig): string[] {
  return [...secrets.required, ...secrets.optional];
}

/**
 * Problems with the environments' paths taken together: two environments sharing a path, or one
 * path inside another, would let one environment's instance read the other's values.
 */
export function overlappingSecretPaths(
  appName: string,
  environments: Readonly<Record<string, { readonly secrets: { readonly path?: string } }>>,
): { env: string; message: string }[] {
  const paths = Object.entries(environments).map(([env, e]) => ({ env, path: secretsPath(appName, env, e.secrets), isDefault: e.secrets.path === undefined }));
  const problems: { env: string; message: string }[] = [];
  for (const a of paths) {
    for (const b of paths) {
      if (a.env === b.env || !a.path.startsWith(b.path)) continue;
      if (a.path === b.path && a.env > b.env) continue;
      problems.push({
        env: a.env,
        // A configured path is quoted by the error formatter already; a default one is not.
        message: `${a.isDefault ? `(default "${a.path}") ` : ''}${a.path === b.path ? 'is also' : 'is inside'} environment ${b.env}'s secrets path "${b.path}": each environment needs its own path, or one instance can read the other's values`,
      });
    }
  }
  return problems;
}
