#!/usr/bin/env node
/*
 * `npm run docs:diagram`: the architecture picture, drawn from what synth produced, never by hand.
 * `architectureDot` turns the cloud assembly (cdk.out) and the manifests (dist) into Graphviz DOT
 * text, sorted so the same output always gives the same text; `main` writes docs/architecture.dot
 * and renders docs/architecture.svg with Graphviz's `dot`. A test compares the DOT built from the
 * current synth with the committed one, so a stale picture fails `npm test`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseCommandLine, runMain } from '../../lib/cli/command-line';
import { stagedFiles } from '../../lib/host-runtime/documents';

/** A CloudFormation template, as far as the picture reads it. */
export interface TemplateJson {
  readonly Resources?: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
}

/** A Kubernetes object, as far as the picture reads it. */
export interface ManifestObject {
  readonly kind: string;
  readonly metadata: { readonly name: string };
}

/** What the picture is drawn from. */
export interface SynthOutputModel {
  /** Template of each stack, by stack name. */
  readonly templates: Readonly<Record<string, TemplateJson>>;
  /** Stacks each stack depends on (the cloud assembly's deploy order), by stack name. */
  readonly stackDependencies: Readonly<Record<string, readonly string[]>>;
  /** Kubernetes objects of each manifest directory of dist/ (one per environment, and argocd). */
  readonly manifests: Readonly<Record<string, readonly ManifestObject[]>>;
}

/** Resource types that only wire the main ones together: drawn, they would hide the architecture. */
const PLUMBING = new Set([
  'AWS::EC2::Route',
  'AWS::EC2::RouteTable',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::VPCGatewayAttachment',
  'AWS::IAM::InstanceProfile',
  'AWS::IAM::Policy',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::Subscription',
  'AWS::SNS::TopicPolicy',
  'AWS::SSM::Document', // drawn one by one, with their scripts
]);

/** A DOT string; lines of a multi-line label are left-justified (`\l`). */
function quote(text: string): string {
  const escaped = text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `"${escaped.includes('\n') ? `${escaped.replace(/\n/g, '\\l')}\\l` : escaped}"`;
}

function sorted<T>(values: Iterable<T>, key: (v: T) => string = String): T[] {
  return [...values].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Every value of a key anywhere under `node` (CloudFormation intrinsics nest arbitrarily). */
function collect(node: unknown, key: string, into: unknown[] = []): unknown[] {
  if (Array.isArray(node)) for (const item of node) collect(item, key, into);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) into.push(v);
      collect(v, key, into);
    }
  }
  return into;
}

/** The scripts an SSM document writes on the host before running its operation. */
export function scriptsCarried(content: unknown): string[] {
  const lines = collect(content, 'runCommand').flatMap((c) => (Array.isArray(c) ? c : []));
  return sorted(new Set(stagedFiles(lines).filter((file) => file.endsWith('.sh'))));
}

/** Stacks whose outputs a template reads (`Fn::GetStackOutput` weak references, `Fn::ImportValue` exports). */
export function referencedStacks(template: TemplateJson): string[] {
  const weak = collect(template.Resources ?? {}, 'Fn::GetStackOutput').map((ref) => (ref as { StackName?: unknown }).StackName);
  return sorted(new Set(weak.filter((name): name is string => typeof name === 'string')));
}

/** The architecture as Graphviz DOT text: deterministic for the same synth output. */
export function architectureDot(model: SynthOutputModel): string {
  const out: string[] = [
    'digraph architecture {',
    '  rankdir=LR;',
    '  compound=true;',
    '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  const scripts = new Set<string>();
  const docEdges: string[] = [];

  sorted(Object.keys(model.templates)).forEach((stack, i) => {
    const resources = Object.values(model.templates[stack].Resources ?? {});
    out.push(`  subgraph cluster_stack_${i} {`, `    label=${quote(`stack ${stack}`)};`, '    style="rounded,filled"; fillcolor="#fdf6e3";');
    // One box per stack listing its main resource types: readable at any number of resources.
    const counts = new Map<string, number>();
    for (const r of resources) if (!PLUMBING.has(r.Type)) counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
    const lines = sorted(counts, ([t]) => t).map(([type, count]) => (count > 1 ? `${type} ×${count}` : type));
    out.push(`    ${quote(stack)} [label=${quote(lines.join('\n'))}];`);
    const documents = resources.filter((r) => r.Type === 'AWS::SSM::Document');
    for (const doc of sorted(documents, (d) => String(d.Properties?.Name))) {
      const name = String(doc.Properties?.Name);
      out.push(`    ${quote(`doc:${name}`)} [label=${quote(`SSM document\n${name}`)}, shape=note];`);
      for (const script of scriptsCarried(doc.Properties?.Content)) {
        scripts.add(script);
        docEdges.push(`  ${quote(`doc:${name}`)} -> ${quote(`script:${script}`)} [color="#888888", arrowhead=none];`);
      }
    }
    out.push('  }');
  });

  if (scripts.size > 0) {
    out.push('  subgraph cluster_scripts {', '    label="scripts/host (carried by the SSM documents)";', '    style="rounded,dashed";');
    for (const script of sorted(scripts)) out.push(`    ${quote(`script:${script}`)} [label=${quote(script)}, shape=component];`);
    out.push('  }');
  }
  out.push(...sorted(docEdges));

  for (const stack of sorted(Object.keys(model.templates))) {
    for (const producer of referencedStacks(model.templates[stack])) {
      if (producer in model.templates)
        out.push(
          `  ${quote(stack)} -> ${quote(producer)} [label="reads outputs", color="#268bd2", ltail=${clusterOf(model, stack)}, lhead=${clusterOf(model, producer)}];`,
        );
    }
    for (const dependency of sorted(model.stackDependencies[stack] ?? [])) {
      if (dependency in model.templates && !referencedStacks(model.templates[stack]).includes(dependency)) {
        out.push(
          `  ${quote(stack)} -> ${quote(dependency)} [label="deploys after", style=dashed, ltail=${clusterOf(model, stack)}, lhead=${clusterOf(model, dependency)}];`,
        );
      }
    }
  }

  sorted(Object.keys(model.manifests)).forEach((dir, i) => {
    out.push(`  subgraph cluster_k8s_${i} {`, `    label=${quote(`dist/${dir} (cdk8s)`)};`, '    style="rounded,filled"; fillcolor="#eef5fb";');
    const objects = sorted(model.manifests[dir], (o) => `${o.kind}/${o.metadata.name}`);
    out.push(`    ${quote(`k8s:${dir}`)} [label=${quote(objects.map((o) => `${o.kind} ${o.metadata.name}`).join('\n'))}];`);
    out.push('  }');
  });

  out.push('}');
  return `${out.join('\n')}\n`;
}

function clusterOf(model: SynthOutputModel, stack: string): string {
  return `cluster_stack_${sorted(Object.keys(model.templates)).indexOf(stack)}`;
}

/** Reads the model from a cloud assembly directory and a manifest directory. */
export function readSynthOutput(cdkOut: string, dist: string): SynthOutputModel {
  const manifest = JSON.parse(readFileSync(join(cdkOut, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string; dependencies?: string[] }> };
  const templates: Record<string, TemplateJson> = {};
  const stackDependencies: Record<string, string[]> = {};
  for (const [name, artifact] of Object.entries(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    templates[name] = JSON.parse(readFileSync(join(cdkOut, `${name}.template.json`), 'utf8'));
    stackDependencies[name] = (artifact.dependencies ?? []).filter((d) => manifest.artifacts[d]?.type === 'aws:cloudformation:stack');
  }
  const manifests: Record<string, ManifestObject[]> = {};
  for (const dir of readdirSync(dist, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    manifests[dir.name] = readdirSync(join(dist, dir.name))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseAllDocuments(readFileSync(join(dist, dir.name, f), 'utf8')).map((d) => d.toJS() as ManifestObject))
      .filter((o) => o?.kind);
  }
  return { templates, stackDependencies, manifests };
}

/** SHA-256 of the DOT text: the SVG carries it, so a test can tell the SVG was rendered from the committed DOT. */
export function dotDigest(dot: string): string {
  return createHash('sha256').update(dot).digest('hex');
}

export const DIAGRAM_DOT = resolve(__dirname, '../../docs/architecture.dot');
export const DIAGRAM_SVG = resolve(__dirname, '../../docs/architecture.svg');

export const DIAGRAM_USAGE = `usage: npm run docs:diagram

Synthesizes every environment (npm run synth), then redraws docs/architecture.dot from cdk.out/ and
dist/ and renders docs/architecture.svg with Graphviz's dot. A test fails when the committed picture
no longer matches the synth output.

options:
  --help   print this help`;

function main(argv: readonly string[]): number {
  const { values } = parseCommandLine(argv, { name: 'docs:diagram', options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(DIAGRAM_USAGE);
    return 0;
  }
  const root = resolve(__dirname, '../..');
  // The picture is drawn from a fresh synth, never from whatever cdk.out/ holds.
  const synth = spawnSync('npm', ['run', '--silent', 'synth'], { cwd: root, stdio: 'inherit' });
  if (synth.status !== 0) return synth.status ?? 1;
  const dot = architectureDot(readSynthOutput(join(root, 'cdk.out'), join(root, 'dist')));
  writeFileSync(DIAGRAM_DOT, dot);
  let svg: string;
  try {
    svg = execFileSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    console.error(
      `docs:diagram: wrote ${DIAGRAM_DOT}, but Graphviz's dot could not render it (${(error as Error).message.split('\n')[0]}); install graphviz (apt-get install graphviz) and run npm run docs:diagram again`,
    );
    return 1;
  }
  writeFileSync(DIAGRAM_SVG, svg.replace('<svg', `<!-- rendered from docs/architecture.dot sha256:${dotDigest(dot)} -->\n<svg`));
  console.log(`docs:diagram: wrote ${DIAGRAM_DOT} and ${DIAGRAM_SVG}`);
  return 0;
}

if (require.main === module) runMain(() => main(process.argv.slice(2)));
