/**
 * The contract between the host scripts (`scripts/host/`) and the CDK host stack: each operation
 * the ops CLI or a pipeline runs on the instance is an SSM Command document whose steps are the
 * reviewed script text, so what runs on the host is exactly what was merged.
 */

/** The operations a host exposes through SSM. */
export type HostOperation = 'deploy' | 'rollback' | 'status' | 'backup' | 'restore-drill' | 'tls' | 'firewall' | 'secrets' | 'restore';

/**
 * The operations whose effect lives on the root volume (the nginx site and renew timer, the
 * firewall, the backup timer): a replacement host sends their documents to itself again when the
 * data volume records them as applied before (scripts/host/host-boot.sh, step 5).
 */
export const REAPPLIED_OPERATIONS = ['tls', 'firewall', 'backup'] as const satisfies readonly HostOperation[];

/** One input parameter of an SSM Command document. */
export interface HostDocumentParameter {
  /** Shown in the SSM console and `describe-document`. */
  readonly description: string;
  /** Used when the caller omits the parameter. @default - the parameter is required */
  readonly default?: string;
  /** Regex SSM enforces before running anything (keeps shell metacharacters out of refs). */
  readonly allowedPattern?: string;
}

/** An SSM Command document (schema 2.2, one `aws:runShellScript` step). */
export interface HostDocumentSpec {
  /** Which operation this document performs. */
  readonly operation: HostOperation;
  /** What the document does, for the SSM console. */
  readonly description: string;
  /** Parameters, referenced in the script as `{{ name }}`. */
  readonly parameters: Readonly<Record<string, HostDocumentParameter>>;
  /** Shell lines of the `aws:runShellScript` step. */
  readonly runCommand: readonly string[];
  /** Seconds before SSM stops the step. @default 600 */
  readonly timeoutSeconds?: number;
}
