import { Chart, type ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { AppConfig, NamedEnvironment } from '../lib/config';

export interface AppChartProps extends ChartProps {
  /** The application to run. */
  readonly app: AppConfig;
  /** The environment whose namespace, replicas and ingress this chart renders. */
  readonly environment: NamedEnvironment;
}

/** The app on Kubernetes for one environment: everything a GitOps controller syncs from `dist/<env>`. */
export class AppChart extends Chart {
  public readonly namespaceObject: kplus.Namespace;

  constructor(scope: Construct, id: string, props: AppChartProps) {
    const { app, environment } = props;
    super(scope, id, {
      ...props,
      namespace: environment.kubernetes.namespace,
      labels: { 'app.kubernetes.io/part-of': app.name, 'app.kubernetes.io/instance': `${app.name}-${environment.name}`, ...props.labels },
    });

    this.namespaceObject = new kplus.Namespace(this, 'Namespace', {
      metadata: { name: environment.kubernetes.namespace },
    });
  }
}
