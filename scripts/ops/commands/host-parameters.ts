import type { NamedEnvironment } from '../../../lib/config';
import type { HostOperation } from '../../../lib/host-runtime/document-spec';
import type { OpsArgs } from './parse-args';

/** The SSM document parameters for a host command, from the CLI arguments and the environment's config. */
export function hostParameters(operation: HostOperation, args: OpsArgs, environment: NamedEnvironment): Record<string, string> {
  switch (operation) {
    case 'deploy':
      return { gitRef: args.ref ?? environment.gitRef };
    case 'tls':
      return { dryRun: String(args.dryRun) };
    case 'firewall':
      return { action: args.apply ? 'apply' : 'status' };
    default:
      return {};
  }
}
