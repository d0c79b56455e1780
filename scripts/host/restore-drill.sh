#!/usr/bin/env bash
# restore-drill.sh: prove the latest backup restores. Downloads the newest
# s3://BACKUP_BUCKET/BACKUP_PREFIX<app>-<env>-<timestamp>.tar.gz, checks it against its manifest,
# restores the Postgres dump into a scratch database on the same server, compares the row count
# of every table with the source database, prints the comparison, and drops the scratch database
# (also on failure). The source database is only read.
#
# Exits 0 when every source table is restored with the same row count; 1 otherwise, or when the
# backup is missing, corrupt or does not restore. DRILL_ALLOW_ROW_DRIFT=1 reports rows written
# since the backup without failing.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DRILL_ALLOW_ROW_DRIFT=${DRILL_ALLOW_ROW_DRIFT:-0}
[ "$#" -eq 0 ] || die -c 2 "usage: restore-drill.sh   (no arguments)"
require_backup_settings

work="" scratch=""
cleanup() {
  if [ -n "$scratch" ]; then
    if pg_tool psql -d postgres -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" >/dev/null 2>&1; then
      log "dropped scratch database $scratch"
    else
      warn "could not drop scratch database $scratch: drop it by hand"
    fi
  fi
  [ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT

# fail MESSAGE: audit the failed drill and exit 1.
fail() {
  audit restore-drill failed "$1" "key=${key:-none}"
  die "restore drill FAILED: $1"
}

mkdir -p "$BACKUP_WORK_DIR"
work=$(mktemp -d "$BACKUP_WORK_DIR/$APP_NAME-drill.XXXXXX")

if ! keys=$(aws_s3 s3api list-objects-v2 --bucket "$BACKUP_BUCKET" --prefix "$BACKUP_PREFIX" --query 'Contents[].Key' --output text 2>"$work/list.err"); then
  fail "could not list s3://$BACKUP_BUCKET/$BACKUP_PREFIX: $(cat "$work/list.err")"
fi
key=$(tr '\t' '\n' <<<"$keys" | grep -E "$(backup_key_pattern)" | LC_ALL=C sort | tail -n 1 || true)
[ -n "$key" ] || fail "no backup found under s3://$BACKUP_BUCKET/$BACKUP_PREFIX (expected keys like $APP_NAME-$ENV_NAME-YYYYMMDDTHHMMSSZ.tar.gz)"
audit restore-drill started "drill of the latest backup" "key=$key"
log "latest backup: s3://$BACKUP_BUCKET/$key"

aws_s3 s3 cp --only-show-errors "s3://$BACKUP_BUCKET/$key" "$work/backup.tar.gz" 2>"$work/cp.err" ||
  fail "download of s3://$BACKUP_BUCKET/$key failed: $(cat "$work/cp.err")"
mkdir "$work/backup"
tar -C "$work/backup" -xzf "$work/backup.tar.gz" 2>"$work/tar.err" ||
  fail "backup $key is corrupt (not a readable gzip'd tar): $(head -c 300 "$work/tar.err")"
[ -f "$work/backup/manifest.json" ] || fail "backup $key is incomplete: manifest.json is missing"
[ -f "$work/backup/postgres.dump" ] ||
  fail "backup $key is incomplete: postgres.dump is missing"
python3 - "$work/backup" <<'PY' 2>"$work/verify.err" || fail "backup $key does not match its manifest: $(cat "$work/verify.err")"
import hashlib, json, os, sys
root = sys.argv[1]
manifest = json.load(open(os.path.join(root, "manifest.json")))
for name, expected in manifest["files"].items():
    if expected is None:
        continue
    with open(os.path.join(root, name), "rb") as f:
        actual = hashlib.sha256(f.read()).hexdigest()
    if actual != expected:
        sys.exit("%s: sha256 %s, manifest says %s" % (name, actual, expected))
PY
if [ -f "$work/backup/redis-aof.tar" ]; then
  redis_files=$(tar -tf "$work/backup/redis-aof.tar" 2>/dev/null | grep -vc '/$' || true)
  [ "$redis_files" -gt 0 ] || fail "backup $key holds an empty or unreadable Redis AOF archive"
  log "redis append-only file: $redis_files file(s), checksum verified"
fi

scratch="${PGDATABASE//[^A-Za-z0-9_]/_}_drill_$(date -u +%Y%m%d%H%M%S)_$$"
log "restoring into scratch database $scratch"
pg_tool psql -d postgres -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$scratch\"" >/dev/null 2>"$work/create.err" ||
  fail "could not create scratch database $scratch: $(cat "$work/create.err")"
if ! pg_tool pg_restore -d "$scratch" --no-owner --no-privileges --exit-on-error <"$work/backup/postgres.dump" 2>"$work/restore.err"; then
  fail "pg_restore of $key failed: $(head -c 600 "$work/restore.err")"
fi

table_counts "$PGDATABASE" >"$work/source.tsv" || fail "could not count the rows of the source database $PGDATABASE"
table_counts "$scratch" >"$work/restored.tsv" || fail "could not count the rows of the scratch database $scratch"

set +e
python3 - "$work/source.tsv" "$work/restored.tsv" "$DRILL_ALLOW_ROW_DRIFT" "$key" <<'PY'
import sys
def read(path):
    rows = {}
    for line in open(path):
        name, count = line.rstrip("\n").split("\t")
        rows[name] = int(count)
    return rows
source, restored = read(sys.argv[1]), read(sys.argv[2])
allow_drift = sys.argv[3] == "1"
missing = differ = 0
print("restore drill of %s" % sys.argv[4])
print("%-40s %12s %12s  %s" % ("table", "source", "restored", "result"))
for name in sorted(set(source) | set(restored)):
    s, r = source.get(name), restored.get(name)
    if r is None:
        result, missing = "MISSING", missing + 1
    elif s is None:
        result = "only in backup"
    elif s == r:
        result = "ok"
    else:
        result, differ = "DIFFERS by %+d" % (r - s), differ + 1
    print("%-40s %12s %12s  %s" % (name, "-" if s is None else s, "-" if r is None else r, result))
print("tables: %d in source, %d restored, %d missing, %d with different row counts" % (len(source), len(restored), missing, differ))
sys.exit(2 if missing or (differ and not allow_drift) else 0)
PY
compare=$?
set -e
tables=$(wc -l <"$work/source.tsv")
if [ "$compare" -ne 0 ]; then
  fail "restored row counts do not match the source database $PGDATABASE (see the table above; rows written since the backup also count: take a fresh backup, or set DRILL_ALLOW_ROW_DRIFT=1)"
fi
audit restore-drill ok "restored and compared" "key=$key" "tables=$tables"
log "restore drill passed: $key restored $tables table(s) with matching row counts"
