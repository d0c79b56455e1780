import type { HostDocumentSpec } from '../../lib/host-runtime/document-spec';

/** The runCommand as SSM runs it: parameters substituted (defaults unless given), lines joined. */
export function renderedDocument(s: HostDocumentSpec, values: Record<string, string> = {}): string {
  return s.runCommand.join('\n').replace(/\{\{ (\w+) \}\}/g, (_, name: string) => {
    const value = values[name] ?? s.parameters[name]?.default;
    if (value === undefined) throw new Error(`no value for ${name}`);
    return value;
  });
}
