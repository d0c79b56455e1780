import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../helpers/paths';
import { TIERS } from '../tiers';

/*
 * .ci/run, CI's entry point, run for real with a stand-in npm that records its arguments: with no
 * tier it is the README's `npm ci` + `npm test`; with a tier, that jest project alone (the
 * pull-request workflow runs the three as parallel jobs).
 */

function ciRun(...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ci-run-'));
  mkdirSync(join(dir, '.ci'));
  cpSync(join(projectRoot, '.ci/run'), join(dir, '.ci/run'));
  const calls = join(dir, 'calls');
  writeFileSync(calls, '');
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin/npm'), `#!/bin/bash\necho "npm $*" >> '${calls}'\n`);
  chmodSync(join(dir, 'bin/npm'), 0o755);
  const result = spawnSync('/bin/bash', [join(dir, '.ci/run'), ...args], { env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin` }, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr, calls: readFileSync(calls, 'utf8').trimEnd().split('\n').filter(Boolean) };
}

test('without a tier: npm ci, then npm test (type-check, lint, every tier)', () => {
  expect(ciRun()).toEqual({ status: 0, stderr: '', calls: ['npm ci --no-audit --no-fund', 'npm test'] });
});

test('the unit tier also type-checks and lints; the others run their jest project', () => {
  expect(ciRun('unit').calls).toEqual(['npm ci --no-audit --no-fund', 'npm run typecheck', 'npm run lint', 'npm run test:unit']);
  expect(ciRun('synth').calls).toEqual(['npm ci --no-audit --no-fund', 'npm run test:synth']);
  expect(ciRun('host').calls).toEqual(['npm ci --no-audit --no-fund', 'npm run test:host']);
});

test('every tier has its npm script; the host tier installs the system packages first', () => {
  const scripts = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).scripts;
  for (const tier of TIERS) expect(scripts[`test:${tier}`]).toBe(`TEST_TIER=${tier} jest`);
  expect(scripts['pretest:host']).toBe(scripts.pretest);
  expect(scripts.test).toBe('npm run typecheck && npm run lint && jest');
});

test('an unknown tier is one line, exit 2, before npm ci', () => {
  expect(ciRun('all')).toEqual({ status: 2, stderr: '.ci/run: unknown tier "all" (unit, synth or host; none for everything)\n', calls: [] });
});
