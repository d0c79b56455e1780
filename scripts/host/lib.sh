#!/usr/bin/env bash
# Shared helpers of the host scripts (scripts/host/*.sh): logging, settings, commands from
# settings, the audit log, the lock, the JSON state file, the in-progress record, the checkout,
# preflight checks, Compose and the health check. Sourced first by every script next to it; it
# does nothing when sourced but define and load settings. Changing releases is in release.sh,
# what backups and restores share in backup-lib.sh.
# Deliberately free of double opening braces: SSM reads those as document parameters.

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
  DIE_MESSAGE=$*
  exit "$code"
}

# ---------------------------------------------------------------------------------------------
# Exit paths. One EXIT trap per script, whatever ends it (exit, an error under set -e, a trapped
# signal): it runs the hooks the script registered (at_exit: temporary files, nginx's upstream
# put back, a stopped app started again, the lock), then, when the operation audited `started`
# but no outcome, writes one (outcome_owed), so every operation's run ends with its outcome line.
# TERM, INT and HUP end the script with 143, 130 and 129, as the SSM documents report them; the
# audit line says `interrupted`. An error no path expected exits OUTCOME_FAIL_CODE, the code the
# script documents for where it is, and OUTCOME_STATE says what that leaves. SIGKILL cannot be
# trapped: the in-progress record (below) is what tells the next operation.

EXIT_HOOKS=()
OUTCOME_OP="" OUTCOME_DONE=0 OUTCOME_FAIL_CODE=1 OUTCOME_STATE="" EXIT_SIGNAL="" LAST_ERROR="" DIE_MESSAGE=""

# at_exit COMMAND: eval COMMAND when the script exits; the last one registered runs first.
at_exit() { EXIT_HOOKS+=("$1"); }
# at_exit_remove PATH: remove PATH (a temporary file or directory) when the script exits.
at_exit_remove() { at_exit "rm -rf $(printf '%q' "$1")"; }

on_exit() {
  local status=$? i
  trap - EXIT ERR
  trap '' TERM INT HUP
  set +e
  for ((i = ${#EXIT_HOOKS[@]} - 1; i >= 0; i--)); do eval "${EXIT_HOOKS[i]}"; done
  if [ -n "$OUTCOME_OP" ] && [ "$OUTCOME_DONE" = 0 ]; then outcome_owed "$status"; fi
  exit "$status"
}

# outcome_owed STATUS: the outcome line of a run that ended without one; sets `status` (on_exit's).
outcome_owed() {
  local result=failed message
  status=$1
  if [ -n "$EXIT_SIGNAL" ]; then
    result=interrupted message="interrupted by SIG$EXIT_SIGNAL"
  elif [ "$status" = 0 ]; then
    result=ok message="done"
  elif [ -n "$DIE_MESSAGE" ]; then
    message=$DIE_MESSAGE
    case $status in 65 | 75) result=refused ;; esac
  else
    message="unexpected error (${LAST_ERROR:-exit $status})" status=$OUTCOME_FAIL_CODE
  fi
  audit "$OUTCOME_OP" "$result" "$message${OUTCOME_STATE:+; $OUTCOME_STATE}" "exit=$status"
  [ "$result" != failed ] || [ -n "$DIE_MESSAGE" ] || log "error: $message${OUTCOME_STATE:+; $OUTCOME_STATE}"
  [ "$result" != interrupted ] || log "$message${OUTCOME_STATE:+; $OUTCOME_STATE}"
}

on_signal() {
  EXIT_SIGNAL=$1
  exit "$2"
}

set -o errtrace
trap 'LAST_ERROR="line $LINENO: $BASH_COMMAND exited $?"' ERR
trap on_exit EXIT
trap 'on_signal TERM 143' TERM
trap 'on_signal INT 130' INT
trap 'on_signal HUP 129' HUP

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
    if ! [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] || [ "$key" = "$line" ]; then die -c 2 "$file: not a KEY=VALUE line: $line"; fi
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

[ -n "${APP_NAME:-}" ] || die -c 2 "APP_NAME is not set: run the script through its SSM document (which writes host.env) or export APP_NAME"
[[ $APP_NAME =~ ^[a-z0-9][a-z0-9-]*$ ]] || die -c 2 "APP_NAME '$APP_NAME' is not a DNS label"
ENV_NAME=${ENV_NAME:-}
APP_DIR=${APP_DIR:-/opt/$APP_NAME}
STATE_DIR=${STATE_DIR:-/var/lib/$APP_NAME}
STATE_FILE=${STATE_FILE:-$STATE_DIR/deploy_state.json}
AUDIT_LOG=${AUDIT_LOG:-$STATE_DIR/audit.log}
LOCK_FILE=${LOCK_FILE:-$STATE_DIR/deploy.lock}
# What the lock in LOCK_FILE serializes, for messages (backup.sh points LOCK_FILE at its own lock).
LOCK_PURPOSE=${LOCK_PURPOSE:-deploy or rollback}
PROGRESS_FILE=${PROGRESS_FILE:-$STATE_DIR/in_progress}
# What the last pg_restore of a restore returned (restore.sh), read after an interrupted restore.
RESTORE_RESULT_FILE=${RESTORE_RESULT_FILE:-$STATE_DIR/restore_result}
LOCK_WAIT_SECONDS=${LOCK_WAIT_SECONDS:-0}
# How long a lock whose recorded holder died may stay busy (its orphaned children) before refusing.
STALE_LOCK_GRACE_SECONDS=${STALE_LOCK_GRACE_SECONDS:-15}
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
# The git-ref grammar of lib/config/git-ref.ts, written to host.env by the SSM document.
GIT_REF_PATTERN=${GIT_REF_PATTERN:-}
REQUIRE_PINNED_REF=${REQUIRE_PINNED_REF:-false}
ALLOW_MOVED_TAG=${ALLOW_MOVED_TAG:-false}
LEGACY_APP_DIRS=${LEGACY_APP_DIRS:-}
DEPLOY_ACTOR=${DEPLOY_ACTOR:-${SUDO_USER:-$(id -un)}}
SYSTEMD_DIR=${SYSTEMD_DIR:-/etc/systemd/system}
SYSTEMCTL_CMD=${SYSTEMCTL_CMD:-systemctl}
AWS_CMD=${AWS_CMD:-aws}
# Release verification (host.env, from app.smoke and app.migration): the smoke plan beside the
# scripts, the new release's own address, and the one-shot migration (words; empty: none).
SMOKE_PLAN=${SMOKE_PLAN:-$HOST_SCRIPT_DIR/smoke.json}
SMOKE_BASE_URL=${SMOKE_BASE_URL:-http://127.0.0.1:3000}
MIGRATE_SERVICE=${MIGRATE_SERVICE:-}
MIGRATE_COMMAND=${MIGRATE_COMMAND:-}

for setting in LOCK_WAIT_SECONDS STALE_LOCK_GRACE_SECONDS HEALTH_TIMEOUT MIN_FREE_MB; do
  [[ ${!setting} =~ ^[0-9]+$ ]] || die -c 2 "$setting must be a whole number, got '${!setting}'"
done
[[ $HEALTH_INTERVAL =~ ^[0-9]+(\.[0-9]+)?$ ]] || die -c 2 "HEALTH_INTERVAL must be a number of seconds, got '$HEALTH_INTERVAL'"
unset setting

# ---------------------------------------------------------------------------------------------
# Commands and word lists given as settings ("docker compose", "podman-compose",
# "aws --endpoint-url URL", "up -d --remove-orphans"): split on spaces into words, never run
# through a shell, so a setting cannot inject shell syntax.

# setting_words ARRAY VALUE: the words of VALUE into the (caller's) array ARRAY.
setting_words() { read -r -a "$1" <<<"$2"; }

# run_setting VALUE ARGS...: run the command whose words VALUE holds, with ARGS after them. The
# lock's fd 9 is closed for it: a process it leaves behind (kill -9 of this script) must not keep
# the deploy lock held.
run_setting() {
  local -a words
  setting_words words "$1"
  shift
  "${words[@]}" "$@" 9>&-
}

# ---------------------------------------------------------------------------------------------
# Audit log: one line per attempt and outcome, appended (a single short write is atomic).

# audit OPERATION RESULT MESSAGE [KEY=VALUE...]
# A line that cannot be written (state dir full, read-only) is printed on stderr instead, so the
# outcome is still reported where the caller reads it; it never stops the script.
audit() {
  local op=$1 result=$2 message=$3 line
  shift 3
  line="$(now_utc) op=$op result=$result actor=$DEPLOY_ACTOR pid=$$"
  local pair
  for pair in "$@"; do line+=" $pair"; done
  message=${message//\\/\\\\}
  message=${message//\"/\\\"}
  line+=" message=\"${message//$'\n'/ }\""
  if ! { mkdir -p "$(dirname "$AUDIT_LOG")" && printf '%s\n' "$line" >>"$AUDIT_LOG"; } 2>/dev/null; then
    log "warning: could not append to the audit log $AUDIT_LOG; the line was: $line"
  fi
  # The first `started` names the operation whose outcome is owed; its outcome line pays it (lib.sh's EXIT trap).
  case $result in
    started) OUTCOME_OP=${OUTCOME_OP:-$op} ;;
    ok | failed | refused | critical | unrecorded | interrupted) [ "$op" != "$OUTCOME_OP" ] || OUTCOME_DONE=1 ;;
  esac
}

# Host-wide settings on the root volume (the site and its certificate, the firewall, the backup
# timer) are lost with the instance. Each one a person applied is recorded here on the data volume
# (one file per operation, its time inside), so a replacement host applies it again at boot
# (host-boot.sh step 5 reads lifecycle-lib.sh's APPLIED_DIR, the same directory).
APPLIED_DIR=${APPLIED_DIR:-$STATE_DIR/applied}

# record_applied OPERATION: note that OPERATION (tls, firewall, backup-timer) was applied. A note
# that cannot be written is a warning: the operation itself succeeded.
record_applied() {
  { mkdir -p "$APPLIED_DIR" && now_utc >"$APPLIED_DIR/$1"; } 2>/dev/null ||
    log "warning: could not record in $APPLIED_DIR that $1 was applied: a replacement host will not apply it again by itself"
}

# ---------------------------------------------------------------------------------------------
# Lock: flock(1) on LOCK_FILE through fd 9, so the kernel releases it when the holder dies. The
# file records who holds it; a record left by a process that is no longer running is reported as
# a stale lock and taken over. Commands that may leave processes behind (Compose) run with fd 9
# closed so they cannot keep the lock after this script ends.

LOCK_HELD=0

# lock_wait_orphans: after the lock was found busy, sets `holder` to its record; when the recorded
# holder's process is gone (kill -9), waits up to STALE_LOCK_GRACE_SECONDS for the lock, since
# short-lived children of the killed holder (git, python3) inherited fd 9 and hold it until they
# end. Returns 0 once it holds the lock, 1 when a live holder (or none recorded) keeps it.
lock_wait_orphans() {
  local _ dead_pid
  # The holder writes its record just after it takes the lock: give it a moment to appear.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    holder=$(cat "$LOCK_FILE" 2>/dev/null || true)
    [ -n "$holder" ] && break
    sleep 0.1
  done
  dead_pid=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$holder")
  [ -n "$dead_pid" ] && ! kill -0 "$dead_pid" 2>/dev/null || return 1
  log "the lock's holder (pid $dead_pid) is gone; waiting up to ${STALE_LOCK_GRACE_SECONDS}s for processes it left to release $LOCK_FILE"
  flock -w "$STALE_LOCK_GRACE_SECONDS" 9
}

# lock_acquire OPERATION DETAIL
lock_acquire() {
  local op=$1 detail=$2 holder pid
  if ! { mkdir -p "$(dirname "$LOCK_FILE")" && exec 9>>"$LOCK_FILE"; } 2>/dev/null; then
    audit "$op" refused "cannot open the lock file" "$detail" "lockFile=$LOCK_FILE"
    die -c 65 "refusing to $op: cannot open the lock file $LOCK_FILE (is $(dirname "$LOCK_FILE") read-only or missing?); nothing was changed: fix STATE_DIR and run again"
  fi
  local -a wait_args=(-n)
  if [ "$LOCK_WAIT_SECONDS" -gt 0 ]; then
    wait_args=(-w "$LOCK_WAIT_SECONDS")
    log "waiting up to ${LOCK_WAIT_SECONDS}s for $LOCK_FILE"
  fi
  if ! flock "${wait_args[@]}" 9 && ! lock_wait_orphans; then
    exec 9>&-
    audit "$op" refused "another $LOCK_PURPOSE holds the lock" "$detail" "holder=\"${holder:-unknown}\""
    die -c 75 "another $LOCK_PURPOSE is running (lock $LOCK_FILE held by: ${holder:-unknown}); wait for it to finish or retry with LOCK_WAIT_SECONDS=<seconds>"
  fi
  holder=$(cat "$LOCK_FILE" 2>/dev/null || true)
  if [ -n "$holder" ]; then
    pid=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$holder")
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
      warn "stale lock found in $LOCK_FILE (holder '$holder' is no longer running); taking it over"
      audit "$op" stale-lock "took over a stale lock" "holder=\"$holder\""
    fi
  fi
  LOCK_HELD=1
  if ! printf 'pid=%s op=%s %s started=%s actor=%s\n' "$$" "$op" "$detail" "$(now_utc)" "$DEPLOY_ACTOR" 2>/dev/null >"$LOCK_FILE"; then
    audit "$op" refused "cannot write the lock file" "$detail" "lockFile=$LOCK_FILE"
    die -c 65 "refusing to $op: cannot write $LOCK_FILE (state directory full or read-only); nothing was changed: free space in or fix $(dirname "$LOCK_FILE") and run again"
  fi
}

lock_release() {
  if [ "$LOCK_HELD" = 1 ]; then
    { : >"$LOCK_FILE"; } 2>/dev/null || true
    flock -u 9 || true
    exec 9>&-
    LOCK_HELD=0
  fi
}

# ---------------------------------------------------------------------------------------------
# State file (JSON): the current and previous good releases, each with ref, commit, time and actor.
# Read and written by state_file.py beside this file (python3 is present on Amazon Linux and
# Debian); written to a temporary file in the same directory, flushed, then renamed over the old
# one, so a reader never sees half a file. Every python failure is one line (STATE_ERROR), never a
# traceback.

# state_check [OPERATION]: exit 65 unless the state file is absent or a JSON object (audited as a
# refusal of OPERATION when given).
state_check() {
  [ -f "$STATE_FILE" ] || return 0
  python3 "$HOST_SCRIPT_DIR/state_file.py" check "$STATE_FILE" 2>/dev/null && return 0
  [ -z "${1:-}" ] || audit "$1" refused "state file is not valid JSON" "stateFile=$STATE_FILE"
  die -c 65 "state file $STATE_FILE is not valid JSON; nothing was changed. Inspect it (the audit log $AUDIT_LOG lists past releases) and fix or remove it"
}

# state_get PATH (e.g. current.commit): prints the value, or nothing when absent.
state_get() {
  [ -f "$STATE_FILE" ] || return 0
  python3 "$HOST_SCRIPT_DIR/state_file.py" get "$STATE_FILE" "$1" || die -c 65 "could not read $1 from the state file $STATE_FILE"
}

# state_record ACTION REF COMMIT: the release becomes current; the old current becomes previous,
# unless it is the same commit (a redeploy must not erase the rollback target). STATE_COLOUR and
# STATE_PORT, when set, record the serving colour and its port (switch.sh; nginx's upstream include
# is derived from them); otherwise the recorded ones are kept. Returns non-zero with STATE_ERROR
# set when the file could not be written (the old file then stays as it was).
state_record() {
  STATE_ERROR=""
  if ! STATE_ERROR=$(python3 "$HOST_SCRIPT_DIR/state_file.py" record "$STATE_FILE" "$APP_NAME" "$ENV_NAME" "$1" "$2" "$3" "$DEPLOY_ACTOR" "$(now_utc)" "${STATE_COLOUR:-}" "${STATE_PORT:-}" 2>&1); then
    STATE_ERROR=${STATE_ERROR:-python3 failed}
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# In-progress record: KEY=VALUE lines in PROGRESS_FILE, written (atomically) before a deploy,
# rollback or restore changes anything and removed on its outcome. A record whose process is gone
# means the operation was interrupted (kill -9, reboot): status reports it, and the next deploy,
# rollback or restore first brings the last good release back (recover_interrupted, release.sh;
# a restore's app is started again on the database as it is: resume_restore, switch.sh).

# progress_write OP REF COMMIT PHASE GOOD_REF GOOD_COMMIT [KEY=VALUE...]: non-zero when it cannot write.
progress_write() {
  local tmp="$PROGRESS_FILE.tmp.$$"
  {
    mkdir -p "$(dirname "$PROGRESS_FILE")" &&
      printf 'op=%s\nref=%s\ncommit=%s\nphase=%s\npid=%s\nstarted=%s\nactor=%s\ngoodRef=%s\ngoodCommit=%s\n' \
        "$1" "$2" "$3" "$4" "$$" "${PROGRESS_STARTED:=$(now_utc)}" "$DEPLOY_ACTOR" "$5" "$6" >"$tmp" &&
      { [ "$#" -le 6 ] || printf '%s\n' "${@:7}" >>"$tmp"; } &&
      mv -f "$tmp" "$PROGRESS_FILE"
  } 2>/dev/null || { rm -f "$tmp" 2>/dev/null; return 1; }
}

# progress_field KEY: prints the value of KEY in the record (nothing when absent).
progress_field() { [ -f "$PROGRESS_FILE" ] && sed -n "s/^$1=//p" "$PROGRESS_FILE" | tail -n 1; }

# progress_phase PHASE [KEY=VALUE...]: update the phase (and those keys) of this process's record
# (a no-op without one).
progress_phase() {
  [ "$(progress_field pid 2>/dev/null)" = "$$" ] || return 0
  local tmp="$PROGRESS_FILE.tmp.$$" pair keys=phase
  for pair in "${@:2}"; do keys+="|${pair%%=*}"; done
  if ! { grep -Ev "^($keys)=" "$PROGRESS_FILE" && printf '%s\n' "phase=$1" "${@:2}"; } >"$tmp" 2>/dev/null || ! mv -f "$tmp" "$PROGRESS_FILE" 2>/dev/null; then
    rm -f "$tmp" 2>/dev/null
    warn "could not update the phase in $PROGRESS_FILE"
  fi
}

progress_clear() {
  rm -f "$PROGRESS_FILE" 2>/dev/null || warn "could not remove the in-progress record $PROGRESS_FILE: remove it by hand"
}

# restore_database_state: what the interrupted restore of the record left in the database, in
# words. pg_restore runs in one transaction, and what it returned is written to RESTORE_RESULT_FILE
# by a shell that outlives the restore script (restore.sh), so the record and that file tell.
restore_database_state() {
  local key result
  key=$(progress_field ref)
  case $(progress_field phase) in
    restored) echo "the database holds the backup $key" ;;
    pg-restore)
      result=$(cat "$RESTORE_RESULT_FILE" 2>/dev/null || true)
      case $result in
        0) echo "the database holds the backup $key (pg_restore finished after the restore was interrupted)" ;;
        '') echo "the database is as it was before the restore (pg_restore was stopped before it finished, and its one transaction rolled back)" ;;
        *) echo "the database is as it was before the restore (pg_restore failed with exit $result, and its one transaction rolled back)" ;;
      esac
      ;;
    rolled-back) echo "the database is as it was before the restore (pg_restore failed, and its one transaction rolled back)" ;;
    *) echo "the database is as it was before the restore (it stopped before pg_restore)" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Git on the checkout, as the user running the script: git itself refuses a checkout owned by
# another user (no safe.directory override: its config and hooks would run as this user).

app_git() { git -C "$APP_DIR" "$@"; }

# require_checkout [OPERATION]: exit 65 unless APP_DIR is a git checkout owned by this user
# (audited as a refusal of OPERATION when given).
require_checkout() {
  if [ ! -d "$APP_DIR/.git" ]; then
    [ -z "${1:-}" ] || audit "$1" refused "not a git checkout" "appDir=$APP_DIR"
    die -c 65 "$APP_DIR is not a git checkout (APP_DIR); clone the app repository there first"
  fi
  local owner me
  owner=$(stat -c %u "$APP_DIR/.git") me=$(id -u)
  if [ "$owner" != "$me" ]; then
    [ -z "${1:-}" ] || audit "$1" refused "checkout owned by another user" "appDir=$APP_DIR" "owner=$owner"
    die -c 65 "refusing: the checkout $APP_DIR is owned by uid $owner, not by $(id -un) (uid $me) who runs this; its git config and hooks would run as $(id -un). Nothing was changed: chown -R $(id -un) $APP_DIR if it is yours"
  fi
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
# Compose. COMPOSE_CMD is a command setting ("docker compose", "podman-compose"); it runs in APP_DIR
# with the lock's fd closed (run_setting).

compose() { (cd "$APP_DIR" && run_setting "$COMPOSE_CMD" -p "$COMPOSE_PROJECT" -f "$COMPOSE_FILE" "$@"); }

# compose_with SETTING_VALUE: compose with the argument words of a setting; output to stderr.
compose_with() {
  local -a args
  setting_words args "$1"
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
    # fd 9 closed: a sleep orphaned by a killed deploy must not keep holding the lock.
    sleep "$HEALTH_INTERVAL" 9>&-
  done
}
