import { declaredSecretNames, parseResponseCheck, secretsPath } from '../../lib/config/schema/secrets';
import { configWith, problemsOf, shippedConfigInput } from '../helpers/config-fixtures';

/*
 * app.secrets and environments.<env>.secrets: names only, one path per environment, rotation
 * hooks whose checks follow one grammar. GIVEN the shipped config with one field changed, WHEN it
 * is validated, THEN the exact line is reported.
 */

// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, broken on purpose
type Raw = Record<string, any>;

function brokenBy(edit: (raw: Raw) => void): readonly string[] {
  const raw = shippedConfigInput();
  edit(raw);
  return problemsOf(raw);
}

describe('the shipped secrets config', () => {
  test('declares names, a prod change window and the default paths', () => {
    const config = configWith(() => undefined);
    expect(declaredSecretNames(config.app.secrets)).toEqual([
      'DATABASE_URL',
      'SECRET_KEY',
      'ENCRYPTION_KEY',
      'POSTGRES_PASSWORD',
      'REDIS_PASSWORD',
      'BINANCE_TESTNET_BASE_URL',
      'IBKR_BRIDGE_BASE_URL',
    ]);
    expect(config.environments.prod.secrets.requireChangeWindow).toBe(true);
    expect(config.environments.dev.secrets.requireChangeWindow).toBe(false);
    expect(secretsPath('auraxis', 'prod', config.environments.prod.secrets)).toBe('/auraxis/prod/');
    expect(config.app.secrets.reencrypt.ENCRYPTION_KEY).toEqual({
      path: '/ops/security/reencrypt-exchange-secrets',
      oldKeyField: 'old_key',
      newKeyField: 'new_key',
      dryRunField: 'dry_run',
      checks: ['scanned > 0', 'updated == scanned'],
    });
  });

  test('an app without secrets gets empty lists and a 24-hour backup age', () => {
    const config = configWith((c) => {
      delete c.app.secrets;
      delete c.environments.prod.secrets;
      // Without names, each ExternalSecret extracts one JSON parameter of its own path.
      c.environments.dev.kubernetes.externalSecret.remoteKey = '/auraxis/dev/api-env';
      c.environments.prod.kubernetes.externalSecret.remoteKey = '/auraxis/prod/api-env';
    });
    expect(config.app.secrets).toEqual({ required: [], optional: [], invalidatesSessions: [], maxBackupAgeHours: 24, reencrypt: {} });
    expect(config.environments.prod.secrets).toEqual({ requireChangeWindow: false });
  });

  test('a configured path wins over the default', () => {
    const config = configWith((c) => {
      c.environments.dev.secrets = { path: '/shared-account/auraxis-dev/' };
    });
    expect(secretsPath('auraxis', 'dev', config.environments.dev.secrets)).toBe('/shared-account/auraxis-dev/');
  });
});

describe('bad secrets config is rejected with the key path and the value', () => {
  test.each<[string, (raw: Raw) => void, string]>([
    [
      'a lower-case name',
      (c) => c.app.secrets.required.push('database_url'),
      'app.secrets.required[5]: "database_url" is not a secret name (upper-case letters, digits and "_", e.g. DATABASE_URL)',
    ],
    ['a name that is not a string', (c) => c.app.secrets.optional.push(42), 'app.secrets.optional[2]: 42 is not a secret name'],
    [
      'a name both required and optional',
      (c) => c.app.secrets.optional.push('SECRET_KEY'),
      'app.secrets.optional[2]: "SECRET_KEY" is declared twice; each secret is either required or optional',
    ],
    [
      'an unknown key under app.secrets',
      (c) => (c.app.secrets.values = { SECRET_KEY: 'x' }),
      'app.secrets.values: is not a known key (remove it or check its spelling)',
    ],
    [
      'an unknown key under an environment',
      (c) => (c.environments.dev.secrets = { prefix: '/a/' }),
      'environments.dev.secrets.prefix: is not a known key (remove it or check its spelling)',
    ],
    [
      'a session key that is not declared',
      (c) => (c.app.secrets.invalidatesSessions = ['JWT_SECRET']),
      'app.secrets.invalidatesSessions[0]: "JWT_SECRET" is not a declared secret (list it in required or optional)',
    ],
    [
      'a hook for an undeclared secret',
      (c) => (c.app.secrets.reencrypt.API_KEY = { path: '/x', checks: ['a > 0'] }),
      'is not a declared secret (list it in required or optional)',
    ],
    [
      'a check outside the grammar',
      (c) => (c.app.secrets.reencrypt.ENCRYPTION_KEY.checks = ['scanned is positive']),
      'app.secrets.reencrypt.ENCRYPTION_KEY.checks[0]: "scanned is positive" is not a response check "<field> <op> <field or number>"',
    ],
    [
      'a hook without checks',
      (c) => (c.app.secrets.reencrypt.ENCRYPTION_KEY.checks = []),
      'app.secrets.reencrypt.ENCRYPTION_KEY.checks: [] must list at least one check',
    ],
    ['a zero backup age', (c) => (c.app.secrets.maxBackupAgeHours = 0), 'app.secrets.maxBackupAgeHours: 0 must be a positive whole number'],
    [
      'a relative path',
      (c) => (c.environments.dev.secrets = { path: 'auraxis/dev/' }),
      'environments.dev.secrets.path: "auraxis/dev/" is not a Parameter Store path (absolute, ending in "/", e.g. /auraxis/prod/)',
    ],
    [
      'a path without the trailing slash',
      (c) => (c.environments.dev.secrets = { path: '/auraxis/dev' }),
      'environments.dev.secrets.path: "/auraxis/dev" is not a Parameter Store path',
    ],
    [
      'a change-window flag that is not a boolean',
      (c) => (c.environments.prod.secrets.requireChangeWindow = 'yes'),
      'environments.prod.secrets.requireChangeWindow: "yes" must be true or false',
    ],
  ])('%s', (_name, edit, expected) => {
    expect(brokenBy(edit)).toEqual([expect.stringContaining(expected)]);
  });

  test('dev pointed at prod’s path is refused: the dev instance could read prod’s values', () => {
    expect(brokenBy((c) => (c.environments.dev.secrets = { path: '/auraxis/prod/' }))).toEqual([
      'environments.dev.secrets.path: "/auraxis/prod/" is also environment prod\'s secrets path "/auraxis/prod/": each environment needs its own path, or one instance can read the other\'s values',
    ]);
  });

  test('a path inside another environment’s path is refused', () => {
    expect(brokenBy((c) => (c.environments.dev.secrets = { path: '/auraxis/prod/dev/' }))).toEqual([
      'environments.dev.secrets.path: "/auraxis/prod/dev/" is inside environment prod\'s secrets path "/auraxis/prod/": each environment needs its own path, or one instance can read the other\'s values',
    ]);
  });

  test('sibling paths that share a prefix of characters, not of path parts, are fine', () => {
    expect(brokenBy((c) => (c.environments.dev.secrets = { path: '/auraxis/prod-dev/' }))).toEqual([]);
  });
});

describe('response checks', () => {
  test.each([
    ['scanned > 0', { field: 'scanned', op: '>', right: { number: 0 } }],
    ['updated == scanned', { field: 'updated', op: '==', right: { field: 'scanned' } }],
    ['result.failed <= -1.5', { field: 'result.failed', op: '<=', right: { number: -1.5 } }],
  ])('%s parses', (text, expected) => {
    expect(parseResponseCheck(text)).toEqual({ ...expected, text });
  });

  test.each(['scanned>0', 'scanned > ', '> 0', 'scanned = 0', 'scanned > 0; rm -rf /'])('%s does not', (text) => {
    expect(parseResponseCheck(text)).toBeUndefined();
  });
});
