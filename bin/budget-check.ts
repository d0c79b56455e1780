import { environmentsOf, type ProjectConfig } from '../lib/config';
import { estimateMonthlyCost, totalUsd } from '../scripts/review/cost-estimate';

/** One account whose monthly budget is below what its environments are estimated to cost. */
export interface BudgetShortfall {
  readonly account: string;
  readonly estimateUsd: number;
  /** One line naming the key, the value, the estimate and where to see it. */
  readonly message: string;
}

/**
 * Accounts whose `costGuardrails.monthlyBudgetUsd` is below the cost estimate of their
 * environments: such a budget alerts every month, so its alerts stop meaning anything.
 * A warning, not an error: the owners may mean to cut costs to the budget.
 */
export function budgetShortfalls(config: ProjectConfig): BudgetShortfall[] {
  const budget = config.costGuardrails.monthlyBudgetUsd;
  const environments = environmentsOf(config);
  const shortfalls: BudgetShortfall[] = [];
  for (const account of [...new Set(environments.map((e) => e.account))]) {
    const names = environments.filter((e) => e.account === account).map((e) => e.name);
    const ofAccount = { ...config, environments: Object.fromEntries(names.map((n) => [n, config.environments[n]])) };
    const estimateUsd = totalUsd(estimateMonthlyCost(ofAccount));
    if (budget < estimateUsd) {
      shortfalls.push({
        account,
        estimateUsd,
        message: `costGuardrails.monthlyBudgetUsd: ${budget} is below the estimated USD ${estimateUsd.toFixed(2)} a month of account ${account} (${names.join(', ')}; see npm run review:cost): the budget would alert every month`,
      });
    }
  }
  return shortfalls;
}
