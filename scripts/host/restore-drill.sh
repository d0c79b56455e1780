#!/usr/bin/env bash
# restore-drill.sh: prove the latest backup restores, and measure how long that takes.
#
# Picks the newest s3://BACKUP_BUCKET/BACKUP_PREFIX<app>-<env>-<timestamp>.tar.gz whose manifest
# (written beside it by the backup after its upload) and sha256 verify, by the time S3 recorded it
# (LastModified; the timestamp in a key name is only a name, anyone who can write the bucket can
# pick it), naming each one it skips and why (backup-lib.sh's choose_backup); checks its files
# against the manifest inside it, then restores the Postgres dump into a
# throwaway PostgreSQL cluster of its own (initdb in a temporary directory, run as DRILL_OS_USER,
# reachable only through a Unix socket in that directory: no TCP port), as a role that is not a
# superuser and owns the scratch database, after checking there is disk space for it. The live
# database server is never connected to: a crafted dump can only act inside the throwaway cluster,
# and as a non-superuser it cannot run programs (COPY ... TO PROGRAM fails and so does the drill).
#
# Compares the restored row count of every table with the count the backup recorded in its manifest
# (counted in the snapshot pg_dump dumped, so live writes since the backup do not matter) and fails
# when a table is missing or restores a different number of rows. Prints and audits the measured
# RTO (download and restore, in seconds) and RPO (age of the backup when the drill ran, by S3's
# LastModified). The cluster and every file are removed on every exit path.
#
# Exit codes: 0 the backup restored every recorded row; 1 it did not, or no backup verifies, or
# it is corrupt or does not restore, or there is not enough disk space (nothing was restored);
# 2 wrong usage; 129/130/143 interrupted by a signal (the cluster removed all the same).
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/host/backup-lib.sh
. "$HOST_SCRIPT_DIR/backup-lib.sh"

[ "$#" -eq 0 ] || die -c 2 "usage: restore-drill.sh   (no arguments)"
require_backup_settings

# PostgreSQL server binaries of the drill cluster (initdb, pg_ctl, pg_restore, psql): the newest
# installed major version unless DRILL_PG_BIN names one (Debian: /usr/lib/postgresql/<major>/bin;
# PGDG: /usr/pgsql-<major>/bin; Amazon Linux 2023's postgresqlNN-server, which the host bootstrap
# installs: /usr/bin). pg_restore must be at least as new as the pg_dump that wrote the backup.
DRILL_PG_BIN=${DRILL_PG_BIN:-}
if [ -z "$DRILL_PG_BIN" ]; then
  while IFS= read -r candidate; do
    if [ -x "$candidate/initdb" ]; then DRILL_PG_BIN=$candidate; break; fi
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin /usr/pgsql-*/bin | sort -V -r; pg_config --bindir 2>/dev/null || true; echo /usr/bin)
fi
# The operating-system user the throwaway cluster runs as (initdb refuses root).
DRILL_OS_USER=${DRILL_OS_USER:-postgres}
# Where the throwaway cluster lives: a directory DRILL_OS_USER can reach.
DRILL_DATA_DIR=${DRILL_DATA_DIR:-$BACKUP_WORK_DIR}
# Free space kept on top of the restored database and the downloaded archive.
DRILL_MIN_FREE_MB=${DRILL_MIN_FREE_MB:-256}
[[ $DRILL_MIN_FREE_MB =~ ^[0-9]+$ ]] || die -c 2 "DRILL_MIN_FREE_MB must be a whole number, got '$DRILL_MIN_FREE_MB'"
# The non-superuser that restores and owns the scratch database, and its database.
DRILL_ROLE=drill_restore
DRILL_DATABASE=drill
# Only explicit connection settings reach the drill cluster: nothing from the environment may point
# a client at another server.
unset PGHOST PGHOSTADDR PGPORT PGSERVICE PGSERVICEFILE PGOPTIONS

work="" cluster="" cluster_started=0 key="" rpo=""
drill_cleanup() {
  if [ "$cluster_started" = 1 ]; then
    as_drill_user "$DRILL_PG_BIN/pg_ctl" -D "$cluster/data" -m immediate -w stop >/dev/null 2>&1 ||
      warn "could not stop the drill cluster in $cluster: stop it by hand (pg_ctl -D $cluster/data stop)"
  fi
  [ -z "$cluster" ] || rm -rf "$cluster"
  [ -z "$work" ] || rm -rf "$work"
  if [ -n "$cluster" ]; then log "removed the drill cluster $cluster"; fi
}
at_exit drill_cleanup

# fail MESSAGE: audit the failed drill and exit 1.
fail() {
  audit restore-drill failed "$1" "key=${key:-none}" ${rpo:+"rpoSeconds=$rpo"}
  die "restore drill FAILED: $1"
}

# as_drill_user COMMAND...: run a server binary as DRILL_OS_USER (directly when already that user).
as_drill_user() {
  if [ "$(id -un)" = "$DRILL_OS_USER" ]; then "$@"; else runuser -u "$DRILL_OS_USER" -- "$@"; fi
}

# drill_client TOOL ROLE ARGS...: a client tool against the drill cluster's socket, as ROLE.
drill_client() {
  local tool=$1 role=$2
  shift 2
  "$DRILL_PG_BIN/$tool" -h "$cluster" -p 5432 -U "$role" "$@"
}

millis() { date +%s%3N; }
seconds_since() { awk -v a="$1" -v b="$(millis)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

[ -x "${DRILL_PG_BIN:-/nonexistent}/initdb" ] ||
  die "no PostgreSQL server binaries for the drill cluster (initdb not found): install the PostgreSQL server package of the database's major version or set DRILL_PG_BIN"

mkdir -p "$BACKUP_WORK_DIR"
work=$(mktemp -d "$BACKUP_WORK_DIR/$APP_NAME-drill.XXXXXX")

audit restore-drill started "drill of the latest backup"
# The newest backup whose manifest and sha256 verify (by the time S3 recorded it), downloaded; its
# age in seconds is the RPO.
started=$(millis)
choose_backup "$work" || fail "$CHOOSE_ERROR"
key=$CHOSEN_KEY backup_time=$CHOSEN_STORED rpo=$CHOSEN_AGE
log "latest backup (by the time S3 recorded it, $backup_time): s3://$BACKUP_BUCKET/$key"
mkdir "$work/backup"
tar -C "$work/backup" -xzf "$work/backup.tar.gz" 2>"$work/tar.err" ||
  fail "backup $key is corrupt (not a readable gzip'd tar): $(head -c 300 "$work/tar.err")"
[ -f "$work/backup/manifest.json" ] || fail "backup $key is incomplete: manifest.json is missing"
[ -f "$work/backup/postgres.dump" ] ||
  fail "backup $key is incomplete: postgres.dump is missing"
# Checks the files against the manifest and writes the recorded row counts (recorded.tsv) and the
# database size; a manifest without row counts cannot prove anything and fails the drill.
python3 "$HOST_SCRIPT_DIR/backup_archive.py" verify-counts "$work/backup" "$work" 2>"$work/verify.err" || fail "backup $key does not match its manifest: $(cat "$work/verify.err")"
if [ -f "$work/backup/redis-aof.tar" ]; then
  redis_files=$(tar -tf "$work/backup/redis-aof.tar" 2>/dev/null | grep -vc '/$' || true)
  [ "$redis_files" -gt 0 ] || fail "backup $key holds an empty or unreadable Redis AOF archive"
  log "redis append-only file: $redis_files file(s), checksum verified"
fi
rm -f "$work/backup.tar.gz"

# Disk space: the restored database (its size at backup time), the dump once more (the restore
# reads it while the cluster writes) and DRILL_MIN_FREE_MB to spare.
mkdir -p "$DRILL_DATA_DIR"
need_mb=$((($(cat "$work/database.bytes") + $(stat -c %s "$work/backup/postgres.dump")) / 1048576 + DRILL_MIN_FREE_MB))
free_mb=$(df -Pm "$DRILL_DATA_DIR" | awk 'NR == 2 { print $4 }')
[ "$free_mb" -ge "$need_mb" ] ||
  fail "not enough disk space for the drill cluster in $DRILL_DATA_DIR: ${free_mb} MB free, ${need_mb} MB needed (database, dump and DRILL_MIN_FREE_MB=$DRILL_MIN_FREE_MB); nothing was restored: free space or set DRILL_DATA_DIR"

cluster=$(mktemp -d "$DRILL_DATA_DIR/$APP_NAME-drill-pg.XXXXXX")
[ "$(id -un)" = "$DRILL_OS_USER" ] || chown "$DRILL_OS_USER:" "$cluster"
chmod 0700 "$cluster"
log "starting a throwaway PostgreSQL cluster in $cluster (socket only, no TCP)"
as_drill_user "$DRILL_PG_BIN/initdb" -D "$cluster/data" -U drill_admin -A trust --no-sync -E UTF8 >"$work/initdb.log" 2>&1 ||
  fail "initdb of the drill cluster failed: $(tail -n 3 "$work/initdb.log")"
cluster_started=1
as_drill_user "$DRILL_PG_BIN/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 120 \
  -o "-c listen_addresses='' -k $cluster -p 5432 -c fsync=off -c full_page_writes=off" start >/dev/null 2>&1 ||
  fail "the drill cluster did not start: $(tail -n 3 "$cluster/server.log" 2>/dev/null)"
drill_client psql drill_admin -d postgres -X -q -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE $DRILL_ROLE LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS" \
  -c "CREATE DATABASE $DRILL_DATABASE OWNER $DRILL_ROLE" >/dev/null 2>"$work/create.err" ||
  fail "could not create the scratch database in the drill cluster: $(cat "$work/create.err")"

log "restoring $key as $DRILL_ROLE (not a superuser)"
if ! drill_client pg_restore "$DRILL_ROLE" -d "$DRILL_DATABASE" --no-owner --no-privileges --exit-on-error "$work/backup/postgres.dump" 2>"$work/restore.err"; then
  fail "pg_restore of $key failed: $(head -c 600 "$work/restore.err")"
fi
rto=$(seconds_since "$started")

# Counted as the restoring role with row security off: a policy that would hide rows is an error,
# never a smaller count.
{ printf 'SET row_security = off;\n'; table_counts_sql; } |
  drill_client psql "$DRILL_ROLE" -d "$DRILL_DATABASE" -X -A -t -q -F $'\t' -v ON_ERROR_STOP=1 2>"$work/count.err" |
  LC_ALL=C sort >"$work/restored.tsv" || fail "could not count the restored rows: $(cat "$work/count.err")"

set +e
python3 "$HOST_SCRIPT_DIR/backup_archive.py" compare "$work/recorded.tsv" "$work/restored.tsv" "$key" 2>"$work/compare.err"
compare=$?
set -e
tables=$(wc -l <"$work/recorded.tsv")
if [ "$compare" -ne 0 ] && [ "$compare" -ne 3 ]; then
  fail "could not compare the restored rows with the recorded ones: $(cat "$work/compare.err")"
elif [ "$compare" -ne 0 ]; then
  fail "the restore does not hold the rows the backup recorded (see the table above): this backup cannot be trusted; take a new backup and drill it"
fi
printf 'RTO (download and restore): %s s\nRPO (age of the backup): %s s\n' "$rto" "$rpo"
audit restore-drill ok "restored and compared" "key=$key" "tables=$tables" "rtoSeconds=$rto" "rpoSeconds=$rpo" "backupTime=$backup_time"
log "restore drill passed: $key restored $tables table(s) with the row counts recorded at backup; RTO ${rto}s, RPO ${rpo}s"
