#!/usr/bin/env bash
# backup-metric.sh: sourced by backup.sh (after lib.sh). After each successful backup it records the
# newest backup in STATE_DIR/last-backup.json (what `status` shows) and publishes its age to
# CloudWatch as BACKUP_METRIC_NAMESPACE / NewestBackupAgeSeconds (dimension Environment), the
# metric the data stack's backup-age alarm watches. A failed publish is a warning, not a failed
# backup: the alarm sees the missing data point and fires after twice the schedule.
# Names match lib/host-runtime/backup-metric.ts; the SSM document writes BACKUP_METRIC_NAMESPACE.

BACKUP_METRIC_NAMESPACE=${BACKUP_METRIC_NAMESPACE:-}
BACKUP_METRIC_NAME=${BACKUP_METRIC_NAME:-NewestBackupAgeSeconds}
AWS_CLOUDWATCH_ENDPOINT_ARGS=${AWS_CLOUDWATCH_ENDPOINT_ARGS:-}
LAST_BACKUP_FILE=${LAST_BACKUP_FILE:-$STATE_DIR/last-backup.json}

# stamp_epoch STAMP: seconds since the epoch of a backup key's UTC stamp (YYYYMMDDTHHMMSSZ).
stamp_epoch() {
  local s=$1
  [[ $s =~ ^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z$ ]] || return 1
  date -u -d "${BASH_REMATCH[1]}-${BASH_REMATCH[2]}-${BASH_REMATCH[3]} ${BASH_REMATCH[4]}:${BASH_REMATCH[5]}:${BASH_REMATCH[6]}" +%s
}

# backup_metric_argv AGE_SECONDS: the AWS CLI arguments that publish the age, one per line (pure).
backup_metric_argv() {
  printf '%s\n' cloudwatch put-metric-data \
    --namespace "$BACKUP_METRIC_NAMESPACE" \
    --metric-data "MetricName=$BACKUP_METRIC_NAME,Dimensions=[{Name=Environment,Value=$ENV_NAME}],Value=$1,Unit=Seconds"
}

# publish_backup_age KEY STAMP BYTES: record the newest backup and publish its age.
publish_backup_age() {
  local key=$1 stamp=$2 bytes=$3 taken age
  taken=$(stamp_epoch "$stamp") || { warn "backup stamp '$stamp' is not YYYYMMDDTHHMMSSZ: age not published"; return 0; }
  age=$(($(date -u +%s) - taken))
  mkdir -p "$(dirname "$LAST_BACKUP_FILE")"
  printf '{"key": "%s", "bucket": "%s", "takenAt": "%s", "bytes": %s}\n' "$key" "$BACKUP_BUCKET" "$(date -u -d "@$taken" +%Y-%m-%dT%H:%M:%SZ)" "$bytes" >"$LAST_BACKUP_FILE.tmp"
  mv "$LAST_BACKUP_FILE.tmp" "$LAST_BACKUP_FILE"
  if [ -z "$BACKUP_METRIC_NAMESPACE" ]; then
    warn "BACKUP_METRIC_NAMESPACE is empty: backup age not published"
    return 0
  fi
  local -a args
  mapfile -t args < <(backup_metric_argv "$age")
  if run_setting "$AWS_CMD $AWS_CLOUDWATCH_ENDPOINT_ARGS" "${args[@]}"; then
    log "published $BACKUP_METRIC_NAMESPACE/$BACKUP_METRIC_NAME=$age s for $ENV_NAME"
  else
    warn "could not publish the backup age to CloudWatch: the backup-age alarm will fire if this persists"
  fi
}
