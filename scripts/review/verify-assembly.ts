#!/usr/bin/env node
/*
 * `npm run assembly -- hash <dir>` prints a cloud assembly's hash; `npm run assembly -- verify <dir>
 * <sha256:…>` exits 0 when the directory is exactly that assembly and 1, with one line, when it is
 * not: the deploy jobs run it on the downloaded artifact before `cdk deploy --app <dir>`, so they
 * deploy the assembly the pipeline synthesized (and showed) and refuse any other.
 */
import { join } from 'node:path';
import { checkSynthCompletion } from '../../lib/synth-output/completion';
import { AssemblyError, assemblyHash } from './assembly-hash';

export const ASSEMBLY_USAGE = `usage: npm run assembly -- hash <assembly-dir>
       npm run assembly -- verify <assembly-dir> <sha256:hex>
       npm run assembly -- verify-output <synth-dir> <sha256:hex>

  hash            prints the SHA-256 of every file of a cloud assembly (cdk.out), as one value
  verify          exits 0 when the directory has exactly that hash, 1 (one line) when it differs
  verify-output   verify of <synth-dir>/cdk.out, and every manifest of <synth-dir>/dist as synth wrote
                  it (the completion record inside the verified assembly names each with its hash)
Exit codes: 0 ok; 1 a different or unreadable assembly; 2 usage.`;

export interface AssemblyIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export function runAssembly(argv: readonly string[], io: AssemblyIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): number {
  const [command, dir, expected, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    io.out(`${ASSEMBLY_USAGE}\n`);
    return 0;
  }
  const wanted = command === 'hash' ? 1 : command === 'verify' || command === 'verify-output' ? 2 : -1;
  const given = [dir, expected, ...rest].filter((a) => a !== undefined).length;
  if (wanted < 0 || given !== wanted) {
    io.err(`assembly: expected \`hash <dir>\`, \`verify <dir> <sha256:hex>\` or \`verify-output <dir> <sha256:hex>\` (npm run assembly -- --help)\n`);
    return 2;
  }
  if (command !== 'hash' && !/^sha256:[0-9a-f]{64}$/.test(expected)) {
    io.err(`assembly: "${expected}" is not a hash of the form sha256:<64 hex digits>\n`);
    return 2;
  }
  const assembly = command === 'verify-output' ? join(dir, 'cdk.out') : dir;
  let actual: string;
  try {
    actual = assemblyHash(assembly);
  } catch (error) {
    if (!(error instanceof AssemblyError) && (error as NodeJS.ErrnoException).code === undefined) throw error;
    io.err(`assembly: ${(error as Error).message}; download the pipeline's cloud-assembly artifact again\n`);
    return 1;
  }
  if (command === 'hash') {
    io.out(`${actual}\n`);
    return 0;
  }
  if (actual !== expected) {
    io.err(
      `assembly: ${assembly} is not the assembly this pipeline synthesized (${actual}, expected ${expected}): refusing to deploy it; re-run the workflow from its synth job\n`,
    );
    return 1;
  }
  if (command === 'verify-output') {
    const completion = checkSynthCompletion(dir);
    if ('problems' in completion) {
      io.err(
        `assembly: ${dir} is not the output this pipeline synthesized (${completion.problems.join(', ')}): refusing to use it; re-run the workflow from its synth job\n`,
      );
      return 1;
    }
  }
  io.out(`${dir}: ${actual}, the ${command === 'verify-output' ? 'output' : 'assembly'} this pipeline synthesized\n`);
  return 0;
}

if (require.main === module) process.exitCode = runAssembly(process.argv.slice(2));
