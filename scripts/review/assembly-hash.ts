/*
 * The identity of a cloud assembly: one SHA-256 over every file of the directory (its path
 * relative to the directory and its own SHA-256, in path order). The review shows it for the head
 * it reviewed; the deploy workflow computes it where it synthesizes once, and every job that deploys
 * checks the assembly it downloaded against it before `cdk deploy --app <dir>`
 * (scripts/review/verify-assembly.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** A directory that cannot be hashed: missing, or holding something other than files and directories. */
export class AssemblyError extends Error {}

function entries(dir: string, root: string, found: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) entries(path, root, found);
    else if (stat.isFile()) found.push(relative(root, path).split(sep).join('/'));
    else throw new AssemblyError(`${relative(root, path)} in ${root} is neither a file nor a directory (a link?): an assembly holds files only`);
  }
}

/** `sha256:<hex>` of a cloud assembly directory. */
export function assemblyHash(dir: string): string {
  if (!existsSync(join(dir, 'manifest.json'))) throw new AssemblyError(`${dir} is not a cloud assembly (no manifest.json)`);
  const files: string[] = [];
  entries(dir, dir, files);
  const hash = createHash('sha256');
  for (const file of files) {
    const digest = createHash('sha256')
      .update(readFileSync(join(dir, ...file.split('/'))))
      .digest('hex');
    hash.update(`${digest}  ${file}\n`);
  }
  return `sha256:${hash.digest('hex')}`;
}
