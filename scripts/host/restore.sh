#!/usr/bin/env bash
# restore.sh KEY|latest: put a backup back into the LIVE database, measuring RTO and RPO.
#
#   1. lock (no deploy, rollback or second restore meanwhile); audit the request
#   2. find the backup (latest: the newest <app>-<env>-<stamp>.tar.gz under BACKUP_PREFIX by the
#      time S3 recorded it, as the drill picks), download it, check it against its manifest
#                                                                          (nothing changed yet)
#   3. safety backup: pg_dump of the live database to
#      s3://BACKUP_BUCKET/BACKUP_PREFIXsafety/<app>-<env>-<stamp>-before-restore.dump
#   4. stop the app's services (every Compose service except DB_SERVICE and REDIS_SERVICE)
#   5. pg_restore --clean --if-exists --single-transaction as the database's OWNER (not the
#      superuser): objects come back owned by the owner, and a failure rolls the whole restore
#      back, leaving the live database as it was
#   6. start the release (compose up) and wait for HEALTH_URL
#   7. print and audit RTO (app stopped -> healthy again) and RPO (the backup's age at the request)
#
# Redis is not restored: it holds rate limits, lockout counters and OAuth state, which expire on
# their own; the backup's AOF stays in S3 for forensics.
#
# Exit codes: 0 restored and healthy; 1 refused or failed before the app was stopped (nothing
# changed); 2 usage; 3 pg_restore failed after the app was stopped (the database is unchanged, the
# app was started again); 4 restored but the app is not healthy; 75 another operation holds the lock.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/host/backup-lib.sh
. "$HOST_SCRIPT_DIR/backup-lib.sh"
# shellcheck source=scripts/host/switch.sh
. "$HOST_SCRIPT_DIR/switch.sh" # on_serving: under blue/green the app runs as the serving colour

# The release started again (COMPOSE_UP_ARGS as on_serving aims it), and with its health gate.
compose_with_up() { compose_with "$COMPOSE_UP_ARGS"; }
release_up_healthy() { compose_with "$COMPOSE_UP_ARGS" && health_wait; }

REDIS_SERVICE=${REDIS_SERVICE-redis}

[ "$#" -eq 1 ] || die -c 2 "usage: restore.sh <backup key>|latest"
requested=$1
require_backup_settings
if [ "$requested" != latest ] && ! [[ $requested =~ $(backup_key_pattern) ]]; then
  die -c 2 "'$requested' is not a backup key of this environment (expected latest or ${BACKUP_PREFIX}$APP_NAME-$ENV_NAME-YYYYMMDDTHHMMSSZ.tar.gz)"
fi

work=""
trap '[ -z "$work" ] || rm -rf "$work"; lock_release' EXIT
lock_acquire restore "backup=$requested"
requested_at=$(date -u +%s)
mkdir -p "$BACKUP_WORK_DIR"
work=$(mktemp -d "$BACKUP_WORK_DIR/$APP_NAME-restore.XXXXXX")

# fail CODE MESSAGE: audit the failed restore and exit.
fail() {
  audit restore failed "$2" "key=${key:-$requested}" "exit=$1"
  die -c "$1" "restore FAILED: $2"
}

# 2. The backup
if [ "$requested" = latest ]; then
  newest=$(newest_backup "$work" 2>"$work/newest.err") || fail 1 "$(cat "$work/newest.err")"
  key=${newest%%$'\t'*}
  [ -n "$key" ] || fail 1 "no backup found under s3://$BACKUP_BUCKET/$BACKUP_PREFIX"
else
  key=$requested
fi
audit restore started "restore of the live database requested" "key=$key" "database=$PGDATABASE"
log "restoring s3://$BACKUP_BUCKET/$key into the live database $PGDATABASE"
aws_s3 s3 cp --only-show-errors "s3://$BACKUP_BUCKET/$key" "$work/backup.tar.gz" 2>"$work/cp.err" ||
  fail 1 "download of s3://$BACKUP_BUCKET/$key failed: $(cat "$work/cp.err")"
mkdir "$work/backup"
tar -C "$work/backup" -xzf "$work/backup.tar.gz" 2>"$work/tar.err" || fail 1 "backup $key is corrupt (not a readable gzip'd tar)"
[ -f "$work/backup/postgres.dump" ] || fail 1 "backup $key is incomplete (postgres.dump missing)"
[ -f "$work/backup/manifest.json" ] || fail 1 "backup $key is incomplete (manifest.json missing)"
taken_at=$(python3 - "$work/backup" <<'PY' 2>"$work/verify.err"
import calendar, hashlib, json, os, sys, time
root = sys.argv[1]
manifest = json.load(open(os.path.join(root, "manifest.json")))
for name, expected in manifest["files"].items():
    if expected is None:
        continue
    with open(os.path.join(root, name), "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != expected:
            sys.exit("%s does not match its sha256 in the manifest" % name)
print(calendar.timegm(time.strptime(manifest["createdAt"], "%Y-%m-%dT%H:%M:%SZ")))
PY
) || fail 1 "backup $key does not match its manifest: $(cat "$work/verify.err")"
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

# 4. Stop the app (the database, and Redis, keep running)
all_services=$(compose config --services 2>"$work/services.err") || fail 1 "could not list the Compose services: $(cat "$work/services.err"); the live database is unchanged"
mapfile -t services < <(grep -v -x -e "$DB_SERVICE" ${REDIS_SERVICE:+-e "$REDIS_SERVICE"} <<<"$all_services" || true)
stopped_at=$(date -u +%s)
if [ "${#services[@]}" -gt 0 ]; then
  log "stopping ${services[*]}"
  compose stop "${services[@]}" >&2 || fail 1 "could not stop ${services[*]}: the live database is unchanged"
fi
# Under blue/green the app runs in the serving colour's project (its services only): stopped too.
if [ "$BLUE_GREEN" = true ] && [ -n "$(state_get servingColour)" ]; then
  log "stopping the serving colour $(state_get servingColour)"
  on_serving compose stop >&2 || fail 1 "could not stop the serving colour: the live database is unchanged"
fi

# 5. Restore as the owner, all or nothing
log "pg_restore as $owner (single transaction)"
if ! PGUSER=$owner pg_tool pg_restore -d "$PGDATABASE" --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  <"$work/backup/postgres.dump" 2>"$work/restore.err"; then
  error="pg_restore of $key failed (the transaction rolled back: the live database is unchanged): $(head -c 600 "$work/restore.err")"
  log "starting the app again"
  on_serving compose_with_up || true
  fail 3 "$error"
fi

# 6. The release again, and the health gate
if ! on_serving release_up_healthy; then
  fail 4 "$key was restored but the app is not healthy: ${HEALTH_ERROR:-compose $COMPOSE_UP_ARGS failed}; the safety backup is s3://$BACKUP_BUCKET/$safety_key"
fi
healthy_at=$(date -u +%s)
rto=$((healthy_at - stopped_at))

# 7. Outcome
audit restore ok "restored into the live database and healthy" "key=$key" "safety=$safety_key" "owner=$owner" "rtoSeconds=$rto" "rpoSeconds=$rpo"
log "restore complete: $key into $PGDATABASE as $owner"
printf 'restored:   s3://%s/%s\nsafety:     s3://%s/%s\nRTO:        %s s (app stopped until healthy)\nRPO:        %s s (age of the backup when the restore was requested)\n' \
  "$BACKUP_BUCKET" "$key" "$BACKUP_BUCKET" "$safety_key" "$rto" "$rpo"
