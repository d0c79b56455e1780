import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Every acknowledgement recorded on the constructs under `root`: construct path, rule id, reason. */
export function acknowledgementsUnder(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^Annotation::/i, ''), reason })),
        ),
    );
}
