/**
 * The starter Grafana dashboard the runbook mentions (`docs/ops/observability/grafana-dashboard.json`),
 * built from the API's Prometheus metrics: request rate, error ratio, latency, event loop and memory.
 * Metric names are prom-client's defaults plus the API's `http_request_duration_seconds` histogram.
 */
export function grafanaDashboard(appName: string, namespace: string): Record<string, unknown> {
  const sel = `namespace="${namespace}", service="${appName}"`;
  const panel = (id: number, title: string, expr: string, unit: string, x: number, y: number) => ({
    id,
    title,
    type: 'timeseries',
    datasource: { type: 'prometheus', uid: '$datasource' },
    gridPos: { h: 8, w: 12, x, y },
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: [{ refId: 'A', expr, legendFormat: '{{pod}}' }],
  });
  return {
    title: `${appName} API (${namespace})`,
    uid: `${appName}-${namespace}`.slice(0, 40),
    schemaVersion: 39,
    tags: [appName, 'api'],
    time: { from: 'now-6h', to: 'now' },
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus' }] },
    panels: [
      panel(1, 'Requests per second', `sum by (pod) (rate(http_request_duration_seconds_count{${sel}}[5m]))`, 'reqps', 0, 0),
      panel(
        2,
        '5xx ratio',
        `sum(rate(http_request_duration_seconds_count{${sel}, status_code=~"5.."}[5m])) / sum(rate(http_request_duration_seconds_count{${sel}}[5m]))`,
        'percentunit',
        12,
        0,
      ),
      panel(3, 'p95 latency', `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[5m])))`, 's', 0, 8),
      panel(4, 'Event loop lag p99', `nodejs_eventloop_lag_p99_seconds{${sel}}`, 's', 12, 8),
      panel(5, 'Resident memory', `process_resident_memory_bytes{${sel}}`, 'bytes', 0, 16),
      panel(6, 'CPU', `rate(process_cpu_seconds_total{${sel}}[5m])`, 'short', 12, 16),
    ],
  };
}
