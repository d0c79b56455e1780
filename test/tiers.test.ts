import { join, relative } from 'node:path';
import config from '../jest.config';
import { needsGlobalSynth, type TierLayout, testFiles, testTiers, tierOf, unitTierProblems } from './tiers';

/*
 * The unit tier (`npm run test:unit`) runs without the global synth and without the system
 * packages: every file the tier derivation puts there is checked against both, and the checks are
 * shown to catch a file that breaks them (made-up sources, same rules).
 */

const layout: TierLayout = { testRoot: __dirname };
const tiers = testTiers(layout);
const name = (file: string) => relative(__dirname, file);

test('every test file is in exactly one tier', () => {
  const all = [...tiers.unit, ...tiers.synth, ...tiers.host].sort();
  expect(all).toEqual(testFiles(layout));
  expect(new Set(all).size).toBe(all.length);
});

test('no unit-tier file imports the synth helper, reads its output or starts a system program', () => {
  expect(tiers.unit.flatMap((file) => unitTierProblems(file, layout))).toEqual([]);
});

test('the tiers hold the files their names promise', () => {
  expect(tiers.unit.map(name)).toContain('tiers.test.ts');
  expect(tiers.unit.map(name)).toContain('config/schema.test.ts');
  expect(tiers.synth.map(name)).toContain('stacks/host-stack.test.ts');
  // Synthesizes the whole app itself (no shared output): the synth tier too.
  expect(tiers.synth.map(name)).toEqual(expect.arrayContaining(['synth/atomic-output.test.ts', 'stacks/planted-violations.test.ts']));
  expect(tiers.host.map(name)).toContain('host/deploy.test.ts');
  // Outside test/host/, but runs real git through test/helpers/git-fixture.ts.
  expect(tiers.host.map(name)).toContain('config/git-ref.test.ts');
  expect(tiers.host.every((file) => file.startsWith(join(__dirname, 'host')) || unitTierProblems(file, layout).length > 0)).toBe(true);
});

test('only the synth tier (and host files reading the shipped output) need the global synth', () => {
  expect(needsGlobalSynth(tiers.unit, layout)).toBe(false);
  expect(needsGlobalSynth(tiers.synth, layout)).toBe(true);
});

test('test timeouts: 60 s for every project (set where jest reads it), a 600 s ceiling for the host tier', () => {
  // jest-circus reads testTimeout from the global config only; in a project it would be ignored (5 s default).
  expect(config.testTimeout).toBe(60_000);
  const projects = (config.projects ?? []) as { displayName: string; testTimeout?: number; setupFilesAfterEnv?: string[] }[];
  expect(projects.filter((p) => p.testTimeout !== undefined)).toEqual([]);
  const only = process.env.TEST_TIER;
  expect(projects.map((p) => [p.displayName, p.setupFilesAfterEnv?.includes('<rootDir>/test/helpers/host-tier-timeout.ts')])).toEqual(
    [
      ['unit', false],
      ['synth', false],
      ['host', true],
    ].filter(([tier]) => only === undefined || tier === only),
  );
});

test('jest.config.ts builds its projects from this derivation, the global setup only where it is needed', () => {
  const projects = (config.projects ?? []) as { displayName: string; testMatch: string[]; globalSetup?: string }[];
  expect(config.globalSetup).toBeUndefined(); // at the top level it would run for every project
  const expected = [
    ['unit', tiers.unit, undefined],
    ['synth', tiers.synth, '<rootDir>/test/helpers/global-setup.ts'],
    ['host', tiers.host, needsGlobalSynth(tiers.host, layout) ? '<rootDir>/test/helpers/global-setup.ts' : undefined],
  ];
  // Under `npm run test:<tier>` (TEST_TIER) the config holds that one project.
  const only = process.env.TEST_TIER;
  expect(projects.map((p) => [p.displayName, p.testMatch, p.globalSetup])).toEqual(expected.filter(([tier]) => only === undefined || tier === only));
});

describe('the rules catch a file that breaks them (made-up sources)', () => {
  const root = '/project/test';
  const fake: TierLayout = { testRoot: root };
  const check = (files: Record<string, string>, file: string): { tier: string; problems: string[] } => {
    const read = (path: string) => {
      const source = files[path];
      if (source === undefined) throw new Error(`no such file ${path}`);
      return source;
    };
    const exists = (path: string) => path in files;
    return { tier: tierOf(file, fake, read, exists), problems: unitTierProblems(file, fake, read, exists) };
  };
  // Spelt in pieces so that this file's own source does not break the rules it shows being enforced.
  const [spawnSync, execFileSync, outputDir] = ['spawn' + 'Sync', 'execFile' + 'Sync', 'shared' + 'CdkOut'];
  const helpers = {
    '/project/test/helpers/synth.ts': `import { ${outputDir} } from './paths';\nexport const t = 1;`,
    '/project/test/helpers/paths.ts': `export const ${outputDir} = "x";`,
    '/project/test/helpers/git-fixture.ts': `import { ${execFileSync} } from 'node:child_process';\nexport const git = () => ${execFileSync}('git', []);`,
    '/project/test/helpers/config-fixtures.ts': "import { parse } from 'yaml';\nexport const c = 1;",
  };

  test('a plain file is unit, with no problems', () => {
    const file = '/project/test/config/a.test.ts';
    expect(check({ ...helpers, [file]: "import { c } from '../helpers/config-fixtures';\nconst m = /x/.exec('x');" }, file)).toEqual({
      tier: 'unit',
      problems: [],
    });
  });

  test('importing the synth helper, directly or through another helper, is the synth tier', () => {
    const direct = '/project/test/a.test.ts';
    const indirect = '/project/test/b.test.ts';
    const files = {
      ...helpers,
      [direct]: "import { t } from './helpers/synth';",
      [indirect]: "import { k } from './helpers/k8s';",
      '/project/test/helpers/k8s.ts': "import type { t } from './synth';",
    };
    expect(check(files, direct)).toEqual({
      tier: 'synth',
      problems: ['a.test.ts imports the synth helper (through helpers/synth.ts): it belongs to the synth tier'],
    });
    expect(check(files, indirect).tier).toBe('synth');
    expect(check(files, indirect).problems).toContain('b.test.ts imports the synth helper (through helpers/synth.ts): it belongs to the synth tier');
  });

  test("reading the global synth's directories without the helper is a problem", () => {
    const file = '/project/test/a.test.ts';
    const result = check({ ...helpers, [file]: `import { ${outputDir} } from './helpers/paths';` }, file);
    expect(result.tier).toBe('unit');
    expect(result.problems).toEqual(["a.test.ts reads the global synth's output directory: import it through test/helpers/synth.ts"]);
  });

  test('starting a system program is a problem; node and a shell are not', () => {
    const file = '/project/test/a.test.ts';
    const source = [
      `import { ${spawnSync} } from 'node:child_process';`,
      `${spawnSync}(process.execPath, ['-e', '1']);`,
      `${spawnSync}('/bin/bash', ['x.sh']);`,
      `${spawnSync}('podman', ['ps']);`,
      `${execFileSync}(\`dot\`, []);`,
    ].join('\n');
    expect(check({ ...helpers, [file]: source }, file).problems).toEqual([
      'a.test.ts starts podman: only process.execPath, node, npm, npx, sh, bash, /bin/sh, /bin/bash are allowed in the unit tier',
      'a.test.ts starts dot: only process.execPath, node, npm, npx, sh, bash, /bin/sh, /bin/bash are allowed in the unit tier',
    ]);
  });

  test('a file that synthesizes the whole app itself is the synth tier', () => {
    const viaSynthAll = '/project/test/synth/a.test.ts';
    const viaBuildApps = '/project/test/stacks/b.test.ts';
    const oneStack = '/project/test/stacks/c.test.ts';
    const files = {
      ...helpers,
      [viaSynthAll]: "import { synthesizeAll } from '../../bin/synth-all';",
      [viaBuildApps]: "import { addNagChecks, buildAwsApp } from '../../bin/build-apps';",
      [oneStack]: "import { addNagChecks } from '../../bin/build-apps';",
    };
    expect(check(files, viaSynthAll)).toEqual({ tier: 'synth', problems: ['synth/a.test.ts synthesizes the whole app: synth tier'] });
    expect(check(files, viaBuildApps).tier).toBe('synth');
    expect(check(files, oneStack)).toEqual({ tier: 'unit', problems: [] });
  });

  test('a file under test/host/, or using a helper that starts programs, is the host tier', () => {
    const underHost = '/project/test/host/a.test.ts';
    const viaHelper = '/project/test/config/b.test.ts';
    const files = { ...helpers, [underHost]: '', [viaHelper]: "import { git } from '../helpers/git-fixture';" };
    expect(check(files, underHost).tier).toBe('host');
    expect(check(files, viaHelper)).toEqual({
      tier: 'host',
      problems: [
        'config/b.test.ts uses a helper that starts programs (through helpers/git-fixture.ts): host tier',
        'config/b.test.ts starts git (through helpers/git-fixture.ts): only process.execPath, node, npm, npx, sh, bash, /bin/sh, /bin/bash are allowed in the unit tier',
      ],
    });
  });
});
