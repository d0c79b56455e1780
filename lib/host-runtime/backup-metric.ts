/**
 * The backup-age metric: the host publishes it after each successful backup
 * (`scripts/host/backup-metric.sh`), the data stack alarms on it, the instance role may put it.
 * Defined once here; the host reads the names from `host.env`.
 */
export const BACKUP_METRIC = {
  /** CloudWatch namespace; the instance role's PutMetricData is limited to it by a condition. */
  namespace: (app: string) => `${app}/Backups`,
  /** Seconds since the newest successful backup was taken, measured right after it was uploaded. */
  metricName: 'NewestBackupAgeSeconds',
  /** The one dimension: the environment name. */
  dimension: 'Environment',
} as const;
