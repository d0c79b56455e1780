#!/usr/bin/env bash
# Shared helpers of the host scripts (scripts/host/*.sh): settings, logging, the audit log, the
# deploy lock, the JSON state file, Compose, health checks and release switching.
# Sourced by every script next to it; it does nothing when sourced but define and load settings.
# Deliberately free of double opening braces: SSM reads those as document parameters.
# shellcheck disable=SC2034 # RELEASE_PHASE, RELEASE_ERROR and RESTORE_ERROR are read by the scripts sourcing this

HOST_SCRIPT_NAME=$(basename "$0" .sh)
HOST_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---------------------------------------------------------------------------------------------
# Logging

now_utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# Progress and errors go to stderr; stdout is kept for machine-readable output (status --json).
log() { printf '%s %s: %s\n' "$(now_utc)" "$HOST_SCRIPT_NAME" "$*" >&2; }
warn() { log "warning: $*"; }

# die [-c CODE] MESSAGE...: log the error and exit (1 unless -c gives the code).
die() {
  local code=1
  if [ "${1:-}" = "-c" ]; then code=$2; shift 2; fi
  log "error: $*"
  exit "$code"
}

# ---------------------------------------------------------------------------------------------
# Settings. Precedence: the process environment, then the operator's overrides file
# (HOST_OVERRIDES_FILE, e.g. /etc/default/<app>-host), then host.env next to the scripts (written
# by the SSM document from the validated config), then the defaults below.
# Both files hold KEY=VALUE lines, read as data (never sourced): no quoting, no expansion.

load_settings() {
  local file=$1 line key value
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in '' | '#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    if ! [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] || [ "$key" = "$line" ]; then die "$file: not a KEY=VALUE line: $line"; fi
    if [ -z "${!key+set}" ]; then export "$key=$value"; fi
  done <"$file"
}

HOST_ENV_FILE=${HOST_ENV_FILE:-$HOST_SCRIPT_DIR/host.env}
if [ -f "$HOST_ENV_FILE" ]; then
  overrides=${HOST_OVERRIDES_FILE:-$(sed -n 's/^HOST_OVERRIDES_FILE=//p' "$HOST_ENV_FILE")}
  if [ -n "$overrides" ] && [ -f "$overrides" ]; then load_settings "$overrides"; fi
  load_settings "$HOST_ENV_FILE"
  unset overrides
fi

: "${APP_NAME:?APP_NAME is not set: run the script through its SSM document (which writes host.env) or export APP_NAME}"
[[ $APP_NAME =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "APP_NAME '$APP_NAME' is not a DNS label"
ENV_NAME=${ENV_NAME:-}
APP_DIR=${APP_DIR:-/opt/$APP_NAME}
STATE_DIR=${STATE_DIR:-/var/lib/$APP_NAME}
STATE_FILE=${STATE_FILE:-$STATE_DIR/deploy_state.json}
AUDIT_LOG=${AUDIT_LOG:-$STATE_DIR/audit.log}
LOCK_FILE=${LOCK_FILE:-$STATE_DIR/deploy.lock}
LOCK_WAIT_SECONDS=${LOCK_WAIT_SECONDS:-0}
COMPOSE_CMD=${COMPOSE_CMD:-docker compose}
COMPOSE_PROJECT=${COMPOSE_PROJECT:-$APP_NAME}
COMPOSE_FILE=${COMPOSE_FILE:-compose.prod.yml}
COMPOSE_CONFIG_ARGS=${COMPOSE_CONFIG_ARGS:-config --quiet}
COMPOSE_PULL_ARGS=${COMPOSE_PULL_ARGS-pull --ignore-buildable --quiet}
COMPOSE_BUILD_ARGS=${COMPOSE_BUILD_ARGS:-build}
COMPOSE_UP_ARGS=${COMPOSE_UP_ARGS:-up -d --remove-orphans}
CONTAINER_CMD=${CONTAINER_CMD:-docker}
ENV_FILE=${ENV_FILE:-.env.production}
HEALTH_URL=${HEALTH_URL:-http://127.0.0.1/healthz}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-120}
HEALTH_INTERVAL=${HEALTH_INTERVAL:-2}
MIN_FREE_MB=${MIN_FREE_MB:-1024}
DISK_PATHS=${DISK_PATHS:-$APP_DIR /var/lib/docker}
GIT_REMOTE=${GIT_REMOTE:-origin}
LEGACY_APP_DIRS=${LEGACY_APP_DIRS:-}
DEPLOY_ACTOR=${DEPLOY_ACTOR:-${SUDO_USER:-$(id -un)}}
SYSTEMD_DIR=${SYSTEMD_DIR:-/etc/systemd/system}
SYSTEMCTL_CMD=${SYSTEMCTL_CMD:-systemctl}

for setting in LOCK_WAIT_SECONDS HEALTH_TIMEOUT MIN_FREE_MB; do
  [[ ${!setting} =~ ^[0-9]+$ ]] || die "$setting must be a whole number, got '${!setting}'"
done
[[ $HEALTH_INTERVAL =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "HEALTH_INTERVAL must be a number of seconds, got '$HEALTH_INTERVAL'"
unset setting

# ---------------------------------------------------------------------------------------------
# Audit log: one line per attempt and outcome, appended (a single short write is atomic).

# audit OPERATION RESULT MESSAGE [KEY=VALUE...]
audit() {
  local op=$1 result=$2 message=$3 line
  shift 3
  line="$(now_utc) op=$op result=$result actor=$DEPLOY_ACTOR pid=$$"
  local pair
  for pair in "$@"; do line+=" $pair"; done
  message=${message//\\/\\\\}
  message=${message//\"/\\\"}
  line+=" message=\"${message//$'\n'/ }\""
  mkdir -p "$(dirname "$AUDIT_LOG")"
  printf '%s\n' "$line" >>"$AUDIT_LOG"
}

# ---------------------------------------------------------------------------------------------
# Lock: flock(1) on LOCK_FILE through fd 9, so the kernel releases it when the holder dies. The
# file records who holds it; a record left by a process that is no longer running is reported as
# a stale lock and taken over. Commands that may leave processes behind (Compose) run with fd 9
# closed so they cannot keep the lock after this script ends.

LOCK_HELD=0

# lock_acquire OPERATION DETAIL
lock_acquire() {
  local op=$1 detail=$2 holder pid
  mkdir -p "$(dirname "$LOCK_FILE")"
  exec 9>>"$LOCK_FILE"
  local -a wait_args=(-n)
  if [ "$LOCK_WAIT_SECONDS" -gt 0 ]; then
    wait_args=(-w "$LOCK_WAIT_SECONDS")
    log "waiting up to ${LOCK_WAIT_SECONDS}s for $LOCK_FILE"
  fi
  if ! flock "${wait_args[@]}" 9; then
    # The holder writes its record just after it takes the lock: give it a moment to appear.
    local _
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      holder=$(cat "$LOCK_FILE" 2>/dev/null || true)
      [ -n "$holder" ] && break
      sleep 0.1
    done
    exec 9>&-
    audit "$op" refused "another deploy or rollback holds the lock" "$detail" "holder=\"${holder:-unknown}\""
    die -c 75 "another deploy or rollback is running (lock $LOCK_FILE held by: ${holder:-unknown}); wait for it to finish or retry with LOCK_WAIT_SECONDS=<seconds>"
  fi
  holder=$(cat "$LOCK_FILE" 2>/dev/null || true)
  if [ -n "$holder" ]; then
    pid=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$holder")
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
      warn "stale lock found in $LOCK_FILE (holder '$holder' is no longer running); taking it over"
      audit "$op" stale-lock "took over a stale lock" "holder=\"$holder\""
    fi
  fi
  printf 'pid=%s op=%s %s started=%s actor=%s\n' "$$" "$op" "$detail" "$(now_utc)" "$DEPLOY_ACTOR" >"$LOCK_FILE"
  LOCK_HELD=1
}

lock_release() {
  if [ "$LOCK_HELD" = 1 ]; then
    : >"$LOCK_FILE"
    flock -u 9 || true
    exec 9>&-
    LOCK_HELD=0
  fi
}

# ---------------------------------------------------------------------------------------------
# State file (JSON): the current and previous good releases, each with ref, commit, time and actor.
# Read and written with python3 (present on Amazon Linux and Debian); written to a temporary file
# in the same directory, flushed, then renamed over the old one, so a reader never sees half a file.

# state_check: fail unless the state file is absent or valid JSON.
state_check() {
  [ -f "$STATE_FILE" ] || return 0
  python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$STATE_FILE" 2>/dev/null ||
    die "state file $STATE_FILE is not valid JSON; inspect it (the audit log $AUDIT_LOG lists past releases) and fix or remove it"
}

# state_get PATH (e.g. current.commit): prints the value, or nothing when absent.
state_get() {
  [ -f "$STATE_FILE" ] || return 0
  python3 - "$STATE_FILE" "$1" <<'PY'
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    value = value.get(part) if isinstance(value, dict) else None
if value is not None:
    print(value)
PY
}

# state_promote ACTION REF COMMIT: the release becomes current and the old current becomes previous.
state_promote() {
  mkdir -p "$(dirname "$STATE_FILE")"
  python3 - "$STATE_FILE" "$APP_NAME" "$ENV_NAME" "$1" "$2" "$3" "$DEPLOY_ACTOR" "$(now_utc)" <<'PY'
import json, os, sys, tempfile
path, app, env, action, ref, commit, actor, now = sys.argv[1:9]
state = {}
if os.path.exists(path):
    with open(path) as f:
        state = json.load(f)
release = dict(ref=ref, commit=commit, deployedAt=now, deployedBy=actor, action=action)
new = dict(schemaVersion=1, app=app, environment=env or None, current=release,
           previous=state.get("current"), updatedAt=now)
fd, tmp = tempfile.mkstemp(prefix=".deploy_state.", dir=os.path.dirname(os.path.abspath(path)))
try:
    with os.fdopen(fd, "w") as f:
        json.dump(new, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
except BaseException:
    os.unlink(tmp)
    raise
PY
}

# ---------------------------------------------------------------------------------------------
# Git on the checkout (root runs git on a checkout another user may own: mark it safe per call).

app_git() { git -c safe.directory="$APP_DIR" -C "$APP_DIR" "$@"; }

require_checkout() {
  [ -d "$APP_DIR/.git" ] || die "$APP_DIR is not a git checkout (APP_DIR); clone the app repository there first"
}

# validate_ref REF: a branch, tag, <remote>/<branch> or commit sha; no shell or revision syntax.
validate_ref() {
  [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$ ]] && [[ $1 != *..* ]] && [[ $1 != *//* ]] && [[ $1 != *.lock ]]
}

# resolve_ref REF: prints the commit sha; prefers <remote>/REF so a stale local branch never wins.
resolve_ref() {
  local ref=$1
  if app_git rev-parse --verify --quiet "refs/remotes/$GIT_REMOTE/$ref^{commit}" 2>/dev/null; then return 0; fi
  app_git rev-parse --verify --quiet "$ref^{commit}" 2>/dev/null
}

# check_drift OPERATION: refuse when the checkout has uncommitted changes to tracked files, or when
# a second checkout (LEGACY_APP_DIRS, e.g. the runbook's /opt/flask_expenses) differs from it.
check_drift() {
  local op=$1 changes other head other_head other_changes
  changes=$(app_git status --porcelain --untracked-files=no)
  if [ -n "$changes" ]; then
    audit "$op" refused "uncommitted changes in $APP_DIR" "changes=\"$(tr '\n' ';' <<<"$changes")\""
    die -c 65 "refusing to $op: $APP_DIR has uncommitted changes ($(tr '\n' ' ' <<<"$changes")); commit, move or discard them on the host first"
  fi
  head=$(app_git rev-parse HEAD)
  for other in $LEGACY_APP_DIRS; do
    [ -e "$other" ] || continue
    [ "$(readlink -f "$other")" = "$(readlink -f "$APP_DIR")" ] && continue
    if [ ! -d "$other/.git" ]; then
      audit "$op" refused "second copy $other is not a git checkout" "other=$other"
      die -c 65 "refusing to $op: $other exists beside $APP_DIR and is not a git checkout; remove it or make it a symlink to $APP_DIR"
    fi
    other_head=$(git -c safe.directory="$other" -C "$other" rev-parse HEAD)
    other_changes=$(git -c safe.directory="$other" -C "$other" status --porcelain --untracked-files=no)
    if [ "$other_head" != "$head" ] || [ -n "$other_changes" ]; then
      audit "$op" refused "second checkout $other differs from $APP_DIR" "other=$other" "otherHead=$other_head" "head=$head"
      die -c 65 "refusing to $op: second checkout $other (at ${other_head:0:12}${other_changes:+, with uncommitted changes}) differs from $APP_DIR (at ${head:0:12}); keep one checkout: remove $other or make it a symlink to $APP_DIR"
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# Preflight

preflight_disk() {
  local op=$1 path free
  for path in $DISK_PATHS; do
    [ -e "$path" ] || continue
    free=$(df -Pm "$path" | awk 'NR == 2 { print $4 }')
    if [ "$free" -lt "$MIN_FREE_MB" ]; then
      audit "$op" refused "not enough free disk" "path=$path" "freeMB=$free" "minFreeMB=$MIN_FREE_MB"
      die -c 65 "refusing to $op: only ${free} MB free on the file system of $path, at least $MIN_FREE_MB MB needed (MIN_FREE_MB); prune images (docker image prune) or grow the volume"
    fi
  done
}

preflight_env_file() {
  local op=$1 file=$APP_DIR/$ENV_FILE mode
  if [ ! -f "$file" ]; then
    audit "$op" refused "env file missing" "envFile=$file"
    die -c 65 "refusing to $op: env file $file is missing; put the environment's secrets there with mode 0600"
  fi
  mode=$(stat -c %a "$file")
  if (((8#$mode & 8#077) != 0)); then
    audit "$op" refused "env file readable by group or others" "envFile=$file" "mode=$mode"
    die -c 65 "refusing to $op: env file $file has mode $mode; it holds secrets and must be mode 0600 (chmod 600 $file)"
  fi
}

# ---------------------------------------------------------------------------------------------
# Compose. COMPOSE_CMD is split on spaces ("docker compose", "podman-compose"); it runs in APP_DIR
# with the lock's fd closed. Output goes to stderr.

compose() {
  local -a cmd
  read -r -a cmd <<<"$COMPOSE_CMD"
  (cd "$APP_DIR" && "${cmd[@]}" -p "$COMPOSE_PROJECT" -f "$COMPOSE_FILE" "$@") 9>&-
}

# compose_with SETTING_VALUE: compose with a space-separated argument list from a setting.
compose_with() {
  local -a args
  read -r -a args <<<"$1"
  compose "${args[@]}" >&2
}

# health_wait: poll HEALTH_URL until it answers 2xx/3xx or HEALTH_TIMEOUT seconds pass.
health_wait() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT)) error=""
  while :; do
    if error=$(curl -fsS -o /dev/null --max-time 5 "$HEALTH_URL" 2>&1 9>&-); then
      log "healthy: $HEALTH_URL"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      HEALTH_ERROR="$HEALTH_URL did not answer within ${HEALTH_TIMEOUT}s (last error: ${error:-none})"
      log "$HEALTH_ERROR"
      return 1
    fi
    sleep "$HEALTH_INTERVAL"
  done
}

# release_start COMMIT LABEL [pull]: check the commit out and bring it up with Compose.
# Sets RELEASE_PHASE: 'checkout' until containers are touched, then 'up'; RELEASE_ERROR on failure.
release_start() {
  local commit=$1 label=$2 pull=${3:-}
  RELEASE_PHASE=checkout
  RELEASE_ERROR=""
  if ! app_git -c advice.detachedHead=false checkout --quiet --detach "$commit" >&2; then
    RELEASE_ERROR="git checkout of $label (${commit:0:12}) failed"
    return 1
  fi
  if ! compose_with "$COMPOSE_CONFIG_ARGS"; then
    RELEASE_ERROR="compose file $COMPOSE_FILE at $label is not valid"
    return 1
  fi
  if [ "$pull" = pull ] && [ -n "$COMPOSE_PULL_ARGS" ] && ! compose_with "$COMPOSE_PULL_ARGS"; then
    RELEASE_ERROR="pulling the images of $label failed"
    return 1
  fi
  if ! compose_with "$COMPOSE_BUILD_ARGS"; then
    RELEASE_ERROR="$label does not build (compose $COMPOSE_BUILD_ARGS failed)"
    return 1
  fi
  RELEASE_PHASE=up
  if ! compose_with "$COMPOSE_UP_ARGS"; then
    RELEASE_ERROR="compose $COMPOSE_UP_ARGS failed for $label"
    return 1
  fi
  if ! health_wait; then
    RELEASE_ERROR="$label is unhealthy: $HEALTH_ERROR"
    return 1
  fi
}

# release_restore COMMIT LABEL PHASE: put a known-good release back after a failed switch. When the
# failure came before any container changed, only the checkout moves back; otherwise the release
# is rebuilt and restarted. Either way it must then pass the health check.
release_restore() {
  local commit=$1 label=$2 phase=$3
  log "putting back $label (${commit:0:12})"
  if ! app_git -c advice.detachedHead=false checkout --quiet --detach "$commit" >&2; then
    RESTORE_ERROR="git checkout of $label failed"
    return 1
  fi
  if [ "$phase" = up ]; then
    if ! compose_with "$COMPOSE_BUILD_ARGS" || ! compose_with "$COMPOSE_UP_ARGS"; then
      RESTORE_ERROR="compose could not start $label again"
      return 1
    fi
  fi
  if ! health_wait; then
    RESTORE_ERROR="$label is not healthy after being put back: $HEALTH_ERROR"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Backups: Postgres client tools run inside the Compose database service (PG_TOOLS_VIA=compose,
# the default) or directly on this machine (PG_TOOLS_VIA=local, with PGHOST/PGPORT). The AWS CLI
# reaches S3, or an S3-compatible server given by AWS_S3_ENDPOINT_ARGS (e.g. --endpoint-url URL).

PG_TOOLS_VIA=${PG_TOOLS_VIA:-compose}
DB_SERVICE=${DB_SERVICE:-postgres}
PGUSER=${PGUSER:-postgres}
PGDATABASE=${PGDATABASE:-$APP_NAME}
AWS_CMD=${AWS_CMD:-aws}
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
aws_s3() {
  local -a cmd endpoint
  read -r -a cmd <<<"$AWS_CMD"
  read -r -a endpoint <<<"$AWS_S3_ENDPOINT_ARGS"
  "${cmd[@]}" "${endpoint[@]}" "$@"
}

require_backup_settings() {
  [ -n "$BACKUP_BUCKET" ] || die "BACKUP_BUCKET is not set (the SSM document sets it from the data stack's bucket)"
  [ -n "$ENV_NAME" ] || die "ENV_NAME is not set (backup keys are named <app>-<env>-<timestamp>)"
}

# Backup object keys: <prefix><app>-<env>-<UTC timestamp>.tar.gz; the timestamp sorts by time.
backup_key_pattern() { printf '^%s%s-%s-[0-9]{8}T[0-9]{6}Z\\.tar\\.gz$' "$BACKUP_PREFIX" "$APP_NAME" "$ENV_NAME"; }

# table_counts DATABASE: "schema.table<TAB>rows" for every base table, sorted, exact counts.
table_counts() {
  pg_tool psql -d "$1" -X -A -t -q -F $'\t' -v ON_ERROR_STOP=1 <<'SQL' | LC_ALL=C sort
SELECT format('SELECT %L, count(*) FROM %I.%I', table_schema || '.' || table_name, table_schema, table_name)
FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
\gexec
SQL
}
