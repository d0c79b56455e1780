import { z } from 'zod';
import { typeError } from '../primitives';
import { secretName as appSecretName } from './secrets';

/*
 * Release verification declared in config: smoke checks (per app, overridable per environment)
 * and the one-shot migration command. Credentials are named, never given: a login step names the
 * keys of the environment's secrets (the env file the host renders from Parameter Store, or the
 * caller's environment for `ops smoke`), so no value can land in this file.
 */

/** Name of a secret: a key of the rendered env file (e.g. SMOKE_PASSWORD), never its value. */
export const secretName = z.string(typeError('must be a secret name')).regex(/^[A-Z][A-Z0-9_]{0,127}$/, {
  message: 'is not a secret name (an env-file key such as SMOKE_PASSWORD: upper-case letters, digits, "_")',
});

/** `{ secret: NAME }`: a value taken from the secret store at run time. */
export const secretRef = z.strictObject(
  { secret: secretName },
  { error: (issue) => (issue.input === undefined ? undefined : 'must be a secret reference { secret: NAME }, never a value') },
);

/** HTTP status (e.g. 200) or class (`2xx` … `5xx`). */
export const expectedStatus = z.union([z.number().int().min(100).max(599), z.enum(['2xx', '3xx', '4xx', '5xx'])], {
  // A union reports a missing value as a generic mismatch: say "is required" like other fields.
  error: (issue) => (issue.input === undefined ? 'is required' : 'must be an HTTP status (100-599) or a status class (2xx, 3xx, 4xx, 5xx)'),
});

/** Dotted path into a JSON response: `data.user.id`, `errors.0.extensions.code`. */
const jsonPath = z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, { message: 'is not a dotted JSON path (e.g. errors.0.extensions.code)' });
const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const jsonAssertionSchema = z
  .strictObject({
    /** Where in the response body. */
    path: jsonPath,
    /** The value there must equal this. */
    equals: jsonScalar.optional(),
    /** The value there must not equal this (e.g. a GraphQL `INTERNAL_ERROR`). */
    notEquals: jsonScalar.optional(),
    /** The path must exist (true) or be absent (false). @default true when neither equals nor notEquals is given */
    exists: z.boolean(typeError('must be true or false')).optional(),
  })
  .refine((a) => a.equals !== undefined || a.notEquals !== undefined || a.exists !== undefined, { message: 'needs one of equals, notEquals or exists' });

const requestPath = z.string().regex(/^\/[A-Za-z0-9._~/%?&=+:@,;-]*$/, { message: 'is not a URL path starting with "/" (a query string is allowed)' });
const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, { message: 'is not an HTTP header name' });
const headerValue = z.string().regex(/^[\x20-\x7e]*$/, { message: 'must be printable ASCII on one line' });
const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], typeError('must be GET, HEAD, POST, PUT, PATCH or DELETE'));

/** Headers of a check; an Authorization header could only hold a literal secret, so it is refused. */
const headers = z.record(headerName, headerValue).refine((h) => !Object.keys(h).some((k) => k.toLowerCase() === 'authorization'), {
  message: 'must not set Authorization (it would hold a secret in config): use auth: true to send the login token',
});

export const smokeCheckSchema = z.strictObject({
  /** @default GET */
  method: httpMethod.default('GET'),
  /** Path on the release (its own port on the host, the public URL from `ops smoke`). */
  path: requestPath,
  /** Extra request headers (no secrets). @default - none */
  headers: headers.optional(),
  /** Request body: a string as is, or JSON (sent with `Content-Type: application/json`). @default - no body */
  body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  /** Send `Authorization: Bearer <token>` with the token the login step captured. @default false */
  auth: z.boolean(typeError('must be true or false')).default(false),
  /** What the answer must be. */
  expect: z.strictObject({
    /** HTTP status or class; required, so a check always states what passing means. */
    status: expectedStatus,
    /** Assertions on the JSON body. @default - none */
    json: z.array(jsonAssertionSchema).optional(),
  }),
});

export const smokeLoginSchema = z.strictObject({
  /** @default POST */
  method: httpMethod.default('POST'),
  path: requestPath,
  /** How the fields are sent: a JSON object or an HTML form. @default json */
  encoding: z.enum(['json', 'form'], typeError('must be json or form')).default('json'),
  /** Fields whose values come from the secret store, by name (required: a login without credentials proves nothing). */
  credentials: z
    .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, { message: 'is not a form or JSON field name' }), secretRef)
    .refine((c) => Object.keys(c).length > 0, { message: 'must name at least one field with a secret reference, e.g. password: { secret: SMOKE_PASSWORD }' }),
  /** Non-secret fields sent with them (e.g. grant_type). @default - none */
  fields: z.record(z.string(), z.string()).optional(),
  /** Where the token is in the JSON answer. @default access_token */
  tokenPath: jsonPath.default('access_token'),
  /** @default 200 */
  expectStatus: expectedStatus.default(200),
});

/** `app.smoke`: the checks every environment runs after a deploy. */
export const smokeSchema = z.strictObject({
  /** Logs in once before the checks that say `auth: true`. @default - no login */
  login: smokeLoginSchema.optional(),
  /** Checks by name, run in this order. */
  checks: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'is not a check name (lower-case letters, digits, "-")' }), smokeCheckSchema),
});

/** `environments.<env>.smoke`: replaces the app's login, and checks by name (`false` drops one). */
export const smokeOverrideSchema = z.strictObject({
  login: smokeLoginSchema.optional(),
  checks: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'is not a check name (lower-case letters, digits, "-")' }),
      z.union([smokeCheckSchema, z.literal(false)]),
    )
    .optional(),
});

/** `app.migration`: run once per deploy with `compose run --rm <service> <command...>`, before the release takes traffic. */
export const migrationSchema = z.strictObject({
  /** Compose service whose image runs the command (the new release's build). */
  service: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, { message: 'is not a Compose service name' }),
  /** The command as words (no shell), e.g. [alembic, upgrade, head] or [npx, prisma, migrate, deploy]. */
  command: z
    .array(
      z.string().regex(/^[A-Za-z0-9._/:=@+,-]+$/, { message: 'is not a plain word (letters, digits and ._/:=@+,- only; no spaces, quotes or shell syntax)' }),
    )
    .min(1, { message: 'must have at least one word' }),
  /**
   * The secrets (names from `app.secrets`) the Kubernetes migration Job gets, each as one variable
   * read from the environment's Secret: a migration needs the database, not the signing and
   * encryption keys. (On the EC2 host, compose runs the migration in its service with the
   * service's env file.)
   * @default - [DATABASE_URL] when app.secrets declares it, else none
   */
  secrets: z
    .array(appSecretName, typeError('must be a list of secret names'))
    .refine((names) => new Set(names).size === names.length, { message: 'names a secret twice' })
    .optional(),
});

/** The secrets the migration Job gets: `app.migration.secrets`, else DATABASE_URL when declared, else none. */
export function migrationSecretNames(app: {
  readonly migration?: { readonly secrets?: readonly string[] };
  readonly secrets: { readonly required: readonly string[]; readonly optional: readonly string[] };
}): string[] {
  if (app.migration?.secrets) return [...app.migration.secrets];
  return [...app.secrets.required, ...app.secrets.optional].includes(DEFAULT_MIGRATION_SECRET) ? [DEFAULT_MIGRATION_SECRET] : [];
}

/** What a migration needs when the config does not say: the database connection. */
export const DEFAULT_MIGRATION_SECRET = 'DATABASE_URL';

/**
 * Checks that need the app and an environment together (the environment's overrides merge into
 * the app's): a check with `auth: true` needs a login step, from the app or the environment.
 */
export function smokeAuthIssues(
  app: { readonly smoke?: z.output<typeof smokeSchema> },
  environments: Readonly<Record<string, { readonly smoke?: z.output<typeof smokeOverrideSchema> }>>,
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [name, env] of Object.entries(environments)) {
    if (env.smoke?.login ?? app.smoke?.login) continue;
    const merged = { ...(app.smoke?.checks ?? {}), ...(env.smoke?.checks ?? {}) };
    for (const [check, value] of Object.entries(merged)) {
      if (value !== false && value.auth) {
        const own = env.smoke?.checks?.[check] !== undefined;
        issues.push({
          path: own ? ['environments', name, 'smoke', 'checks', check, 'auth'] : ['app', 'smoke', 'checks', check, 'auth'],
          message: `needs a login step, and environment ${name} has none (add app.smoke.login or environments.${name}.smoke.login)`,
        });
      }
    }
  }
  return issues;
}
