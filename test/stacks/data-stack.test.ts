import { stackNames } from '../../lib/names';
import { shippedConfig, shippedTemplate } from '../helpers/synth';

describe('DataStack (shipped config)', () => {
  test.each(['dev', 'prod'])('%s keeps container and system logs with the configured retention', (env) => {
    const config = shippedConfig();
    const template = shippedTemplate(stackNames.data(config.app.name, env));
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/auraxis/${env}/containers`,
      RetentionInDays: config.environments[env].logs.retentionDays,
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/auraxis/${env}/system` });
  });
});
