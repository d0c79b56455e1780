import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { KubernetesConfig } from '../lib/config';
import type { AppIdentity } from './labels';

export interface AutoscalerProps {
  /** The Deployment to scale; it stops rendering `spec.replicas` so GitOps syncs do not fight the autoscaler. */
  readonly target: kplus.Deployment;
  /** Bounds and CPU target. */
  readonly autoscaling: NonNullable<KubernetesConfig['autoscaling']>;
  /** The environment's fixed replicas: the minimum when `autoscaling.minReplicas` is not given. */
  readonly replicas: number;
  /** Names and labels shared with the other constructs of the chart. */
  readonly identity: AppIdentity;
}

/**
 * An `autoscaling/v2` HorizontalPodAutoscaler on average CPU utilisation (percent of requests).
 * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
 */
export class Autoscaler extends Construct {
  public readonly hpa: kplus.HorizontalPodAutoscaler;

  constructor(scope: Construct, id: string, props: AutoscalerProps) {
    super(scope, id);
    const { autoscaling } = props;
    this.hpa = new kplus.HorizontalPodAutoscaler(this, 'Resource', {
      metadata: { name: props.identity.name, labels: { ...props.identity.selectorLabels } },
      target: props.target,
      minReplicas: autoscaling.minReplicas ?? props.replicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(autoscaling.targetCpuUtilization))],
    });
  }
}
