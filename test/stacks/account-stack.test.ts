import { App, type Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildAwsApp } from '../../bin/build-apps';
import { accountOutputNames, githubOidcProviderArn, stackNames } from '../../lib/names';
import { AccountStack, GITHUB_OIDC_THUMBPRINTS } from '../../lib/stacks/account-stack';
import { configWith, shippedConfig } from '../helpers/config-fixtures';
import { shippedAssemblyManifest, shippedStackNames, shippedTemplate } from '../helpers/synth';

const ACCOUNT = '765480282720';

function shipped(): Template {
  return shippedTemplate(stackNames.account(shippedConfig().app.name, ACCOUNT));
}

/** A fresh account stack from a variant of the shipped config, with cdk-nag on. */
function accountTemplate(edit: Parameters<typeof configWith>[0]): Template {
  const config = configWith(edit);
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new AccountStack(app, 'Account', {
    env: { account: ACCOUNT, region: 'us-east-1' },
    appName: config.app.name,
    account: ACCOUNT,
    costGuardrails: config.costGuardrails,
  });
  return Template.fromStack(stack);
}

describe('AccountStack (shipped config)', () => {
  test('one account stack per account (dev and prod have their own), each in us-east-1', () => {
    const accounts = [...new Set(Object.values(shippedConfig().environments).map((e) => e.account))].sort();
    expect(accounts).toHaveLength(2);
    expect(shippedStackNames().filter((name) => name.includes('-account-'))).toEqual(accounts.map((a) => `auraxis-account-${a}`));
    for (const account of accounts) expect(shippedAssemblyManifest().artifacts[`auraxis-account-${account}`].environment).toBe(`aws://${account}/us-east-1`);
  });

  test('monthly COST budget of USD 10 from config', () => {
    shipped().resourceCountIs('AWS::Budgets::Budget', 1);
    shipped().hasResourceProperties('AWS::Budgets::Budget', {
      Budget: { BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 10, Unit: 'USD' }, BudgetName: 'auraxis-monthly-cost' },
    });
  });

  test('budget e-mails at 80% actual, 100% actual and 100% forecast', () => {
    const subscribers = [{ SubscriptionType: 'EMAIL', Address: 'ops@auraxis.com.br' }];
    const notification = (NotificationType: string, Threshold: number) => ({
      Notification: { NotificationType, Threshold, ComparisonOperator: 'GREATER_THAN', ThresholdType: 'PERCENTAGE' },
      Subscribers: subscribers,
    });
    shipped().hasResourceProperties('AWS::Budgets::Budget', {
      NotificationsWithSubscribers: [notification('ACTUAL', 80), notification('ACTUAL', 100), notification('FORECASTED', 100)],
    });
  });

  test('Cost Explorer watches every service and e-mails a daily digest of anomalies of USD 3 or more', () => {
    const template = shipped();
    template.resourceCountIs('AWS::CE::AnomalyMonitor', 1);
    template.hasResourceProperties('AWS::CE::AnomalyMonitor', { MonitorType: 'DIMENSIONAL', MonitorDimension: 'SERVICE' });
    template.hasResourceProperties('AWS::CE::AnomalySubscription', {
      Frequency: 'DAILY',
      MonitorArnList: [{ 'Fn::GetAtt': ['ServicesAnomalyMonitor', 'MonitorArn'] }],
      Subscribers: [{ Type: 'EMAIL', Address: 'ops@auraxis.com.br' }],
      ThresholdExpression: JSON.stringify({
        Dimensions: { Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE', MatchOptions: ['GREATER_THAN_OR_EQUAL'], Values: ['3'] },
      }),
    });
  });

  test('GitHub OIDC provider: issuer, audience and thumbprints, as a native resource (no custom-resource Lambda)', () => {
    const template = shipped();
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.resourceCountIs('Custom::AWSCDKOpenIdConnectProvider', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
      ThumbprintList: [...GITHUB_OIDC_THUMBPRINTS],
    });
  });

  test("the provider's ARN is the one the deploy roles import: githubOidcProviderArn(account)", () => {
    // IAM names an OIDC provider arn:aws:iam::<account>:oidc-provider/<issuer host>; the issuer is fixed above.
    const url = shipped().findResources('AWS::IAM::OIDCProvider');
    const issuer = (Object.values(url)[0].Properties.Url as string).replace(/^https:\/\//, '');
    expect(githubOidcProviderArn(ACCOUNT)).toBe(`arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer}`);
  });

  test('outputs the provider ARN, the monitor ARN and the budget name for pipelines', () => {
    const outputs = shipped().findOutputs('*');
    expect(outputs[accountOutputNames.githubOidcProviderArn].Value).toEqual({ Ref: 'GithubOidcProviderD8241A88' });
    expect(outputs[accountOutputNames.anomalyMonitorArn].Value).toEqual({ 'Fn::GetAtt': ['ServicesAnomalyMonitor', 'MonitorArn'] });
    expect(outputs[accountOutputNames.budgetName].Value).toEqual({ Ref: 'MonthlyCostBudget' });
  });

  test('logical IDs of the account-wide resources are pinned (renaming one replaces it)', () => {
    const template = shipped();
    for (const [id, type] of [
      ['GithubOidcProviderD8241A88', 'AWS::IAM::OIDCProvider'],
      ['MonthlyCostBudget', 'AWS::Budgets::Budget'],
      ['ServicesAnomalyMonitor', 'AWS::CE::AnomalyMonitor'],
      ['AnomalySubscription', 'AWS::CE::AnomalySubscription'],
    ]) {
      expect(template.toJSON().Resources[id]?.Type).toBe(type);
    }
  });
});

describe('AccountStack (variants)', () => {
  test('budget amount, early-warning percentage, e-mail and anomaly threshold come from config', () => {
    const template = accountTemplate((c) => {
      c.costGuardrails = { monthlyBudgetUsd: 25.5, email: 'billing@example.com', alertThresholdPercent: 50, anomalyThresholdUsd: 7 };
    });
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({ BudgetLimit: { Amount: 25.5, Unit: 'USD' } }),
      NotificationsWithSubscribers: Match.arrayWith([
        {
          Notification: Match.objectLike({ NotificationType: 'ACTUAL', Threshold: 50 }),
          Subscribers: [{ SubscriptionType: 'EMAIL', Address: 'billing@example.com' }],
        },
      ]),
    });
    template.hasResourceProperties('AWS::CE::AnomalySubscription', {
      Subscribers: [{ Type: 'EMAIL', Address: 'billing@example.com' }],
      ThresholdExpression: Match.stringLikeRegexp('"Values":\\["7"\\]'),
    });
  });

  test('an existing services monitor is subscribed to instead of creating a second one (AWS allows one per account)', () => {
    const arn = `arn:aws:ce::${ACCOUNT}:anomalymonitor/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab`;
    const template = accountTemplate((c) => {
      c.costGuardrails.existingAnomalyMonitorArn = arn;
    });
    template.resourceCountIs('AWS::CE::AnomalyMonitor', 0);
    template.hasResourceProperties('AWS::CE::AnomalySubscription', { MonitorArnList: [arn] });
    expect(template.findOutputs(accountOutputNames.anomalyMonitorArn)[accountOutputNames.anomalyMonitorArn].Value).toBe(arn);
  });

  test('an existing monitor of another account is rejected with the accounts named', () => {
    expect(() =>
      accountTemplate((c) => {
        c.costGuardrails.existingAnomalyMonitorArn = 'arn:aws:ce::111111111111:anomalymonitor/abc';
      }),
    ).toThrow(
      'costGuardrails.existingAnomalyMonitorArn (arn:aws:ce::111111111111:anomalymonitor/abc) belongs to account 111111111111, not 765480282720: an anomaly subscription can only watch monitors of its own account',
    );
  });

  test('two environments in two accounts get two account stacks, each with its own OIDC provider, both in us-east-1', () => {
    const config = configWith((c) => {
      c.environments.prod.account = '111122223333';
      c.environments.prod.region = 'eu-west-1';
      c.environments.prod.instance.availabilityZone = 'eu-west-1a';
    });
    const app = buildAwsApp(config);
    for (const account of [config.environments.dev.account, '111122223333']) {
      const stack = app.node.findChild(stackNames.account('auraxis', account)) as Stack;
      expect(stack.account).toBe(account);
      expect(stack.region).toBe('us-east-1');
    }
    expect(app.node.children.filter((c) => c.node.id.includes('-account-'))).toHaveLength(2);
  });
});
