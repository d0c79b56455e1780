import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { COMPLETION_FILE, checkSynthCompletion, type SynthCompletion } from '../../lib/synth-output/completion';
import { GATE_END, GATE_START, REVIEW_MARKER } from '../../scripts/review/comment';
import { logTail } from '../../scripts/review/failure';
import { shippedConfigInput } from '../helpers/config-fixtures';
import { projectRoot } from '../helpers/paths';
import { sharedSynthDir } from '../helpers/synth';
import { PROD_HOST, run } from './helpers';
import { scenario } from './scenario';

/*
 * The truth when it fails: a synth output cut short is refused (never read as "everything
 * deleted"), and a failed synth or review produces the comment that replaces the old review,
 * with the error and the next thing to run.
 */

describe('a synth output synth did not finish is refused, not compared', () => {
  test('synth writes the completion record last, naming every environment and file', () => {
    const record = JSON.parse(readFileSync(join(sharedSynthDir, 'cdk.out', COMPLETION_FILE), 'utf8')) as SynthCompletion;
    expect(record.environments).toEqual(['dev', 'prod']);
    expect(Object.keys(record.files)).toEqual(
      expect.arrayContaining(['cdk.out/manifest.json', `cdk.out/${PROD_HOST}.template.json`, 'dist/prod/auraxis.k8s.yaml', 'dist/dev/auraxis.k8s.yaml']),
    );
    expect(checkSynthCompletion(sharedSynthDir)).toEqual({ record });
  });

  test.each([
    ['a missing environment directory', 'dist/prod', 'dist/prod is missing'],
    ['a missing template', `cdk.out/${PROD_HOST}.template.json`, `cdk.out/${PROD_HOST}.template.json is missing`],
    [
      'no completion record (the synth stopped before the end)',
      `cdk.out/${COMPLETION_FILE}`,
      `no cdk.out/${COMPLETION_FILE}: the synth that wrote it did not finish`,
    ],
  ])('%s: exit 2, one line naming it, no comment', (_what, path, problem) => {
    const s = scenario();
    s.damage(path);
    const { code, out, err } = run([sharedSynthDir, s.dir]);
    expect([code, out]).toEqual([2, '']);
    expect(err).toBe(
      `head directory ${s.dir} is not a complete synth output (${problem}${path === 'dist/prod' ? ', and 1 more' : ''}): refused rather than compared; run \`npm run synth -- --out ${s.dir}\` on the head commit again\n`,
    );
  });

  test('a template cut short after synth wrote it: refused', () => {
    const s = scenario();
    const path = join(s.dir, 'cdk.out', `${PROD_HOST}.template.json`);
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, 1000));
    const { code, err } = run([s.dir, sharedSynthDir]);
    expect(code).toBe(2);
    expect(err).toContain(`(cdk.out/${PROD_HOST}.template.json differs from what synth wrote)`);
  });
});

describe('a failed synth replaces the review with the error and the next thing to run', () => {
  // A real synth of a config with a planted mistake: it fails before writing anything.
  const dir = mkdtempSync(join(tmpdir(), 'review-failed-synth-'));
  const config = shippedConfigInput();
  config.environments.prod.account = '12345';
  writeFileSync(join(dir, 'environments.yaml'), stringify(config));
  const synth = spawnSync('npx', ['ts-node', '--swc', 'bin/synth.ts', '--out', join(dir, 'out')], {
    cwd: projectRoot,
    env: { ...process.env, APP_CONFIG: join(dir, 'environments.yaml') },
    encoding: 'utf8',
  });
  writeFileSync(join(dir, 'synth.log'), `${synth.stdout}${synth.stderr}`);
  const { code, out } = run([
    '--failed',
    'synth of the head commit',
    '--next',
    'npm run synth',
    '--log',
    join(dir, 'synth.log'),
    '--head-ref',
    'def5678',
    '--run-url',
    'https://github.com/o/r/actions/runs/1',
  ]);

  test('the synth failed (exit 1) with its one-line config error', () => {
    expect(synth.status).toBe(1);
    expect(synth.stderr).toContain('environments.prod.account');
  });

  test('the comment carries the marker (it replaces the old review), what failed, the error and the next command; the gate fails', () => {
    expect(code).toBe(0);
    expect(out.startsWith(REVIEW_MARKER)).toBe(true);
    expect(out).toContain('⛔ **No review: the synth of the head commit failed** for `def5678` ([workflow run](https://github.com/o/r/actions/runs/1)).');
    expect(out).toContain('an earlier review of it, if any, no longer applies');
    expect(out).toMatch(/The end of its output:\n\n```\n[\s\S]*environments\.prod\.account[\s\S]*\n```/);
    expect(out).toContain('Next: `npm run synth`, fix what it reports, and push again.');
    expect(out).toContain(`${GATE_START}\n⛔ **The check fails** until a review of this head exists.\n${GATE_END}`);
  });

  test('--failed needs --next', () => {
    expect(run(['--failed', 'synth']).code).toBe(2);
  });

  test('the log is bounded and cannot close the code block', () => {
    const tail = logTail(`${Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n')}\n\`\`\`\n${'\u001b[31mred\u001b[0m'}`);
    expect(tail.split('\n')).toHaveLength(40);
    expect(tail).not.toContain('```');
    expect(tail.endsWith("'''\nred")).toBe(true);
  });
});
