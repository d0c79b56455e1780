import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { cdkJsonContext } from '../../bin/config-file';
import { environmentsOf, type ProjectConfig } from '../../lib/config';
import type { HostDocumentSpec } from '../../lib/host-runtime/document-spec';
import { DataStack } from '../../lib/stacks/data-stack';
import { HostStack } from '../../lib/stacks/host-stack';

export interface EnvironmentStacks {
  readonly app: App;
  readonly data: DataStack;
  readonly host: HostStack;
  readonly dataTemplate: Template;
  readonly hostTemplate: Template;
}

/**
 * A fresh app with one environment's data and host stacks, wired as `bin/compose.ts` wires them,
 * with the feature flags of `cdk.json` and without cdk-nag (the shared synth runs it).
 */
export function environmentStacks(config: ProjectConfig, envName: string, hostDocuments: readonly HostDocumentSpec[] = []): EnvironmentStacks {
  const environment = environmentsOf(config).find((e) => e.name === envName);
  if (!environment) throw new Error(`no environment ${envName}`);
  const app = new App({ context: cdkJsonContext() });
  const env = { account: environment.account, region: environment.region };
  const data = new DataStack(app, `${envName}-data`, { env, app: config.app, environment });
  const host = new HostStack(app, `${envName}-host`, {
    env,
    app: config.app,
    environment,
    githubRepository: config.github.repository,
    hostBackupsPolicy: data.hostBackupsPolicy,
    alarmTopic: data.alarmTopic,
    containerLogGroup: data.containerLogGroup,
    systemLogGroup: data.systemLogGroup,
    hostDocuments,
  });
  return { app, data, host, dataTemplate: Template.fromStack(data), hostTemplate: Template.fromStack(host) };
}
