import { parseConfig } from '../../lib/config';
import { problemsOf, shippedConfigInput } from '../helpers/config-fixtures';

/*
 * Inputs AWS would reject at deploy time fail at synth, with the key path and value named.
 */

describe('bad input for the guardrails and health checks', () => {
  test('a health check asking for HTTPS on a tls: false environment', () => {
    const raw = shippedConfigInput();
    raw.environments.dev.healthCheck = { protocol: 'HTTPS' };
    expect(problemsOf(raw)).toEqual([
      'environments.dev.healthCheck.protocol: "HTTPS" cannot be HTTPS when this environment has tls: false (the host serves HTTP only)',
    ]);
  });

  test('a budget without its e-mail', () => {
    const raw = shippedConfigInput();
    delete raw.costGuardrails.email;
    expect(problemsOf(raw)).toEqual(['costGuardrails.email: is required']);
  });

  test('a budget e-mail that is not an address', () => {
    const raw = shippedConfigInput();
    raw.costGuardrails.email = 'ops-at-auraxis';
    expect(problemsOf(raw)).toEqual(['costGuardrails.email: "ops-at-auraxis" is not an e-mail address']);
  });

  test('a hosted zone id without its name', () => {
    const raw = shippedConfigInput();
    delete raw.environments.prod.hostedZone.name;
    expect(problemsOf(raw)).toEqual(['environments.prod.hostedZone.name: is required']);
  });

  test('a zero or negative budget, an early warning at or above 100% and a non-positive anomaly threshold, all reported together', () => {
    const raw = shippedConfigInput();
    raw.costGuardrails.monthlyBudgetUsd = 0;
    raw.costGuardrails.alertThresholdPercent = 100;
    raw.costGuardrails.anomalyThresholdUsd = -1;
    expect(problemsOf(raw)).toEqual([
      'costGuardrails.monthlyBudgetUsd: 0 must be a positive number',
      'costGuardrails.alertThresholdPercent: 100 must be less than 100 (100% actual and forecast are always alerted)',
      'costGuardrails.anomalyThresholdUsd: -1 must be a positive number',
    ]);
  });

  test('an existing anomaly monitor given as something other than a monitor ARN', () => {
    const raw = shippedConfigInput();
    raw.costGuardrails.existingAnomalyMonitorArn = 'Default-Services-Monitor';
    expect(problemsOf(raw)).toEqual([
      'costGuardrails.existingAnomalyMonitorArn: "Default-Services-Monitor" is not a Cost Explorer anomaly monitor ARN (arn:aws:ce::<account>:anomalymonitor/<id>)',
    ]);
  });

  test('an unknown key under costGuardrails (e.g. a misspelt threshold)', () => {
    const raw = shippedConfigInput();
    raw.costGuardrails.anomalyTreshold = 5;
    expect(problemsOf(raw)).toEqual(['costGuardrails.anomalyTreshold: is not a known key (remove it or check its spelling)']);
  });

  test('defaults: 80% early warning, USD 3 anomaly threshold, no existing monitor', () => {
    const raw = shippedConfigInput();
    delete raw.costGuardrails.anomalyThresholdUsd;
    expect(parseConfig(raw).costGuardrails).toEqual({ monthlyBudgetUsd: 10, email: 'ops@auraxis.com.br', alertThresholdPercent: 80, anomalyThresholdUsd: 3 });
  });

  test("HTTP on a TLS environment is allowed (a cheaper check of the redirecting port is the user's call)", () => {
    const raw = shippedConfigInput();
    raw.environments.prod.healthCheck = { protocol: 'HTTP' };
    expect(problemsOf(raw)).toEqual([]);
  });
});
