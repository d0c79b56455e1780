import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemblyHash } from '../../scripts/review/assembly-hash';
import { runAssembly } from '../../scripts/review/verify-assembly';
import { sharedCdkOut } from '../helpers/synth';

/*
 * What was reviewed is what deploys: the deploy jobs verify the downloaded assembly against the
 * hash their synth job computed, and refuse any other (scripts/review/verify-assembly.ts).
 */
function assembly(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'assembly-')), 'cdk.out');
  cpSync(sharedCdkOut, dir, { recursive: true });
  return dir;
}
function run(args: string[]) {
  let out = '';
  let err = '';
  const code = runAssembly(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const expected = assemblyHash(sharedCdkOut);

test('the hash of a copy is the hash of the original; `hash` prints it', () => {
  expect(expected).toMatch(/^sha256:[0-9a-f]{64}$/);
  const copy = assembly();
  expect(run(['hash', copy])).toEqual({ code: 0, out: `${expected}\n`, err: '' });
  expect(run(['verify', copy, expected])).toEqual({ code: 0, out: `${copy}: ${expected}, the assembly this pipeline synthesized\n`, err: '' });
});

test.each([
  [
    'a template changed by one character',
    (dir: string) => {
      const path = join(dir, 'auraxis-prod-host.template.json');
      writeFileSync(path, readFileSync(path, 'utf8').replace('t4g.small', 't4g.large'));
    },
  ],
  ['a file added', (dir: string) => writeFileSync(join(dir, 'extra.template.json'), '{}')],
  [
    'a file renamed',
    (dir: string) => {
      cpSync(join(dir, 'auraxis-dev-data.template.json'), join(dir, 'auraxis-dev-data2.template.json'));
      writeFileSync(join(dir, 'auraxis-dev-data.template.json'), '');
    },
  ],
])('%s: refused, exit 1, one line', (_what, change) => {
  const dir = assembly();
  change(dir);
  const { code, out, err } = run(['verify', dir, expected]);
  expect([code, out]).toEqual([1, '']);
  expect(err).toMatch(
    new RegExp(
      `^assembly: ${dir} is not the assembly this pipeline synthesized \\(sha256:[0-9a-f]{64}, expected ${expected}\\): refusing to deploy it; re-run the workflow from its synth job\\n$`,
    ),
  );
});

test('a link inside the assembly is refused', () => {
  const dir = assembly();
  symlinkSync('/etc/hostname', join(dir, 'linked.json'));
  const { code, err } = run(['verify', dir, expected]);
  expect(code).toBe(1);
  expect(err).toBe(
    `assembly: linked.json in ${dir} is neither a file nor a directory (a link?): an assembly holds files only; download the pipeline's cloud-assembly artifact again\n`,
  );
});

test('a directory that is not an assembly, and usage mistakes', () => {
  expect(run(['verify', tmpdir(), expected])).toMatchObject({ code: 1, err: expect.stringContaining('is not a cloud assembly (no manifest.json)') });
  expect(run(['verify', sharedCdkOut, 'abc']).code).toBe(2);
  expect(run(['verify', sharedCdkOut]).code).toBe(2);
  expect(run(['frobnicate']).code).toBe(2);
  expect(run(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('usage: npm run assembly -- hash <assembly-dir>') });
});

test('verify-output: the assembly, then every manifest against the record inside it; a changed manifest is refused', () => {
  const root = mkdtempSync(join(tmpdir(), 'synth-output-'));
  cpSync(join(sharedCdkOut, '..'), root, { recursive: true });
  expect(run(['verify-output', root, expected])).toEqual({ code: 0, out: `${root}: ${expected}, the output this pipeline synthesized\n`, err: '' });
  const manifest = join(root, 'dist', 'prod', 'auraxis.k8s.yaml');
  writeFileSync(manifest, `${readFileSync(manifest, 'utf8')}---\nkind: ConfigMap\n`);
  expect(run(['verify-output', root, expected])).toEqual({
    code: 1,
    out: '',
    err: `assembly: ${root} is not the output this pipeline synthesized (dist/prod/auraxis.k8s.yaml differs from what synth wrote): refusing to use it; re-run the workflow from its synth job\n`,
  });
});
