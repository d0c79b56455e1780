import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildAwsApp } from '../../bin/build-apps';
import { environmentsOf, type ProjectConfig } from '../../lib/config';
import { cdkJsonContext } from '../../lib/config/config-file';
import { outputNames, stackNames } from '../../lib/names';
import { HealthStack } from '../../lib/stacks/health-stack';
import { acknowledgementsUnder } from '../helpers/acknowledgements';
import { configWith, shippedConfig } from '../helpers/config-fixtures';
import { shippedAssemblyManifest, shippedTemplate, shippedValidationReport, shippedValidationRuns } from '../helpers/synth';

const health = (env: string) => shippedTemplate(stackNames.health('auraxis', env));

/** A fresh health stack for one environment of a config variant, with cdk-nag on. */
function healthTemplate(config: ProjectConfig, envName: string): Template {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const environment = environmentsOf(config).find((e) => e.name === envName)!;
  const stack = new HealthStack(app, 'Health', { env: { account: environment.account, region: 'us-east-1' }, app: config.app, environment });
  return Template.fromStack(stack);
}

describe('HealthStack (shipped config)', () => {
  test.each(['dev', 'prod'])('%s health stack is in us-east-1 of its account', (env) => {
    expect(shippedAssemblyManifest().artifacts[stackNames.health('auraxis', env)].environment).toBe(
      `aws://${shippedConfig().environments[env].account}/us-east-1`,
    );
  });

  test('prod: HTTPS health check on 443 of api.auraxis.com.br/healthz, 30 s interval, 3 failures, SNI, no paid latency graphs', () => {
    health('prod').resourceCountIs('AWS::Route53::HealthCheck', 1);
    health('prod').hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'HTTPS',
        FullyQualifiedDomainName: 'api.auraxis.com.br',
        Port: 443,
        ResourcePath: '/healthz',
        RequestInterval: 30,
        FailureThreshold: 3,
        EnableSNI: true,
        MeasureLatency: false,
        Inverted: false,
      },
    });
  });

  test('dev: HTTP health check on 80 of dev.api.auraxis.com.br/healthz (dev has tls: false, as in the runbook)', () => {
    health('dev').hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'HTTP',
        FullyQualifiedDomainName: 'dev.api.auraxis.com.br',
        Port: 80,
        ResourcePath: '/healthz',
        RequestInterval: 30,
        FailureThreshold: 3,
        MeasureLatency: false,
        Inverted: false,
      },
    });
  });

  test.each(['dev', 'prod'])('%s: alarm named as the runbook on AWS/Route53 HealthCheckStatus < 1, notifying the topic on ALARM and OK', (env) => {
    const template = health(env);
    const [checkId] = Object.keys(template.findResources('AWS::Route53::HealthCheck'));
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `auraxis-health-${env}`,
      Namespace: 'AWS/Route53',
      MetricName: 'HealthCheckStatus',
      Dimensions: [{ Name: 'HealthCheckId', Value: { Ref: checkId } }],
      Statistic: 'Minimum',
      Period: 60,
      EvaluationPeriods: 1,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: topicId }],
      OKActions: [{ Ref: topicId }],
    });
  });

  test.each(['dev', 'prod'])('%s: topic e-mails alarmEmail, enforces TLS, and is unencrypted by choice (no KMS key)', (env) => {
    const template = health(env);
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.absent() });
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: shippedConfig().environments[env].alarmEmail,
      TopicArn: { Ref: topicId },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: { Ref: topicId },
            Sid: 'AllowPublishThroughSSLOnly',
          },
        ],
      },
    });
  });

  test.each(['dev', 'prod'])('%s outputs the health check id and the topic ARN', (env) => {
    const template = health(env);
    const [checkId] = Object.keys(template.findResources('AWS::Route53::HealthCheck'));
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    const outputs = template.findOutputs('*');
    expect(outputs[outputNames.healthCheckId].Value).toEqual({ Ref: checkId });
    expect(outputs[outputNames.alarmTopicArn].Value).toEqual({ Ref: topicId });
  });

  test('dev (stopped on a schedule) mutes its alarm when the host stops and unmutes it when it starts', () => {
    const template = health('dev');
    const [roleId] = Object.keys(template.findResources('AWS::IAM::Role'));
    const [alarmId] = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    const target = (action: string) => ({
      Arn: `arn:aws:scheduler:::aws-sdk:cloudwatch:${action}`,
      Input: JSON.stringify({ AlarmNames: ['auraxis-health-dev'] }),
      RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
      RetryPolicy: { MaximumRetryAttempts: 3 },
    });
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 20 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'America/Sao_Paulo',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: target('disableAlarmActions'),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 8 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'America/Sao_Paulo',
      Target: target('enableAlarmActions'),
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': shippedConfig().environments.dev.account } },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['cloudwatch:DisableAlarmActions', 'cloudwatch:EnableAlarmActions'], Resource: { 'Fn::GetAtt': [alarmId, 'Arn'] } },
        ],
      },
    });
  });

  test('prod (always on) has no mute schedule and no role', () => {
    health('prod').resourceCountIs('AWS::Scheduler::Schedule', 0);
    health('prod').resourceCountIs('AWS::IAM::Role', 0);
  });

  test('both cdk-nag packs checked the health stacks in the shipped synth and found nothing unacknowledged', () => {
    const { runs } = shippedValidationRuns();
    for (const pack of ['AwsSolutions', 'Gitops']) {
      const run = runs.find((r) => r.plugin === pack);
      expect({ pack, ran: run !== undefined }).toEqual({ pack, ran: true });
      expect(run?.stacks).toEqual(expect.arrayContaining([stackNames.health('auraxis', 'dev'), stackNames.health('auraxis', 'prod')]));
      expect(run?.violations).toEqual([]);
    }
    for (const report of shippedValidationReport().pluginReports) expect(report.violations).toEqual([]);
  });
});

describe('HealthStack (variants)', () => {
  test('an environment in eu-west-1 still gets its health stack in us-east-1, in its own account', () => {
    const app = buildAwsApp(
      configWith((c) => {
        c.environments.prod.region = 'eu-west-1';
        c.environments.prod.instance.availabilityZone = 'eu-west-1a';
        c.environments.prod.account = '111122223333';
      }),
    );
    const stack = app.node.findChild(stackNames.health('auraxis', 'prod')) as Stack;
    expect(stack.region).toBe('us-east-1');
    expect(stack.account).toBe('111122223333');
  });

  test('HTTP vs HTTPS follows tls; port 80 vs 443', () => {
    const config = configWith((c) => {
      c.environments.prod.tls = false;
      delete c.environments.prod.kubernetes.tlsSecretName;
      c.environments.dev.tls = true;
      c.environments.dev.kubernetes.tlsSecretName = 'dev-tls';
    });
    healthTemplate(config, 'prod').hasResourceProperties('AWS::Route53::HealthCheck', { HealthCheckConfig: Match.objectLike({ Type: 'HTTP', Port: 80 }) });
    healthTemplate(config, 'dev').hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: Match.objectLike({ Type: 'HTTPS', Port: 443, EnableSNI: true }),
    });
  });

  test('healthCheck.path and .protocol override the defaults (HTTP on a TLS environment is allowed)', () => {
    const config = configWith((c) => {
      c.environments.prod.healthCheck = { path: '/livez', protocol: 'HTTP' };
    });
    healthTemplate(config, 'prod').hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: Match.objectLike({ Type: 'HTTP', Port: 80, ResourcePath: '/livez', FullyQualifiedDomainName: 'api.auraxis.com.br' }),
    });
  });

  test('app.healthPath is the default path', () => {
    const config = configWith((c) => {
      c.app.healthPath = '/up';
    });
    healthTemplate(config, 'dev').hasResourceProperties('AWS::Route53::HealthCheck', { HealthCheckConfig: Match.objectLike({ ResourcePath: '/up' }) });
  });

  test('a health stack outside us-east-1 is refused, since its metric would not exist there', () => {
    const config = configWith(() => {});
    const environment = environmentsOf(config)[0];
    expect(() => new HealthStack(new App(), 'Health', { env: { account: environment.account, region: 'eu-west-1' }, app: config.app, environment })).toThrow(
      'HealthStack Health must be deployed to us-east-1 (Route53 health-check metrics exist only there), got env.region "eu-west-1"',
    );
  });

  test('cdk-nag is live on topics: one without the TLS-only policy fails synthesis (AwsSolutions-SNS3), which the health topic passes unacknowledged', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'nag-')) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Plain', { env: { account: '765480282720', region: 'us-east-1' } });
    new sns.Topic(stack, 'Topic');
    expect(() => app.synth()).toThrow(/AwsSolutions-SNS3/);
    const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports[0].violations.map((v: { ruleName: string }) => v.ruleName)).toEqual(['AwsSolutions-SNS3']);
  });

  test('the health stacks need no cdk-nag acknowledgement (read from the construct tree, where acknowledgements live)', () => {
    const app = buildAwsApp(shippedConfig(), { context: cdkJsonContext() });
    for (const env of ['dev', 'prod']) {
      const stack = app.node.findChild(stackNames.health('auraxis', env));
      expect(acknowledgementsUnder(stack)).toEqual([]);
      // Positive control: the same reader sees an acknowledgement planted on the stack's topic.
      Validations.of(stack.node.findChild('AlarmTopic')).acknowledge({ id: 'AwsSolutions-SNS2', reason: 'planted by the test' });
      expect(acknowledgementsUnder(stack).map((a) => a.id)).toEqual(['AwsSolutions-SNS2']);
    }
  });
});
