import { k8s as api } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { KubernetesConfig } from '../lib/config';
import type { AppIdentity } from './labels';

export interface DisruptionBudgetProps {
  /** The environment's Kubernetes settings: replicas, autoscaling floor, `minAvailable`. */
  readonly kubernetes: KubernetesConfig;
  /** Names and labels shared with the other constructs of the chart. */
  readonly identity: AppIdentity;
}

/**
 * The `minAvailable` a budget should keep, or undefined when no budget should exist:
 * the configured value, else one less than the fewest replicas the app runs with
 * (`autoscaling.minReplicas` or `replicas`). A single replica gets no budget, since a budget
 * of 1 for 1 pod would block every node drain. The config schema rejects `minAvailable` ≥ replicas.
 */
export function budgetMinAvailable(k8s: KubernetesConfig): number | undefined {
  if (k8s.minAvailable !== undefined) return k8s.minAvailable;
  const floor = Math.min(k8s.replicas, k8s.autoscaling?.minReplicas ?? k8s.replicas);
  return floor > 1 ? floor - 1 : undefined;
}

/**
 * A `policy/v1` PodDisruptionBudget (cdk8s-plus-27 has no L2 construct for it).
 * @see https://kubernetes.io/docs/tasks/run-application/configure-pdb/
 */
export class DisruptionBudget extends Construct {
  public readonly budget: api.KubePodDisruptionBudget;

  constructor(scope: Construct, id: string, props: DisruptionBudgetProps & { readonly minAvailable: number }) {
    super(scope, id);
    this.budget = new api.KubePodDisruptionBudget(this, 'Resource', {
      metadata: { name: props.identity.name, labels: { ...props.identity.selectorLabels } },
      spec: {
        minAvailable: api.IntOrString.fromNumber(props.minAvailable),
        selector: { matchLabels: { ...props.identity.selectorLabels } },
        // Let a drain evict pods that never became ready instead of waiting on them.
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }
}
