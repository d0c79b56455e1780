#!/usr/bin/env bash
# What the backup, restore and restore-drill scripts share, sourced after lib.sh by backup.sh,
# restore.sh and restore-drill.sh: their settings, Postgres client tools, S3 through the AWS CLI,
# backup key names and per-table row counts.
# Deliberately free of double opening braces: SSM reads those as document parameters.

# Backups: Postgres client tools run inside the Compose database service (PG_TOOLS_VIA=compose,
# the default) or directly on this machine (PG_TOOLS_VIA=local, with PGHOST/PGPORT). The AWS CLI
# reaches S3, or an S3-compatible server given by AWS_S3_ENDPOINT_ARGS (e.g. --endpoint-url URL).

PG_TOOLS_VIA=${PG_TOOLS_VIA:-compose}
DB_SERVICE=${DB_SERVICE:-postgres}
PGUSER=${PGUSER:-postgres}
PGDATABASE=${PGDATABASE:-$APP_NAME}
AWS_S3_ENDPOINT_ARGS=${AWS_S3_ENDPOINT_ARGS:-}
BACKUP_BUCKET=${BACKUP_BUCKET:-}
BACKUP_PREFIX=${BACKUP_PREFIX:-${ENV_NAME:+$ENV_NAME/}}
BACKUP_WORK_DIR=${BACKUP_WORK_DIR:-/var/tmp}

# pg_tool TOOL ARGS...: run a Postgres client tool (pg_dump, pg_restore, psql) as PGUSER.
pg_tool() {
  local tool=$1
  shift
  case $PG_TOOLS_VIA in
    local) "$tool" -U "$PGUSER" "$@" ;;
    compose) compose exec -T "$DB_SERVICE" "$tool" -U "$PGUSER" "$@" ;;
    *) die "PG_TOOLS_VIA must be compose or local, got '$PG_TOOLS_VIA'" ;;
  esac
}

# aws_s3 ARGS...: the AWS CLI with the endpoint arguments (empty on AWS).
aws_s3() { run_setting "$AWS_CMD $AWS_S3_ENDPOINT_ARGS" "$@"; }

require_backup_settings() {
  [ -n "$BACKUP_BUCKET" ] || die "BACKUP_BUCKET is not set (the SSM document sets it from the data stack's bucket)"
  [ -n "$ENV_NAME" ] || die "ENV_NAME is not set (backup keys are named <app>-<env>-<timestamp>)"
}

# Backup object keys: <prefix><app>-<env>-<UTC timestamp>.tar.gz. The name is not trusted for
# recency: newest_backup picks by the time S3 recorded (LastModified).
backup_key_pattern() { printf '^%s%s-%s-[0-9]{8}T[0-9]{6}Z\\.tar\\.gz$' "$BACKUP_PREFIX" "$APP_NAME" "$ENV_NAME"; }

# newest_backup WORK_DIR: the newest backup under the prefix by LastModified (ties: the later name)
# as "key<TAB>time<TAB>age seconds<TAB>bytes", or nothing when there is none. Exit 1 with the
# reason on stderr when the bucket cannot be listed. The restore drill and `restore latest` both
# pick with it: a key crafted with a far-future timestamp in its name does not win.
newest_backup() {
  local work=$1
  if ! aws_s3 s3api list-objects-v2 --bucket "$BACKUP_BUCKET" --prefix "$BACKUP_PREFIX" --query 'Contents[].[Key,LastModified,Size]' --output json >"$work/list.json" 2>"$work/list.err"; then
    printf 'could not list s3://%s/%s: %s\n' "$BACKUP_BUCKET" "$BACKUP_PREFIX" "$(cat "$work/list.err")" >&2
    return 1
  fi
  python3 - "$work/list.json" "$(backup_key_pattern)" <<'PY' 2>"$work/listing.err" ||
import json, re, sys
from datetime import datetime, timezone
listed = json.load(open(sys.argv[1])) or []
pattern = re.compile(sys.argv[2])
def when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
backups = [(when(modified), name, size) for name, modified, size in listed if pattern.search(name)]
if backups:
    modified, name, size = max(backups)
    age = int((datetime.now(timezone.utc) - modified).total_seconds())
    print("%s\t%s\t%d\t%d" % (name, modified.strftime("%Y-%m-%dT%H:%M:%SZ"), max(age, 0), size))
PY
    {
      printf 'could not read the listing of s3://%s/%s: %s\n' "$BACKUP_BUCKET" "$BACKUP_PREFIX" "$(cat "$work/listing.err")" >&2
      return 1
    }
}

# table_counts_sql: the query that counts the rows of every base table as
# "schema.table<TAB>rows" (psql's \gexec runs one exact count per table).
table_counts_sql() {
  cat <<'SQL'
SELECT format('SELECT %L, count(*) FROM %I.%I', table_schema || '.' || table_name, table_schema, table_name)
FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
\gexec
SQL
}

# table_counts DATABASE [SNAPSHOT]: table_counts_sql on the live server, sorted; with SNAPSHOT (an
# id from pg_export_snapshot) the counts are those of that snapshot, i.e. of the dump taken in it.
table_counts() {
  local database=$1 snapshot=${2:-}
  [[ $snapshot =~ ^[0-9A-Fa-f-]*$ ]] || die "not a snapshot id: '$snapshot'"
  {
    if [ -n "$snapshot" ]; then
      printf "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\nSET TRANSACTION SNAPSHOT '%s';\n" "$snapshot"
    fi
    table_counts_sql
    [ -z "$snapshot" ] || printf 'COMMIT;\n'
  } | pg_tool psql -d "$database" -X -A -t -q -F $'\t' -v ON_ERROR_STOP=1 | LC_ALL=C sort
}
