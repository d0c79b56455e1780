import type { NamedEnvironment } from '../../../lib/config';
import type { HostOperation } from '../../../lib/host-runtime/document-spec';
import type { OpsArgs } from './parse-args';

/**
 * The SSM document parameters for a host command, from the CLI arguments and the environment's
 * config. Names match lib/host-runtime/documents.ts; `actor` lands in the host's state file and audit log.
 */
export function hostParameters(operation: HostOperation, args: OpsArgs, environment: NamedEnvironment, actor: string): Record<string, string> {
  const requestedBy = actor.replace(/[^A-Za-z0-9@._:/+=-]/g, '-');
  switch (operation) {
    case 'deploy':
      return { gitRef: args.ref ?? environment.gitRef, requestedBy };
    case 'rollback':
      return { requestedBy };
    case 'status':
      return { format: args.json ? 'json' : 'text' };
    case 'tls':
      return { dryRun: String(args.dryRun) };
    case 'restore':
      // --resume restores nothing, so it needs no confirmation: the document's check is given the environment.
      return args.resume
        ? { backup: 'resume', confirm: environment.name, requestedBy }
        : { backup: args.backup ?? '', confirm: args.confirm ?? '', requestedBy };
    case 'firewall':
      return { action: args.apply ? 'apply' : 'status' };
    default:
      return {};
  }
}
