import { z } from 'zod';
import { email, positiveNumber } from '../primitives';

/** Account-level spending alerts: an AWS Budgets monthly budget and Cost Explorer anomaly detection. */
export const costGuardrailsSchema = z.strictObject({
  /** Monthly cost budget in USD; alerts at 80% actual, 100% actual and 100% forecast. */
  monthlyBudgetUsd: positiveNumber,
  /** Who receives budget and anomaly alerts. */
  email: email,
  /** Alert when a cost anomaly's total impact reaches this many USD. */
  anomalyThresholdUsd: positiveNumber.default(3),
});
