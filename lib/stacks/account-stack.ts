import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as ce from 'aws-cdk-lib/aws-ce';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { CostGuardrailsConfig } from '../config';
import { accountOutputNames, GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_ISSUER } from '../names';
/**
 * Thumbprints of GitHub's OIDC intermediate certificates. IAM no longer uses them for GitHub (it
 * trusts GitHub through its own root CA library) but the API still stores a list; pinning the two
 * published values keeps the template deterministic instead of letting IAM fetch one at create time.
 * @see https://github.blog/changelog/2023-06-27-github-actions-update-on-oidc-integration-with-aws/
 */
export const GITHUB_OIDC_THUMBPRINTS = ['6938fd4d98bab03faadb97b34396831e3780aea1', '1c58a3a8518e8759bf075b76b750d4f2df264fcd'] as const;

export interface AccountStackProps extends StackProps {
  /** Application name, used in the budget and monitor names. */
  readonly appName: string;
  /** The AWS account this stack guards; must equal `env.account`. */
  readonly account: string;
  /** Budget and anomaly-detection settings. */
  readonly costGuardrails: CostGuardrailsConfig;
}

/**
 * Once per AWS account, in us-east-1 (Budgets and Cost Explorer are global services served from
 * there): a monthly cost budget with e-mail alerts, Cost Explorer anomaly detection, and the GitHub
 * Actions OIDC provider the per-environment deploy roles trust.
 */
export class AccountStack extends Stack {
  /** ARN of the GitHub OIDC provider; equal to `githubOidcProviderArn(account)` once deployed. */
  public readonly githubOidcProvider: iam.OidcProviderNative;
  public readonly budget: budgets.CfnBudget;
  /** ARN of the monitor the subscription watches (created here or existing). */
  public readonly anomalyMonitorArn: string;

  constructor(scope: Construct, id: string, props: AccountStackProps) {
    super(scope, id, props);
    const { appName, account, costGuardrails: cost } = props;

    // IAM fixes the provider's ARN from this URL; the deploy roles import it by `githubOidcProviderArn`, built from the same issuer.
    this.githubOidcProvider = new iam.OidcProviderNative(this, 'GithubOidcProvider', {
      url: `https://${GITHUB_OIDC_ISSUER}`,
      clientIds: [GITHUB_OIDC_AUDIENCE],
      thumbprints: [...GITHUB_OIDC_THUMBPRINTS],
    });

    const subscribers = [{ subscriptionType: 'EMAIL', address: cost.email }];
    const notify = (notificationType: 'ACTUAL' | 'FORECASTED', threshold: number): budgets.CfnBudget.NotificationWithSubscribersProperty => ({
      notification: { notificationType, comparisonOperator: 'GREATER_THAN', threshold, thresholdType: 'PERCENTAGE' },
      subscribers,
    });
    this.budget = new budgets.CfnBudget(this, 'MonthlyCostBudget', {
      budget: {
        budgetName: `${appName}-monthly-cost`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: cost.monthlyBudgetUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: [notify('ACTUAL', cost.alertThresholdPercent), notify('ACTUAL', 100), notify('FORECASTED', 100)],
    });

    if (cost.existingAnomalyMonitorArn) {
      const monitorAccount = cost.existingAnomalyMonitorArn.split(':')[4];
      if (monitorAccount !== account) {
        throw new Error(
          `costGuardrails.existingAnomalyMonitorArn (${cost.existingAnomalyMonitorArn}) belongs to account ${monitorAccount}, not ${account}: an anomaly subscription can only watch monitors of its own account`,
        );
      }
      this.anomalyMonitorArn = cost.existingAnomalyMonitorArn;
    } else {
      const monitor = new ce.CfnAnomalyMonitor(this, 'ServicesAnomalyMonitor', {
        monitorName: `${appName}-services`,
        monitorType: 'DIMENSIONAL',
        monitorDimension: 'SERVICE',
      });
      this.anomalyMonitorArn = monitor.attrMonitorArn;
    }
    new ce.CfnAnomalySubscription(this, 'AnomalySubscription', {
      subscriptionName: `${appName}-cost-anomalies`,
      frequency: 'DAILY',
      monitorArnList: [this.anomalyMonitorArn],
      subscribers: [{ type: 'EMAIL', address: cost.email }],
      thresholdExpression: JSON.stringify({
        Dimensions: { Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE', MatchOptions: ['GREATER_THAN_OR_EQUAL'], Values: [String(cost.anomalyThresholdUsd)] },
      }),
    });

    new CfnOutput(this, accountOutputNames.githubOidcProviderArn, {
      value: this.githubOidcProvider.oidcProviderArn,
      description: 'GitHub Actions OIDC provider; the per-environment deploy roles trust it',
    });
    new CfnOutput(this, accountOutputNames.anomalyMonitorArn, { value: this.anomalyMonitorArn });
    new CfnOutput(this, accountOutputNames.budgetName, { value: this.budget.ref });
  }
}
