import type * as cxapi from 'aws-cdk-lib/cx-api';
import { type CostEstimate, cents, estimateMonthlyCost } from '../lib/cost/estimate';
import { type SynthStack, synthStack } from '../lib/synth-output/stacks';

/** One account whose monthly budget is below what its environments are estimated to cost. */
export interface BudgetShortfall {
  readonly account: string;
  readonly estimateUsd: number;
  /** One line naming the key, the value, the estimate and where to see it. */
  readonly message: string;
}

/**
 * Accounts whose budget (`costGuardrails.monthlyBudgetUsd`, synthesized as the account stack's
 * AWS::Budgets::Budget) is below the cost estimate of what deploys in that account: such a budget
 * alerts every month, so its alerts stop meaning anything. A warning, not an error: the owners may
 * mean to cut costs to the budget.
 */
export function budgetShortfalls(estimate: CostEstimate): BudgetShortfall[] {
  const shortfalls: BudgetShortfall[] = [];
  for (const [account, environments] of estimate.accounts) {
    const budget = estimate.budgets.get(account);
    if (budget === undefined) continue;
    const lines = estimate.lines.filter((l) => environments.includes(l.environment) || l.key === `account ${account} free tier`);
    const estimateUsd = cents(lines.reduce((sum, l) => sum + l.usd, 0));
    if (budget < estimateUsd) {
      shortfalls.push({
        account,
        estimateUsd,
        message: `costGuardrails.monthlyBudgetUsd: ${budget} is below the estimated USD ${estimateUsd.toFixed(2)} a month of account ${account} (${environments.join(', ')}; see npm run review:cost): the budget would alert every month`,
      });
    }
  }
  return shortfalls;
}

/** The stacks of an in-memory cloud assembly (`app.synth()`), as the cost estimate reads them. */
export function assemblyStacks(assembly: cxapi.CloudAssembly): Map<string, SynthStack> {
  return new Map(assembly.stacks.map((s) => [s.stackName, synthStack(s.stackName, s.environment.account, s.template)]));
}

/** Budget shortfalls of an in-memory cloud assembly. */
export function assemblyBudgetShortfalls(assembly: cxapi.CloudAssembly): BudgetShortfall[] {
  return budgetShortfalls(estimateMonthlyCost({ stacks: assemblyStacks(assembly) }));
}
