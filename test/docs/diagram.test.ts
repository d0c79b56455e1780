import { readFileSync } from 'node:fs';
import { HEREDOC_END } from '../../lib/host-runtime/documents';
import {
  architectureDot,
  DIAGRAM_DOT,
  DIAGRAM_SVG,
  dotDigest,
  readSynthOutput,
  referencedStacks,
  type SynthOutputModel,
  scriptsCarried,
} from '../../scripts/docs/diagram';
import { sharedCdkOut, sharedDist } from '../helpers/synth';

/** A document line that stages `file`, as hostDocumentSpecs writes it. */
const stages = (file: string) => `cat > "$stage/${file}" <<'${HEREDOC_END}'`;

const model = (): SynthOutputModel => ({
  templates: {
    'app-dev-host': {
      Resources: {
        Instance: { Type: 'AWS::EC2::Instance' },
        Alarm1: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: { AlarmActions: [{ 'Fn::GetStackOutput': { StackName: 'app-dev-data', OutputName: 'Topic' } }] },
        },
        Alarm2: { Type: 'AWS::CloudWatch::Alarm' },
        Policy: { Type: 'AWS::IAM::Policy' },
        Deploy: {
          Type: 'AWS::SSM::Document',
          Properties: {
            Name: 'app-dev-deploy',
            Content: {
              mainSteps: [{ inputs: { runCommand: [stages('deploy.sh'), HEREDOC_END, stages('lib.sh'), HEREDOC_END, stages('host.env'), HEREDOC_END] } }],
            },
          },
        },
      },
    },
    'app-dev-data': { Resources: { Bucket: { Type: 'AWS::S3::Bucket' } } },
    'app-account': { Resources: { Oidc: { Type: 'AWS::IAM::OIDCProvider' } } },
  },
  stackDependencies: { 'app-dev-host': ['app-dev-data', 'app-account'] },
  manifests: {
    dev: [
      { kind: 'Service', metadata: { name: 'app' } },
      { kind: 'Deployment', metadata: { name: 'app' } },
    ],
  },
});

describe('architectureDot', () => {
  test('draws each stack with its main resource types, the documents with the scripts they carry, the references and the manifests', () => {
    const dot = architectureDot(model());
    expect(dot).toContain('"app-dev-host" [label="AWS::CloudWatch::Alarm ×2\\lAWS::EC2::Instance\\l"]'); // IAM::Policy is plumbing
    expect(dot).toContain('"doc:app-dev-deploy" -> "script:deploy.sh"');
    expect(dot).toContain('"doc:app-dev-deploy" -> "script:lib.sh"');
    expect(dot).not.toContain('host.env'); // settings, not a script
    expect(dot).toContain('"app-dev-host" -> "app-dev-data" [label="reads outputs"');
    expect(dot).toContain('"app-dev-host" -> "app-account" [label="deploys after"');
    expect(dot).not.toContain('"app-dev-host" -> "app-dev-data" [label="deploys after"'); // drawn once, as the reference
    expect(dot).toContain('"k8s:dev" [label="Deployment app\\lService app\\l"]');
  });

  test('is the same text whatever order synth listed things in', () => {
    const shuffled = model();
    const reversed: SynthOutputModel = {
      templates: Object.fromEntries(Object.entries(shuffled.templates).reverse()),
      stackDependencies: { 'app-dev-host': ['app-account', 'app-dev-data'] },
      manifests: { dev: [...shuffled.manifests.dev].reverse() },
    };
    expect(architectureDot(reversed)).toBe(architectureDot(model()));
  });

  test('reads the scripts written by a document and the stacks a template reads outputs of', () => {
    expect(
      scriptsCarried({
        mainSteps: [{ inputs: { runCommand: [stages('b.sh'), stages('a.sh'), stages('smoke.json'), 'echo "$stage/c.sh"', { 'Fn::Join': [] }] } }],
      }),
    ).toEqual(['a.sh', 'b.sh']);
    expect(referencedStacks(model().templates['app-dev-host'])).toEqual(['app-dev-data']);
    expect(referencedStacks(model().templates['app-dev-data'])).toEqual([]);
  });
});

describe('docs/architecture', () => {
  test('the shipped picture joins each document to the scripts it really carries', () => {
    const dot = architectureDot(readSynthOutput(sharedCdkOut, sharedDist));
    const edges = (doc: string) => [...dot.matchAll(new RegExp(`"doc:${doc}" -> "script:([^"]+)"`, 'g'))].map((m) => m[1]).sort();
    expect(edges('auraxis-prod-deploy')).toEqual(['deploy.sh', 'lib.sh', 'nginx-upstream.sh', 'release.sh', 'secrets-lib.sh', 'smoke.sh', 'switch.sh']);
    expect(edges('auraxis-prod-firewall')).toEqual(['firewall.sh', 'lib.sh']);
    expect(edges('auraxis-dev-backup')).toEqual(['backup-lib.sh', 'backup-metric.sh', 'backup.sh', 'lib.sh']);
  });

  test('docs/architecture.dot is drawn from the current synth output (if not: npm run docs:diagram)', () => {
    const current = architectureDot(readSynthOutput(sharedCdkOut, sharedDist));
    expect(readFileSync(DIAGRAM_DOT, 'utf8')).toBe(current);
  });

  test('docs/architecture.svg was rendered from the committed DOT (if not: npm run docs:diagram)', () => {
    const svg = readFileSync(DIAGRAM_SVG, 'utf8');
    expect(svg).toContain(`sha256:${dotDigest(readFileSync(DIAGRAM_DOT, 'utf8'))}`);
    expect(svg).toContain('<svg');
  });
});
