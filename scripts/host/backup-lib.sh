#!/usr/bin/env bash
# What the backup, restore and restore-drill scripts share, sourced after lib.sh by backup.sh,
# restore.sh and restore-drill.sh: their settings, Postgres client tools, S3 through the AWS CLI,
# backup key names and per-table row counts.
# Deliberately free of double opening braces: SSM reads those as document parameters.
# shellcheck disable=SC2034 # CHOSEN_*, CHOOSE_ERROR are read by the scripts sourcing this

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
    *) die -c 2 "PG_TOOLS_VIA must be compose or local, got '$PG_TOOLS_VIA'" ;;
  esac
}

# aws_s3 ARGS...: the AWS CLI with the endpoint arguments (empty on AWS).
aws_s3() { run_setting "$AWS_CMD $AWS_S3_ENDPOINT_ARGS" "$@"; }

require_backup_settings() {
  [ -n "$BACKUP_BUCKET" ] || die -c 2 "BACKUP_BUCKET is not set (the SSM document sets it from the data stack's bucket)"
  [ -n "$ENV_NAME" ] || die -c 2 "ENV_NAME is not set (backup keys are named <app>-<env>-<timestamp>)"
}

# Backup object keys: <prefix><app>-<env>-<UTC timestamp>.tar.gz, and beside each the manifest the
# backup writes after its upload: <prefix><app>-<env>-<UTC timestamp>.manifest.json. A key name is
# only a name (anyone who can write the bucket picks it): restore and the drill choose by the
# manifest, its sha256 and the times S3 recorded (choose_backup).
backup_key_pattern() { printf '^%s%s-%s-[0-9]{8}T[0-9]{6}Z\\.tar\\.gz$' "$BACKUP_PREFIX" "$APP_NAME" "$ENV_NAME"; }
backup_manifest_key() { printf '%s.manifest.json\n' "${1%.tar.gz}"; }

# backup_manifest_json KEY FILE CREATED_AT UPLOADED_AT: the manifest of the archive FILE uploaded as
# KEY (one JSON object: key, bytes, sha256, the times, app, environment, database).
backup_manifest_json() {
  python3 "$HOST_SCRIPT_DIR/backup_objects.py" manifest "$1" "$2" "$3" "$4" "$APP_NAME" "$ENV_NAME" "$PGDATABASE"
}

# Seconds S3's clock may differ from this host's when the manifest's times are compared with it.
BACKUP_CLOCK_SKEW_SECONDS=${BACKUP_CLOCK_SKEW_SECONDS:-300}

# choose_backup WORK [KEY]: the newest backup under the prefix (or KEY) whose manifest and sha256
# verify, downloaded to WORK/backup.tar.gz; sets CHOSEN_KEY, CHOSEN_STORED (S3's LastModified) and
# CHOSEN_AGE (seconds since then). A candidate is skipped, and named with its reason on stderr,
# when its manifest is missing or unreadable, names another key or size, was stored before the
# archive (the archive was overwritten after it), its times disagree with S3's, or the archive's
# sha256 differs. Newest by S3's LastModified, which the manifest's times must agree with: a name
# never decides. KEY without a manifest (a backup older than manifests) is taken with a warning.
# Returns 1 with CHOOSE_ERROR when none verifies or the bucket cannot be read.
choose_backup() {
  local work=$1 wanted=${2:-} key stored size mkey mstored reason
  CHOSEN_KEY="" CHOSEN_STORED="" CHOSEN_AGE="" CHOOSE_ERROR=""
  if ! aws_s3 s3api list-objects-v2 --bucket "$BACKUP_BUCKET" --prefix "$BACKUP_PREFIX" --query 'Contents[].[Key,LastModified,Size]' --output json >"$work/list.json" 2>"$work/list.err"; then
    CHOOSE_ERROR="could not list s3://$BACKUP_BUCKET/$BACKUP_PREFIX: $(cat "$work/list.err")"
    return 1
  fi
  if ! python3 "$HOST_SCRIPT_DIR/backup_objects.py" candidates "$work/list.json" "$(backup_key_pattern)" "$wanted" >"$work/candidates" 2>"$work/candidates.err"; then
    CHOOSE_ERROR="could not read the listing of s3://$BACKUP_BUCKET/$BACKUP_PREFIX: $(cat "$work/candidates.err")"
    return 1
  fi
  while IFS=$'\t' read -r -u 3 key stored size mkey mstored; do
    reason=""
    if [ -z "$mstored" ] && [ -n "$wanted" ]; then
      warn "$key has no manifest beside it ($mkey: a backup older than manifests?): restoring it because it was named, checked only against the manifest inside it"
    elif [ -z "$mstored" ]; then
      reason="no manifest beside it ($mkey)"
    elif ! aws_s3 s3 cp --only-show-errors "s3://$BACKUP_BUCKET/$mkey" "$work/manifest.json" 2>"$work/manifest.err"; then
      reason="its manifest could not be read: $(cat "$work/manifest.err")"
    else
      reason=$(python3 "$HOST_SCRIPT_DIR/backup_objects.py" check "$work/manifest.json" "$key" "$size" "$stored" "$mstored" "$BACKUP_CLOCK_SKEW_SECONDS" 2>&1) &&
        { printf '%s\n' "$reason" >"$work/expected.sha256"; reason=""; }
    fi
    if [ -z "$reason" ] && ! aws_s3 s3 cp --only-show-errors "s3://$BACKUP_BUCKET/$key" "$work/backup.tar.gz" 2>"$work/cp.err"; then
      reason="download failed: $(cat "$work/cp.err")"
    elif [ -z "$reason" ] && [ -n "$mstored" ] && [ "$(sha256sum "$work/backup.tar.gz" | cut -d' ' -f1)" != "$(cat "$work/expected.sha256")" ]; then
      reason="its sha256 does not match its manifest"
    fi
    if [ -n "$reason" ]; then
      log "skipped $key: $reason"
      rm -f "$work/backup.tar.gz"
      continue
    fi
    CHOSEN_KEY=$key CHOSEN_STORED=$stored
    CHOSEN_AGE=$(($(date -u +%s) - $(date -u -d "$stored" +%s)))
    if [ -n "$mstored" ]; then log "chose $key: the newest backup whose manifest and sha256 verify (stored $stored)"; fi
    return 0
  done 3<"$work/candidates"
  if [ -n "$wanted" ]; then
    CHOOSE_ERROR="backup $wanted is not under s3://$BACKUP_BUCKET/$BACKUP_PREFIX or does not verify (see the line above)"
  else
    CHOOSE_ERROR="no intact backup under s3://$BACKUP_BUCKET/$BACKUP_PREFIX (expected $APP_NAME-$ENV_NAME-YYYYMMDDTHHMMSSZ.tar.gz with its .manifest.json beside it; any skipped are named above)"
  fi
  return 1
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
