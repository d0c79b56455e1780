import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addEnvironmentStacks } from '../../bin/build-apps';
import { environmentsOf, type ProjectConfig } from '../../lib/config';
import { cdkJsonContext } from '../../lib/config/config-file';
import type { HostDocumentSpec } from '../../lib/host-runtime/document-spec';
import type { DataStack } from '../../lib/stacks/data-stack';
import type { HostStack } from '../../lib/stacks/host-stack';

export interface EnvironmentStacks {
  readonly app: App;
  readonly data: DataStack;
  readonly host: HostStack;
  readonly dataTemplate: Template;
  readonly hostTemplate: Template;
}

/**
 * A fresh app with one environment's data and host stacks, wired by `bin/build-apps.ts` itself,
 * with the feature flags of `cdk.json` and without cdk-nag (the shared synth runs it).
 * No SSM documents unless given: most variants are about the host, not the scripts.
 */
export function environmentStacks(config: ProjectConfig, envName: string, hostDocuments: readonly HostDocumentSpec[] = []): EnvironmentStacks {
  const environment = environmentsOf(config).find((e) => e.name === envName);
  if (!environment) throw new Error(`no environment ${envName}`);
  const app = new App({ context: cdkJsonContext() });
  const { data, host } = addEnvironmentStacks(app, config, environment, { hostDocuments });
  return { app, data, host, dataTemplate: Template.fromStack(data), hostTemplate: Template.fromStack(host) };
}
