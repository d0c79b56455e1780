import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { cdkJsonContext } from '../../lib/config/config-file';
import { HostDocuments } from '../../lib/constructs/host-documents';
import type { HostDocumentSpec } from '../../lib/host-runtime/document-spec';

const deploy: HostDocumentSpec = {
  operation: 'deploy',
  description: 'Deploy a git ref with docker compose',
  parameters: {
    ref: { description: 'Git ref to deploy', allowedPattern: '^[A-Za-z0-9._/-]+$' },
    mode: { description: 'deploy or dry-run', default: 'deploy' },
  },
  runCommand: ['set -euo pipefail', '/opt/auraxis/deploy.sh "{{ ref }}" "{{ mode }}"'],
  timeoutSeconds: 1200,
};
const drill: HostDocumentSpec = {
  operation: 'restore-drill',
  description: 'Restore the newest dump into a scratch database',
  parameters: {},
  runCommand: ['restore-drill'],
};

function construct(documents: readonly HostDocumentSpec[]): HostDocuments {
  const stack = new Stack(new App({ context: cdkJsonContext() }), 'Test', { env: { account: '111122223333', region: 'sa-east-1' } });
  return new HostDocuments(stack, 'Documents', { appName: 'shop', environmentName: 'qa', documents });
}

function build(documents: readonly HostDocumentSpec[]) {
  const documentsConstruct = construct(documents);
  return { construct: documentsConstruct, template: Template.fromStack(Stack.of(documentsConstruct)) };
}

describe('HostDocuments', () => {
  test('one Command document per spec: schema 2.2, one aws:runShellScript step, named app-env-operation', () => {
    const { template } = build([deploy, drill]);
    template.resourceCountIs('AWS::SSM::Document', 2);
    template.hasResourceProperties('AWS::SSM::Document', {
      Name: 'shop-qa-deploy',
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      UpdateMethod: 'NewVersion',
      Content: {
        schemaVersion: '2.2',
        description: 'Deploy a git ref with docker compose',
        parameters: {
          ref: { type: 'String', description: 'Git ref to deploy', allowedPattern: '^[A-Za-z0-9._/-]+$' },
          mode: { type: 'String', description: 'deploy or dry-run', default: 'deploy' },
        },
        mainSteps: [
          {
            action: 'aws:runShellScript',
            name: 'deploy',
            precondition: { StringEquals: ['platformType', 'Linux'] },
            inputs: { runCommand: ['set -euo pipefail', '/opt/auraxis/deploy.sh "{{ ref }}" "{{ mode }}"'], timeoutSeconds: '1200' },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::SSM::Document', {
      Name: 'shop-qa-restore-drill',
      Content: {
        parameters: {},
        mainSteps: [
          {
            action: 'aws:runShellScript',
            name: 'restore-drill',
            precondition: { StringEquals: ['platformType', 'Linux'] },
            inputs: { runCommand: ['restore-drill'], timeoutSeconds: '600' },
          },
        ],
      },
    });
  });

  test('exposes document ARNs in its own account and region, and stable logical ids per operation', () => {
    const { construct: documents, template } = build([deploy, drill]);
    expect(documents.documentArns).toEqual([
      'arn:aws:ssm:sa-east-1:111122223333:document/shop-qa-deploy',
      'arn:aws:ssm:sa-east-1:111122223333:document/shop-qa-restore-drill',
    ]);
    expect(Object.keys(template.findResources('AWS::SSM::Document')).map((id) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'DocumentsDeploy',
      'DocumentsRestoreDrill',
    ]);
  });

  test('an empty list creates nothing', () => {
    const empty = construct([]);
    expect(empty.node.children).toEqual([]);
    expect(empty.documentArns).toEqual([]);
  });

  test('rejects an operation given twice and an empty script, naming the operation', () => {
    expect(() => construct([deploy, deploy])).toThrow("HostDocuments: operation 'deploy' is given twice; each operation gets one document");
    expect(() => construct([{ ...drill, runCommand: [] }])).toThrow("HostDocuments: 'restore-drill' has an empty runCommand");
  });
});
