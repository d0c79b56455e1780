#!/usr/bin/env bash
# restore.sh KEY|latest: put a backup back into the LIVE database, measuring RTO and RPO.
# restore.sh --resume: after an interrupted restore, start the app again on the database as it is.
#
#   1. lock (no deploy, rollback or second restore meanwhile); an interrupted restore recorded by
#      an earlier run is resumed first (below); an interrupted deploy or rollback refuses
#   2. find the backup and check it against the manifest the backup wrote beside it (latest: the
#      newest whose manifest and sha256 verify, backup-lib.sh's choose_backup, which names each one
#      it skips and why), download it, check its files against the manifest inside it
#                                                                          (nothing changed yet)
#   3. safety backup: pg_dump of the live database to
#      s3://BACKUP_BUCKET/BACKUP_PREFIXsafety/<app>-<env>-<stamp>-before-restore.dump
#   4. the in-progress record (lib.sh), then stop the app's services (every Compose service except
#      DB_SERVICE and REDIS_SERVICE; under blue/green the serving colour)
#   5. pg_restore --clean --if-exists --single-transaction as the database's OWNER (not the
#      superuser): objects come back owned by the owner, and a failure rolls the whole restore
#      back, leaving the live database as it was. It runs in a shell of its own that writes what
#      pg_restore returned to RESTORE_RESULT_FILE even when this script is killed, so the next
#      operation can tell which state the database is in
#   6. start the release (compose up) and wait for HEALTH_URL
#   7. print and audit RTO (app stopped -> healthy again) and RPO (the backup's age at the request)
# From step 4 on, every way out (an error, a signal) starts the app again and says which state the
# database is in; a kill -9 leaves the record: status reports the interrupted restore, and the
# next deploy, rollback, rotation restart or restore (or restore.sh --resume) starts the app again.
#
# Redis is not restored: it holds rate limits, lockout counters and OAuth state, which expire on
# their own; the backup's AOF stays in S3 for forensics.
#
# Exit codes: 0 restored and healthy (--resume: the app runs again, or nothing was interrupted);
# 1 refused or failed before the app was stopped (nothing changed; also: no backup verifies, an
# interrupted deploy or rollback is recorded); 2 usage; 3 failed after the app was stopped: the
# app was started again and is healthy on the database as it is (the message and the audit line
# say which state: unchanged, or the backup); 4 the app is not healthy after the restore (or after
# --resume): the in-progress record stays, act now; 65 the lock file cannot be opened or written;
# 75 another operation holds the lock;
# 129/130/143 interrupted by a signal (the app started again, as for 3).
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/host/backup-lib.sh
. "$HOST_SCRIPT_DIR/backup-lib.sh"
# shellcheck source=scripts/host/switch.sh
. "$HOST_SCRIPT_DIR/switch.sh" # on_serving, resume_restore: under blue/green the app runs as the serving colour

REDIS_SERVICE=${REDIS_SERVICE-redis}

[ "$#" -eq 1 ] || die -c 2 "usage: restore.sh <backup key>|latest|--resume"
requested=$1
case $requested in --resume | resume) requested=--resume ;; esac
require_backup_settings
if [ "$requested" != latest ] && [ "$requested" != --resume ] && ! [[ $requested =~ $(backup_key_pattern) ]]; then
  die -c 2 "'$requested' is not a backup key of this environment (expected latest, --resume or ${BACKUP_PREFIX}$APP_NAME-$ENV_NAME-YYYYMMDDTHHMMSSZ.tar.gz)"
fi

at_exit lock_release
lock_acquire restore "backup=$requested"
requested_at=$(date -u +%s)

# fail CODE MESSAGE: audit the failed restore and exit.
fail() {
  audit restore failed "$2" "key=${key:-$requested}" "exit=$1"
  die -c "$1" "restore FAILED: $2"
}

# 1. An earlier restore, interrupted: its app runs again first; anything else interrupted refuses.
if [ -f "$PROGRESS_FILE" ]; then
  interrupted=$(progress_field op)
  if [ "$interrupted" != restore ]; then
    audit restore refused "an interrupted $interrupted is recorded" "backup=$requested"
    die -c 1 "refusing to restore: $PROGRESS_FILE records an interrupted $interrupted of $(progress_field ref); run rollback (or deploy) first; nothing was changed"
  fi
  if ! resume_restore restore; then
    audit restore critical "$RESTORE_ERROR" "interrupted=restore" "exit=4"
    die -c 4 "$RESTORE_ERROR. The service may be down: act now, then run restore --resume again"
  fi
fi
if [ "$requested" = --resume ]; then
  [ -n "${interrupted:-}" ] || log "no interrupted restore is recorded: nothing to resume"
  exit 0
fi

audit restore started "restore of the live database requested" "backup=$requested" "database=$PGDATABASE"
OUTCOME_STATE="nothing was changed"
mkdir -p "$BACKUP_WORK_DIR"
work=$(mktemp -d "$BACKUP_WORK_DIR/$APP_NAME-restore.XXXXXX")
at_exit_remove "$work"

# 2. The backup, as its manifest says the backup wrote it
if [ "$requested" = latest ]; then
  choose_backup "$work" || fail 1 "$CHOOSE_ERROR"
else
  choose_backup "$work" "$requested" || fail 1 "$CHOOSE_ERROR"
fi
key=$CHOSEN_KEY
log "restoring s3://$BACKUP_BUCKET/$key into the live database $PGDATABASE"
mkdir "$work/backup"
tar -C "$work/backup" -xzf "$work/backup.tar.gz" 2>"$work/tar.err" || fail 1 "backup $key is corrupt (not a readable gzip'd tar)"
[ -f "$work/backup/postgres.dump" ] || fail 1 "backup $key is incomplete (postgres.dump missing)"
[ -f "$work/backup/manifest.json" ] || fail 1 "backup $key is incomplete (manifest.json missing)"
taken_at=$(python3 "$HOST_SCRIPT_DIR/backup_archive.py" verify "$work/backup" 2>"$work/verify.err") || fail 1 "backup $key does not match its manifest: $(cat "$work/verify.err")"
rpo=$((requested_at - taken_at))

owner=$(pg_tool psql -d postgres -X -A -t -q -v ON_ERROR_STOP=1 -v db="$PGDATABASE" 2>"$work/owner.err" <<'SQL'
SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :'db'
SQL
) || fail 1 "could not read the owner of database $PGDATABASE: $(cat "$work/owner.err")"
[ -n "$owner" ] || fail 1 "database $PGDATABASE does not exist on the server"

# 3. Safety backup of the live database, before anything changes
stamp=$(date -u +%Y%m%dT%H%M%SZ)
safety_key="${BACKUP_PREFIX}safety/$APP_NAME-$ENV_NAME-$stamp-before-restore.dump"
pg_tool pg_dump -d "$PGDATABASE" -Fc >"$work/safety.dump" 2>"$work/safety.err" || fail 1 "safety backup (pg_dump of $PGDATABASE) failed: $(cat "$work/safety.err")"
# With a checksum, as every upload to the Object Lock bucket needs (see backup.sh).
aws_s3 s3 cp --only-show-errors --checksum-algorithm CRC32 "$work/safety.dump" "s3://$BACKUP_BUCKET/$safety_key" 9>&- 2>"$work/safety-cp.err" ||
  fail 1 "upload of the safety backup failed: $(cat "$work/safety-cp.err")"
audit restore safety-backup "live database saved before the restore" "key=$key" "safety=$safety_key"
log "safety backup of the live database: s3://$BACKUP_BUCKET/$safety_key"

# 4. The in-progress record, then stop the app (the database, and Redis, keep running)
all_services=$(compose config --services 2>"$work/services.err") || fail 1 "could not list the Compose services: $(cat "$work/services.err"); the live database is unchanged"
mapfile -t services < <(grep -v -x -e "$DB_SERVICE" ${REDIS_SERVICE:+-e "$REDIS_SERVICE"} <<<"$all_services" || true)
rm -f "$RESTORE_RESULT_FILE"
if ! progress_write restore "$key" "" stopping "$(state_get current.ref)" "$(state_get current.commit)" "safety=$safety_key"; then
  fail 1 "cannot write the in-progress record $PROGRESS_FILE (state directory full or read-only); nothing was changed"
fi

# restore_app_back: the app started again on the database as it is; OUTCOME_STATE says which state
# that is. The record is removed once the app is healthy; otherwise it stays (restore --resume and
# the next operation try again) and OUTCOME_FAIL_CODE becomes 4.
restore_app_back() {
  local database
  RESTORE_APP_TRIED=1
  database=$(restore_database_state)
  if on_serving app_up_healthy; then
    progress_clear
    rm -f "$RESTORE_RESULT_FILE"
    OUTCOME_STATE="the app was started again and is healthy; $database"
    return 0
  fi
  OUTCOME_FAIL_CODE=4 OUTCOME_STATE="the app did not come back healthy (${HEALTH_ERROR:-compose $COMPOSE_UP_ARGS failed}); $database; the in-progress record stays: act now, then run restore --resume"
  return 1
}

# fail_after_stop MESSAGE: the app back (exit 3), or not healthy (exit 4), audited with the state.
fail_after_stop() {
  restore_app_back || true
  fail "$OUTCOME_FAIL_CODE" "$1; $OUTCOME_STATE"
}

# Any other way out while the record is this run's (a signal, an unexpected error): the same.
RESTORE_APP_TRIED=0
restore_on_exit() {
  [ "$RESTORE_APP_TRIED" = 0 ] && [ "$(progress_field pid 2>/dev/null)" = "$$" ] || return 0
  restore_app_back || true
}
at_exit restore_on_exit
OUTCOME_FAIL_CODE=3
stopped_at=$(date -u +%s)
if [ "${#services[@]}" -gt 0 ]; then
  log "stopping ${services[*]}"
  compose stop "${services[@]}" >&2 || fail_after_stop "could not stop ${services[*]}"
fi
# Under blue/green the app runs in the serving colour's project (its services only): stopped too.
if [ "$BLUE_GREEN" = true ] && [ -n "$(state_get servingColour)" ]; then
  log "stopping the serving colour $(state_get servingColour)"
  on_serving compose stop >&2 || fail_after_stop "could not stop the serving colour"
fi

# 5. Restore as the owner, all or nothing; what pg_restore returned is written by a shell that
# outlives this script (kill -9), and it keeps the lock until pg_restore ends.
progress_phase pg-restore
log "pg_restore as $owner (single transaction)"
(
  rc=0
  PGUSER=$owner pg_tool pg_restore -d "$PGDATABASE" --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
    <"$work/backup/postgres.dump" 2>"$work/restore.err" || rc=$?
  printf '%s\n' "$rc" >"$RESTORE_RESULT_FILE.tmp" && mv -f "$RESTORE_RESULT_FILE.tmp" "$RESTORE_RESULT_FILE"
) || true
if [ "$(cat "$RESTORE_RESULT_FILE" 2>/dev/null)" != 0 ]; then
  progress_phase rolled-back
  fail_after_stop "pg_restore of $key failed (the transaction rolled back: the live database is unchanged): $(head -c 600 "$work/restore.err")"
fi
progress_phase restored

# 6. The release again, and the health gate
if ! restore_app_back; then
  fail 4 "$key was restored but the app is not healthy: ${HEALTH_ERROR:-compose $COMPOSE_UP_ARGS failed}; the in-progress record stays (run restore --resume once it is fixed); the safety backup is s3://$BACKUP_BUCKET/$safety_key"
fi
healthy_at=$(date -u +%s)
rto=$((healthy_at - stopped_at))

# 7. Outcome
audit restore ok "restored into the live database and healthy" "key=$key" "safety=$safety_key" "owner=$owner" "rtoSeconds=$rto" "rpoSeconds=$rpo"
log "restore complete: $key into $PGDATABASE as $owner"
printf 'restored:   s3://%s/%s\nsafety:     s3://%s/%s\nRTO:        %s s (app stopped until healthy)\nRPO:        %s s (age of the backup when the restore was requested)\n' \
  "$BACKUP_BUCKET" "$key" "$BACKUP_BUCKET" "$safety_key" "$rto" "$rpo"
