import { NAMES_OF_OTHER_STACKS } from '../../lib/config/schema';
import { sharedAccountNotes } from '../../lib/config/schema/accounts';
import { bootstrapNames } from '../../lib/names';
import { problemsOf, shippedConfigInput } from '../helpers/config-fixtures';

/*
 * Accounts and bootstrap names: one account per environment unless the config says otherwise,
 * environment names that cannot continue one another, distinct CDK bootstrap qualifiers.
 */

// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, edited by each case
const brokenBy = (edit: (c: Record<string, any>) => void) => {
  const raw = shippedConfigInput();
  edit(raw);
  return problemsOf(raw);
};

describe('accounts', () => {
  test('the shipped config gives dev and prod accounts of their own', () => {
    const raw = shippedConfigInput();
    expect(raw.environments.dev.account).not.toBe(raw.environments.prod.account);
    expect(problemsOf(raw)).toEqual([]);
  });

  test('two environments in one account are refused, on each account key, until both say sharedAccount: true', () => {
    // biome-ignore lint/suspicious/noExplicitAny: raw YAML data
    const sameAccount = (c: Record<string, any>) => (c.environments.dev.account = c.environments.prod.account);
    expect(brokenBy(sameAccount)).toEqual([
      expect.stringMatching(
        /^environments\.dev\.account: "765480282720" is also the account of environments\.prod: give each environment an account of its own/,
      ),
      expect.stringMatching(
        /^environments\.prod\.account: "765480282720" is also the account of environments\.dev: .* set sharedAccount: true on each environment/,
      ),
    ]);
    expect(
      brokenBy((c) => {
        sameAccount(c);
        c.environments.dev.sharedAccount = true;
      }),
    ).toEqual([expect.stringMatching(/^environments\.prod\.account: /)]);
    expect(
      brokenBy((c) => {
        sameAccount(c);
        c.environments.dev.sharedAccount = true;
        c.environments.prod.sharedAccount = true;
      }),
    ).toEqual([]);
  });

  test('sharedAccount must be a boolean', () => {
    expect(brokenBy((c) => (c.environments.dev.sharedAccount = 'yes'))).toEqual(['environments.dev.sharedAccount: "yes" must be true or false']);
  });

  test('synth notes name the environments, the account and what they still share; none for separate accounts', () => {
    const envs = {
      dev: { account: '111122223333', sharedAccount: true },
      prod: { account: '111122223333', sharedAccount: true },
      qa: { account: '444455556666', sharedAccount: false },
    };
    const notes = sharedAccountNotes(envs);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^environments dev, prod share AWS account 111122223333 \(sharedAccount: true\): /);
    for (const shared of ['OIDC provider', 'CloudTrail', 'aws/ssm', 'quotas', 'root user']) expect(notes[0]).toContain(shared);
    expect(sharedAccountNotes({ dev: envs.dev, qa: envs.qa })).toEqual([]);
  });
});

describe('environment names', () => {
  test.each([
    ['dev-eu', 'must not contain "-"'],
    ['account', 'is reserved (<app>-account-…'],
    ['health', 'is reserved (<app>-account-…'],
  ])('%s is refused with the rule', (name, rule) => {
    const problems = brokenBy((c) => {
      c.environments[name] = c.environments.dev;
      delete c.environments.dev;
    });
    expect(problems).toEqual([expect.stringContaining(`environments.${name}: name "${name}" ${rule}`)]);
  });

  test('the names of other stacks are the ones lib/names.ts builds', () => {
    expect(NAMES_OF_OTHER_STACKS).toEqual(['account', 'health']);
  });

  test('deveu is accepted (negative control)', () => {
    expect(
      brokenBy((c) => {
        c.environments.deveu = c.environments.dev;
        delete c.environments.dev;
      }),
    ).toEqual([]);
  });
});

describe('CDK bootstrap qualifiers', () => {
  test('production and production2 would share one: the second is refused naming both', () => {
    expect(bootstrapNames.qualifier('auraxis', 'production')).toBe(bootstrapNames.qualifier('auraxis', 'production2'));
    const problems = brokenBy((c) => {
      c.environments.production = c.environments.prod;
      c.environments.production2 = structuredClone(c.environments.prod);
      delete c.environments.prod;
      c.environments.production2.domain = 'two.auraxis.com.br';
      c.environments.production2.kubernetes.host = 'two.auraxis.com.br';
      c.environments.production2.kubernetes.namespace = 'auraxis-two';
      c.environments.production2.account = '111122223333';
    });
    expect(problems).toEqual([
      `environments.production2: name "production2" gives the CDK bootstrap qualifier "${bootstrapNames.qualifier('auraxis', 'production')}" that environments.production gives too (app and environment names cut to 10 characters): the two would share bootstrap roles and staging bucket; rename one of them`,
    ]);
  });

  test('dev and prod get different qualifiers (negative control)', () => {
    expect(bootstrapNames.qualifier('auraxis', 'dev')).not.toBe(bootstrapNames.qualifier('auraxis', 'prod'));
  });
});
