import { z } from 'zod';
import { email, positiveNumber } from '../primitives';

/** ARN of an existing Cost Explorer anomaly monitor, e.g. the `Default-Services-Monitor` AWS creates in new accounts. */
const anomalyMonitorArn = z.string().regex(/^arn:aws[a-z-]*:ce::\d{12}:anomalymonitor\/[A-Za-z0-9-]+$/, {
  message: 'is not a Cost Explorer anomaly monitor ARN (arn:aws:ce::<account>:anomalymonitor/<id>)',
});

/**
 * Account-level spending alerts: an AWS Budgets monthly budget and Cost Explorer anomaly detection.
 * Budgets alert, they never stop spending.
 */
export const costGuardrailsSchema = z.strictObject({
  /** Monthly cost budget in USD; alerts at `alertThresholdPercent` actual, 100% actual and 100% forecast. */
  monthlyBudgetUsd: positiveNumber,
  /** Who receives budget and anomaly alerts. */
  email: email,
  /** First (early-warning) alert on actual spend, in percent of the budget. @default 80 */
  alertThresholdPercent: z
    .number({ message: 'must be a number' })
    .gt(0, { message: 'must be greater than 0' })
    .lt(100, { message: 'must be less than 100 (100% actual and forecast are always alerted)' })
    .default(80),
  /** Alert when a cost anomaly's total impact reaches this many USD. @default 3 */
  anomalyThresholdUsd: positiveNumber.default(3),
  /**
   * Subscribe to this existing anomaly monitor instead of creating one. AWS allows a single
   * AWS-services (DIMENSIONAL SERVICE) monitor per account and creates one in new accounts.
   * @default - the account stack creates the services monitor
   */
  existingAnomalyMonitorArn: anomalyMonitorArn.optional(),
});
