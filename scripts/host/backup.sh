#!/usr/bin/env bash
# backup.sh [run]: dump the Postgres database (pg_dump custom format) and copy Redis's
# append-only file, pack both with a manifest (sha256 sums, the database size and the row count of
# every table, counted in the very snapshot pg_dump dumps) into one gzip'd tar, and upload it to s3://BACKUP_BUCKET/BACKUP_PREFIX<app>-<env>-<UTC timestamp>.tar.gz.
# Then, beside it, <...>.manifest.json: the archive's key, size, sha256, times and database,
# which restore and the drill verify before they trust it (backup-lib.sh). Retention is the
# bucket's lifecycle rule, not this script.
#
# Exit codes of run: 0 uploaded (the key on stdout); 1 failed (the snapshot, pg_dump, Redis copy,
# a full disk, the upload or the manifest's upload; any error): its partial files removed, the
# last-backup record and metric unchanged; 2 usage; 65 the lock file cannot be written; 75 another
# backup holds the lock; 129/130/143 interrupted by a signal (nothing uploaded, or the archive
# without its manifest, which restore skips).
#
# backup.sh install-timer: write <app>-backup.service and <app>-backup.timer to SYSTEMD_DIR with
# OnCalendar=BACKUP_SCHEDULE, reload systemd and enable the timer. Idempotent.
#
# Redis: REDIS_AOF_PATH (a file or directory on this machine) when set; otherwise the data
# directory of the Compose service REDIS_SERVICE (default redis); REDIS_SERVICE="" skips Redis.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/host/backup-lib.sh
. "$HOST_SCRIPT_DIR/backup-lib.sh"

BACKUP_SCHEDULE=${BACKUP_SCHEDULE:-*-*-* 03:00:00}
REDIS_AOF_PATH=${REDIS_AOF_PATH:-}
REDIS_SERVICE=${REDIS_SERVICE-redis}
# The timer and `ops backup` take this lock (flock, as deploy does): a second backup exits 75.
BACKUP_LOCK_FILE=${BACKUP_LOCK_FILE:-$STATE_DIR/backup.lock}

# dump_in_snapshot WORK: pg_dump PGDATABASE to WORK/postgres.dump and its row counts to
# WORK/tables.tsv and its size in bytes to WORK/database.bytes, all from one exported snapshot, so
# the counts are exactly what the dump holds (writes during the backup change neither).
dump_in_snapshot() {
  local work=$1 snapshot="" bytes="" fd
  # The session that holds the snapshot open until the dump and the counts are done.
  coproc SNAPSHOT_SESSION { pg_tool psql -d "$PGDATABASE" -X -A -t -q -v ON_ERROR_STOP=1 2>"$work/snapshot.err" 9>&-; }
  printf '%s\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;' \
    'SELECT pg_export_snapshot(), pg_database_size(current_database());' >&"${SNAPSHOT_SESSION[1]}"
  IFS='|' read -r -t 300 snapshot bytes <&"${SNAPSHOT_SESSION[0]}" || true
  if ! [[ $snapshot =~ ^[0-9A-F-]+$ && $bytes =~ ^[0-9]+$ ]]; then
    audit backup failed "could not open a snapshot of the database" "key=$key" "exit=1"
    die "could not open a snapshot of $PGDATABASE: $(cat "$work/snapshot.err")"
  fi
  log "dumping database $PGDATABASE (custom format, snapshot $snapshot)"
  if ! pg_tool pg_dump -d "$PGDATABASE" -Fc --snapshot="$snapshot" >"$work/postgres.dump" 2>"$work/pg_dump.err"; then
    audit backup failed "pg_dump failed" "key=$key" "exit=1"
    die "pg_dump of $PGDATABASE failed: $(cat "$work/pg_dump.err")"
  fi
  [ "$(head -c 5 "$work/postgres.dump")" = PGDMP ] || die "pg_dump of $PGDATABASE produced no custom-format archive"
  table_counts "$PGDATABASE" "$snapshot" >"$work/tables.tsv" || die "could not count the rows of $PGDATABASE"
  printf '%s\n' "$bytes" >"$work/database.bytes"
  fd=${SNAPSHOT_SESSION[1]}
  printf 'COMMIT;\n' >&"$fd"
  exec {fd}>&-
  wait "$SNAPSHOT_SESSION_PID" 2>/dev/null || true
}

install_timer() {
  local unit="$APP_NAME-backup" changed=0 file text
  [[ $BACKUP_SCHEDULE =~ ^[A-Za-z0-9*:,/.\ ~-]+$ ]] || die "BACKUP_SCHEDULE '$BACKUP_SCHEDULE' is not an OnCalendar expression"
  if command -v systemd-analyze >/dev/null && ! systemd-analyze calendar "$BACKUP_SCHEDULE" >/dev/null 2>&1; then
    die "BACKUP_SCHEDULE '$BACKUP_SCHEDULE' is not a valid systemd OnCalendar expression (systemd-analyze calendar rejects it)"
  fi
  mkdir -p "$SYSTEMD_DIR"
  for file in service timer; do
    if [ "$file" = service ]; then
      text="[Unit]
Description=$APP_NAME backup: Postgres dump and Redis AOF to s3://$BACKUP_BUCKET/$BACKUP_PREFIX
Wants=network-online.target
After=network-online.target docker.service

[Service]
Type=oneshot
ExecStart=$HOST_SCRIPT_DIR/backup.sh run
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7"
    else
      text="[Unit]
Description=$APP_NAME backup schedule

[Timer]
OnCalendar=$BACKUP_SCHEDULE
Persistent=true
RandomizedDelaySec=10min
Unit=$unit.service

[Install]
WantedBy=timers.target"
    fi
    if [ "$(cat "$SYSTEMD_DIR/$unit.$file" 2>/dev/null || true)" != "$text" ]; then
      printf '%s\n' "$text" >"$SYSTEMD_DIR/$unit.$file.tmp"
      mv "$SYSTEMD_DIR/$unit.$file.tmp" "$SYSTEMD_DIR/$unit.$file"
      changed=1
    fi
  done
  if [ "$changed" = 1 ]; then
    run_setting "$SYSTEMCTL_CMD" daemon-reload
    log "wrote $SYSTEMD_DIR/$unit.service and $unit.timer (OnCalendar=$BACKUP_SCHEDULE)"
  else
    log "$unit.timer already up to date (OnCalendar=$BACKUP_SCHEDULE)"
  fi
  run_setting "$SYSTEMCTL_CMD" enable --now "$unit.timer"
}

run_backup() {
  require_backup_settings
  local work created stamp key size
  created=$(now_utc)
  stamp=${created//[-:]/}
  key="$BACKUP_PREFIX$APP_NAME-$ENV_NAME-$stamp.tar.gz"
  LOCK_FILE=$BACKUP_LOCK_FILE LOCK_PURPOSE=backup
  at_exit lock_release
  lock_acquire backup "key=$key"
  audit backup started "backup requested" "key=$key"
  # Whatever ends the backup before its upload (a full disk, a signal): nothing uploaded.
  OUTCOME_STATE="nothing was uploaded; the last-backup record and the backup-age metric are unchanged"
  mkdir -p "$BACKUP_WORK_DIR"
  work=$(mktemp -d "$BACKUP_WORK_DIR/$APP_NAME-backup.XXXXXX")
  at_exit_remove "$work"

  dump_in_snapshot "$work"

  local redis_source=none
  if [ -n "$REDIS_AOF_PATH" ]; then
    [ -e "$REDIS_AOF_PATH" ] || die "REDIS_AOF_PATH $REDIS_AOF_PATH does not exist"
    tar -C "$(dirname "$REDIS_AOF_PATH")" -cf "$work/redis-aof.tar" "$(basename "$REDIS_AOF_PATH")"
    redis_source=$REDIS_AOF_PATH
  elif [ -n "$REDIS_SERVICE" ]; then
    log "copying the append-only file of the $REDIS_SERVICE service"
    compose exec -T "$REDIS_SERVICE" sh -c 'cd /data && tar -cf - appendonly*' >"$work/redis-aof.tar" ||
      die "could not copy Redis's append-only file from the $REDIS_SERVICE service (is appendonly yes set?)"
    redis_source="service $REDIS_SERVICE:/data"
  else
    warn "REDIS_SERVICE is empty: Redis is not backed up"
  fi

  python3 "$HOST_SCRIPT_DIR/backup_archive.py" manifest "$work" "$APP_NAME" "$ENV_NAME" "$PGDATABASE" "$(now_utc)" "$redis_source" ||
    die "could not write the backup's manifest (see the line above)"
  local -a members=(manifest.json postgres.dump)
  [ -f "$work/redis-aof.tar" ] && members+=(redis-aof.tar)
  tar -C "$work" -czf "$work/backup.tar.gz" "${members[@]}"
  size=$(stat -c %s "$work/backup.tar.gz")

  log "uploading s3://$BACKUP_BUCKET/$key ($size bytes)"
  # With a checksum: the bucket has S3 Object Lock, and S3 refuses an upload to it without one
  # (AWS CLI v2 sends one by default only from 2.23; the host's may be older).
  if ! aws_s3 s3 cp --only-show-errors --checksum-algorithm CRC32 "$work/backup.tar.gz" "s3://$BACKUP_BUCKET/$key" 9>&-; then
    audit backup failed "upload failed" "key=$key" "exit=1"
    die "upload of s3://$BACKUP_BUCKET/$key failed"
  fi
  # The manifest beside it, written once the archive is stored: restore and the drill choose only
  # backups whose manifest and sha256 verify (backup-lib.sh's choose_backup).
  local manifest_key
  manifest_key=$(backup_manifest_key "$key")
  backup_manifest_json "$key" "$work/backup.tar.gz" "$created" "$(now_utc)" >"$work/manifest-object.json"
  if ! aws_s3 s3 cp --only-show-errors --checksum-algorithm CRC32 --content-type application/json "$work/manifest-object.json" "s3://$BACKUP_BUCKET/$manifest_key" 9>&-; then
    audit backup failed "the archive was uploaded but its manifest was not: restore and the drill will skip it" "key=$key" "exit=1"
    die "upload of the manifest s3://$BACKUP_BUCKET/$manifest_key failed: the archive $key is stored but restore and the drill skip it; run the backup again"
  fi
  audit backup ok "backup uploaded" "key=$key" "bytes=$size" "tables=$(wc -l <"$work/tables.tsv")"
  # shellcheck source=scripts/host/backup-metric.sh
  . "$HOST_SCRIPT_DIR/backup-metric.sh" && publish_backup_age "$key" "$stamp" "$size"
  log "backup uploaded: s3://$BACKUP_BUCKET/$key ($size bytes, $(wc -l <"$work/tables.tsv") tables) and its manifest $manifest_key"
  printf 's3://%s/%s\n' "$BACKUP_BUCKET" "$key"
}

case "${1:-run}" in
  run) run_backup ;;
  install-timer) install_timer && record_applied backup-timer ;;
  *) die -c 2 "usage: backup.sh [run|install-timer]" ;;
esac
