import { Stack } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { HostDocumentSpec, HostOperation } from '../host-runtime/document-spec';
import { hostDocumentName } from '../names';

/** Seconds before SSM stops a step whose spec gives no timeout. */
export const DEFAULT_DOCUMENT_TIMEOUT_SECONDS = 600;

export interface HostDocumentsProps {
  /** App name, the first part of each document name. */
  readonly appName: string;
  /** Environment name, the second part of each document name. */
  readonly environmentName: string;
  /** One SSM Command document per spec; operations must be unique. May be empty. */
  readonly documents: readonly HostDocumentSpec[];
}

/** The SSM document content (schema 2.2, one `aws:runShellScript` step) of a spec. */
export function documentContent(spec: HostDocumentSpec): Record<string, unknown> {
  return {
    schemaVersion: '2.2',
    description: spec.description,
    parameters: Object.fromEntries(
      Object.entries(spec.parameters).map(([name, p]) => [
        name,
        {
          type: 'String',
          description: p.description,
          ...(p.default === undefined ? {} : { default: p.default }),
          ...(p.allowedPattern === undefined ? {} : { allowedPattern: p.allowedPattern }),
        },
      ]),
    ),
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: spec.operation,
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: { runCommand: [...spec.runCommand], timeoutSeconds: String(spec.timeoutSeconds ?? DEFAULT_DOCUMENT_TIMEOUT_SECONDS) },
      },
    ],
  };
}

/**
 * The host's operations as SSM Command documents, named `hostDocumentName(app, env, operation)`,
 * so what runs on the instance is exactly the reviewed script text. Documents are updated in
 * place as new versions (a custom-named document cannot be replaced).
 * @see https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-schemas-features.html
 */
export class HostDocuments extends Construct {
  /** Documents by operation. */
  public readonly documents: ReadonlyMap<HostOperation, ssm.CfnDocument>;
  /** ARNs of every document, for `ssm:SendCommand` grants. */
  public readonly documentArns: readonly string[];

  constructor(scope: Construct, id: string, props: HostDocumentsProps) {
    super(scope, id);
    const seen = new Set<string>();
    const documents = new Map<HostOperation, ssm.CfnDocument>();
    const arns: string[] = [];
    for (const spec of props.documents) {
      if (seen.has(spec.operation)) throw new Error(`HostDocuments: operation '${spec.operation}' is given twice; each operation gets one document`);
      seen.add(spec.operation);
      if (spec.runCommand.length === 0) throw new Error(`HostDocuments: '${spec.operation}' has an empty runCommand`);
      const name = hostDocumentName(props.appName, props.environmentName, spec.operation);
      const document = new ssm.CfnDocument(this, pascalCase(spec.operation), {
        name,
        documentType: 'Command',
        documentFormat: 'JSON',
        updateMethod: 'NewVersion',
        content: documentContent(spec),
      });
      documents.set(spec.operation, document);
      arns.push(Stack.of(this).formatArn({ service: 'ssm', resource: 'document', resourceName: name }));
    }
    this.documents = documents;
    this.documentArns = arns;
  }
}

function pascalCase(operation: string): string {
  return operation
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
