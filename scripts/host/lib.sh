#!/usr/bin/env bash
# Shared helpers of the host scripts (scripts/host/*.sh): settings, logging, the audit log, the
# deploy lock, the JSON state file, Compose, health checks and release switching.
# Sourced by every script next to it; it does nothing when sourced but define and load settings.
# Deliberately free of double opening braces: SSM reads those as document parameters.
# shellcheck disable=SC2034 # RELEASE_PHASE, RELEASE_ERROR, RESTORE_ERROR, RESOLVED_KIND are read by the scripts sourcing this

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
# What the lock in LOCK_FILE serializes, for messages (backup.sh points LOCK_FILE at its own lock).
LOCK_PURPOSE=${LOCK_PURPOSE:-deploy or rollback}
PROGRESS_FILE=${PROGRESS_FILE:-$STATE_DIR/in_progress}
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
# Release verification (host.env, from app.smoke and app.migration): the smoke plan beside the
# scripts, the new release's own address, and the one-shot migration (words; empty: none).
SMOKE_PLAN=${SMOKE_PLAN:-$HOST_SCRIPT_DIR/smoke.json}
SMOKE_BASE_URL=${SMOKE_BASE_URL:-http://127.0.0.1:3000}
MIGRATE_SERVICE=${MIGRATE_SERVICE:-}
MIGRATE_COMMAND=${MIGRATE_COMMAND:-}

for setting in LOCK_WAIT_SECONDS STALE_LOCK_GRACE_SECONDS HEALTH_TIMEOUT MIN_FREE_MB; do
  [[ ${!setting} =~ ^[0-9]+$ ]] || die "$setting must be a whole number, got '${!setting}'"
done
[[ $HEALTH_INTERVAL =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "HEALTH_INTERVAL must be a number of seconds, got '$HEALTH_INTERVAL'"
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
# Read and written with python3 (present on Amazon Linux and Debian); written to a temporary file
# in the same directory, flushed, then renamed over the old one, so a reader never sees half a file.
# Every python failure is caught and reported as one line (STATE_ERROR), never a traceback.

# state_check [OPERATION]: exit 65 unless the state file is absent or a JSON object (audited as a
# refusal of OPERATION when given).
state_check() {
  [ -f "$STATE_FILE" ] || return 0
  python3 -c 'import json, sys; sys.exit(0 if isinstance(json.load(open(sys.argv[1])), dict) else 1)' "$STATE_FILE" 2>/dev/null && return 0
  [ -z "${1:-}" ] || audit "$1" refused "state file is not valid JSON" "stateFile=$STATE_FILE"
  die -c 65 "state file $STATE_FILE is not valid JSON; nothing was changed. Inspect it (the audit log $AUDIT_LOG lists past releases) and fix or remove it"
}

# state_get PATH (e.g. current.commit): prints the value, or nothing when absent.
state_get() {
  [ -f "$STATE_FILE" ] || return 0
  python3 - "$STATE_FILE" "$1" <<'PY' || die -c 65 "could not read $1 from the state file $STATE_FILE"
import json, sys
try:
    value = json.load(open(sys.argv[1]))
except Exception as error:
    sys.exit("state file %s: %s" % (sys.argv[1], error))
for part in sys.argv[2].split("."):
    value = value.get(part) if isinstance(value, dict) else None
if value is not None:
    print(value)
PY
}

# state_record ACTION REF COMMIT: the release becomes current; the old current becomes previous,
# unless it is the same commit (a redeploy must not erase the rollback target). STATE_COLOUR, when
# set, records the serving colour (switch.sh); otherwise the recorded one is kept. Returns non-zero
# with STATE_ERROR set when the file could not be written (the old file then stays as it was).
state_record() {
  STATE_ERROR=""
  if ! STATE_ERROR=$(python3 - "$STATE_FILE" "$APP_NAME" "$ENV_NAME" "$1" "$2" "$3" "$DEPLOY_ACTOR" "$(now_utc)" "${STATE_COLOUR:-}" 2>&1 <<'PY'
import json, os, sys, tempfile
path, app, env, action, ref, commit, actor, now, colour = sys.argv[1:10]
try:
    state = {}
    if os.path.exists(path):
        with open(path) as f:
            state = json.load(f)
    old = state.get("current")
    previous = state.get("previous") if old and old.get("commit") == commit else old
    release = dict(ref=ref, commit=commit, deployedAt=now, deployedBy=actor, action=action)
    new = dict(schemaVersion=1, app=app, environment=env or None, current=release,
               previous=previous, updatedAt=now)
    # Blue/green (switch.sh): the colour nginx sends traffic to; an in-place restart keeps it.
    serving = colour or state.get("servingColour")
    if serving:
        new["servingColour"] = serving
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
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
except Exception as error:
    sys.exit("%s: %s" % (type(error).__name__, error))
PY
  ); then
    STATE_ERROR=${STATE_ERROR:-python3 failed}
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# In-progress record: KEY=VALUE lines in PROGRESS_FILE, written (atomically) before a deploy or
# rollback changes anything and removed on its outcome. A record whose process is gone means the
# operation was interrupted (kill -9, reboot): status reports it and the next deploy or rollback
# first brings the last good release back (recover_interrupted).

# progress_write OP REF COMMIT PHASE GOOD_REF GOOD_COMMIT: returns non-zero when it cannot write.
progress_write() {
  local tmp="$PROGRESS_FILE.tmp.$$"
  {
    mkdir -p "$(dirname "$PROGRESS_FILE")" &&
      printf 'op=%s\nref=%s\ncommit=%s\nphase=%s\npid=%s\nstarted=%s\nactor=%s\ngoodRef=%s\ngoodCommit=%s\n' \
        "$1" "$2" "$3" "$4" "$$" "${PROGRESS_STARTED:=$(now_utc)}" "$DEPLOY_ACTOR" "$5" "$6" >"$tmp" &&
      mv -f "$tmp" "$PROGRESS_FILE"
  } 2>/dev/null || { rm -f "$tmp" 2>/dev/null; return 1; }
}

# progress_field KEY: prints the value of KEY in the record (nothing when absent).
progress_field() { [ -f "$PROGRESS_FILE" ] && sed -n "s/^$1=//p" "$PROGRESS_FILE" | head -n 1; }

# progress_phase PHASE: update the phase of this process's record (a no-op without one).
progress_phase() {
  [ "$(progress_field pid 2>/dev/null)" = "$$" ] || return 0
  progress_write "$(progress_field op)" "$(progress_field ref)" "$(progress_field commit)" "$1" "$(progress_field goodRef)" "$(progress_field goodCommit)" ||
    warn "could not update the phase in $PROGRESS_FILE"
}

progress_clear() {
  rm -f "$PROGRESS_FILE" 2>/dev/null || warn "could not remove the in-progress record $PROGRESS_FILE: remove it by hand"
}

# recover_interrupted OP: when an earlier deploy or rollback was interrupted (its record is left
# and, since this process holds the lock, its process is gone), put the last good release back and
# check its health. Returns 0 when there was nothing to recover, 10 when it recovered; exits 3
# when the last good release cannot be brought back.
recover_interrupted() {
  local op=$1 i_op i_ref i_commit i_phase i_pid i_started good_ref good_commit
  [ -f "$PROGRESS_FILE" ] || return 0
  i_op=$(progress_field op) i_ref=$(progress_field ref) i_commit=$(progress_field commit)
  i_phase=$(progress_field phase) i_pid=$(progress_field pid) i_started=$(progress_field started)
  good_commit=$(state_get current.commit) good_ref=$(state_get current.ref)
  if [ -z "$good_commit" ]; then
    good_commit=$(progress_field goodCommit) good_ref=$(progress_field goodRef)
  fi
  if [ -z "$good_commit" ]; then
    audit "$op" refused "interrupted ${i_op:-operation} found, no last good release known" "interrupted=$i_op" "ref=$i_ref"
    die -c 65 "refusing to $op: $PROGRESS_FILE records an interrupted ${i_op:-operation} of ${i_ref:-?} and no last good release is known; inspect the host, then remove $PROGRESS_FILE"
  fi
  log "found an interrupted $i_op of $i_ref (${i_commit:0:12}, phase $i_phase, pid $i_pid, started $i_started): putting the last good release $good_ref (${good_commit:0:12}) back first"
  require_checkout "$op"
  # Containers may have changed in any phase but the first ones: rebuild and restart to be sure
  # (blue/green: nginx back on the serving colour, the other stopped; switch.sh).
  local restore=release_restore
  if [ "${BLUE_GREEN:-false}" = true ] && declare -F colour_recover >/dev/null; then restore=colour_recover; fi
  if "$restore" "$good_commit" "$good_ref" up; then
    audit "$op" recovered "interrupted $i_op of $i_ref undone; last good release serving" "interrupted=$i_op" "interruptedRef=$i_ref" "interruptedCommit=$i_commit" "phase=$i_phase" "commit=$good_commit"
    progress_clear
    log "recovered: the last good release $good_ref (${good_commit:0:12}) is serving again after the interrupted $i_op of $i_ref"
    return 10
  fi
  audit "$op" critical "could not bring back the last good release after an interrupted $i_op: $RESTORE_ERROR" "interrupted=$i_op" "commit=$good_commit"
  die -c 3 "an interrupted $i_op of $i_ref left the host changed, and putting the last good release $good_ref (${good_commit:0:12}) back failed: $RESTORE_ERROR. The service may be down: act now (status shows the record $PROGRESS_FILE)"
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

# validate_ref REF: the grammar of lib/config/git-ref.ts (GIT_REF_PATTERN), at most 200 characters.
validate_ref() {
  [ -n "$GIT_REF_PATTERN" ] || die -c 2 "GIT_REF_PATTERN is not set: run the script through its SSM document (which writes host.env)"
  [ "${#1}" -le 200 ] && [[ $1 =~ $GIT_REF_PATTERN ]]
}

# is_pinned_ref REF: a full commit sha or refs/tags/<name> (the environment's requirePinnedRef).
is_pinned_ref() { [[ $1 =~ ^[0-9a-f]{40}$ ]] || [[ $1 == refs/tags/* ]]; }

# fetch_remote: branches into refs/remotes/<remote>/, tags into refs/remote-tags/<remote>/ (never
# over this host's refs/tags, so a tag moved on the remote is seen, not silently followed).
fetch_remote() {
  app_git fetch --prune --no-tags "$GIT_REMOTE" "+refs/heads/*:refs/remotes/$GIT_REMOTE/*" "+refs/tags/*:refs/remote-tags/$GIT_REMOTE/*" 2>&1 9>&-
}

commit_of() { app_git rev-parse --verify --quiet "$1^{commit}" 2>/dev/null; }

# resolve_ref REF: sets RESOLVED_COMMIT and RESOLVED_KIND (tag, branch or commit), or prints why
# not in RESOLVE_ERROR and returns 1. A bare name that is both a tag and a branch is refused; a tag whose
# remote commit differs from the one this host recorded is refused unless ALLOW_MOVED_TAG=true.
resolve_ref() {
  local ref=$1 name tag branch here
  RESOLVED_COMMIT="" RESOLVED_KIND="" RESOLVE_ERROR=""
  case $ref in
    refs/tags/*) name=${ref#refs/tags/} RESOLVED_KIND=tag ;;
    "$GIT_REMOTE"/*) name=${ref#"$GIT_REMOTE"/} RESOLVED_KIND=branch ;;
    *)
      name=$ref
      tag=$(commit_of "refs/remote-tags/$GIT_REMOTE/$name" || true)
      branch=$(commit_of "refs/remotes/$GIT_REMOTE/$name" || true)
      if [ -n "$tag" ] && [ -n "$branch" ]; then
        RESOLVE_ERROR="'$ref' names both a tag and a branch of $GIT_REMOTE; say which: refs/tags/$ref or $GIT_REMOTE/$ref"
        return 1
      elif [ -n "$tag" ]; then RESOLVED_KIND=tag
      elif [ -n "$branch" ]; then RESOLVED_KIND=branch
      elif [[ $ref =~ ^[0-9a-f]{7,40}$ ]] && RESOLVED_COMMIT=$(commit_of "$ref"); then RESOLVED_KIND=commit; return 0
      else
        RESOLVE_ERROR="unknown ref '$ref': not a branch, tag or commit of $GIT_REMOTE after fetching"
        return 1
      fi
      ;;
  esac
  if [ "$RESOLVED_KIND" = branch ]; then
    RESOLVED_COMMIT=$(commit_of "refs/remotes/$GIT_REMOTE/$name") || { RESOLVE_ERROR="unknown ref '$ref': $GIT_REMOTE has no branch '$name'"; return 1; }
    return 0
  fi
  RESOLVED_COMMIT=$(commit_of "refs/remote-tags/$GIT_REMOTE/$name") || { RESOLVE_ERROR="unknown ref '$ref': $GIT_REMOTE has no tag '$name'"; return 1; }
  here=$(commit_of "refs/tags/$name" || true)
  if [ -n "$here" ] && [ "$here" != "$RESOLVED_COMMIT" ]; then
    if [ "$ALLOW_MOVED_TAG" != true ]; then
      RESOLVE_ERROR="tag '$name' moved on $GIT_REMOTE: this host knows it as ${here:0:12}, $GIT_REMOTE now says ${RESOLVED_COMMIT:0:12}; if the move is intended, deploy again with allowMovedTag=true (ALLOW_MOVED_TAG=true)"
      return 1
    fi
    warn "tag '$name' moved on $GIT_REMOTE from ${here:0:12} to ${RESOLVED_COMMIT:0:12}; following it (ALLOW_MOVED_TAG=true)"
  fi
  app_git update-ref "refs/tags/$name" "refs/remote-tags/$GIT_REMOTE/$name" >&2 || { RESOLVE_ERROR="could not record tag '$name' in $APP_DIR"; return 1; }
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
    other_head=$(git -C "$other" rev-parse HEAD 2>/dev/null || echo "unreadable (owned by another user?)")
    other_changes=$(git -C "$other" status --porcelain --untracked-files=no 2>/dev/null || true)
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

# release_start COMMIT LABEL [pull]: check the commit out and bring it up with Compose.
# Sets RELEASE_PHASE: 'checkout' until containers are touched, then 'up'; RELEASE_ERROR on failure.
release_start() {
  local commit=$1 label=$2 pull=${3:-}
  RELEASE_PHASE=checkout
  RELEASE_ERROR=""
  progress_phase checkout
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
  if ! release_migrate "$label"; then
    RELEASE_ERROR="the migration of $label failed: $MIGRATE_ERROR"
    return 1
  fi
  RELEASE_PHASE=up
  progress_phase up
  if ! compose_with "$COMPOSE_UP_ARGS"; then
    RELEASE_ERROR="compose $COMPOSE_UP_ARGS failed for $label"
    return 1
  fi
  progress_phase health
  if ! health_wait; then
    RELEASE_ERROR="$label is unhealthy: $HEALTH_ERROR"
    return 1
  fi
  progress_phase smoke
  if ! release_smoke "$SMOKE_BASE_URL"; then
    RELEASE_ERROR="$label failed its smoke checks against $SMOKE_BASE_URL ($SMOKE_SUMMARY); see why with: npm run ops -- logs --env ${ENV_NAME:-<env>} --since 15m"
    return 1
  fi
}

# release_migrate LABEL: the one-shot migration (compose run --rm MIGRATE_SERVICE MIGRATE_COMMAND)
# of the release just built, before it takes traffic; its output goes to stderr and, in short, to
# the audit log. Nothing to do without MIGRATE_COMMAND. Sets MIGRATE_ERROR on failure.
release_migrate() {
  local label=$1 out rc=0 tail_text
  MIGRATE_ERROR=""
  [ -n "$MIGRATE_COMMAND" ] || return 0
  local -a words
  setting_words words "$MIGRATE_COMMAND"
  progress_phase migrate
  log "migrating once: compose run --rm $MIGRATE_SERVICE $MIGRATE_COMMAND"
  out=$(compose run --rm -T "$MIGRATE_SERVICE" "${words[@]}" 2>&1) || rc=$?
  printf '%s\n' "$out" >&2
  tail_text=$(tail -n 20 <<<"$out" | tr '\n' '|')
  if [ "$rc" -ne 0 ]; then
    MIGRATE_ERROR="compose run --rm $MIGRATE_SERVICE $MIGRATE_COMMAND exited $rc"
    audit "$(progress_field op)" migrate-failed "$MIGRATE_ERROR; output: $tail_text" "ref=$label"
    return 1
  fi
  audit "$(progress_field op)" migrated "migration ok; output: $tail_text" "ref=$label"
}

# release_smoke BASE_URL: the smoke plan (smoke.sh) against BASE_URL; lines on stderr, the summary
# in SMOKE_SUMMARY. Without a plan (older documents), nothing to check.
release_smoke() {
  local out rc=0
  SMOKE_SUMMARY=""
  [ -f "$SMOKE_PLAN" ] || { log "no smoke plan at $SMOKE_PLAN: health only"; return 0; }
  out=$(bash "$HOST_SCRIPT_DIR/smoke.sh" "$1" 9>&-) || rc=$?
  printf '%s\n' "$out" >&2
  SMOKE_SUMMARY=$(tail -n 1 <<<"$out")
  return "$rc"
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

# release_switch ACTION REF COMMIT GOOD_REF GOOD_COMMIT [pull]: the one way deploy and rollback
# change the serving release. Writes the in-progress record, starts REF, records it as current,
# and on any failure puts GOOD (the release the state file calls current) back. Always exits:
#   0  REF serves and is recorded
#   1  REF failed; GOOD is back and healthy; state unchanged
#   4  REF came up healthy but could not be recorded in the state file; GOOD is back and healthy
#      (so what serves is what the state file says); fix STATE_DIR and run again
#   3  REF failed (or was not recorded) and putting GOOD back failed too: act now
#   65 the in-progress record could not be written: refused before any change
release_switch() {
  local action=$1 ref=$2 commit=$3 good_ref=$4 good_commit=$5 pull=${6:-} failure code
  if ! progress_write "$action" "$ref" "$commit" starting "$good_ref" "$good_commit"; then
    audit "$action" refused "cannot write the in-progress record" "ref=$ref" "progressFile=$PROGRESS_FILE"
    die -c 65 "refusing to $action $ref: cannot write the in-progress record $PROGRESS_FILE (state directory full or read-only); nothing was changed: free space in or fix $(dirname "$PROGRESS_FILE") and run again"
  fi
  log "$action: switching to $ref (${commit:0:12}); last good release: $good_ref (${good_commit:0:12})"
  if release_start "$commit" "$ref" "$pull"; then
    if state_record "$action" "$ref" "$commit"; then
      progress_clear
      audit "$action" ok "${action} done" "ref=$ref" "commit=$commit" "previous=$good_commit"
      log "$action of $ref (${commit:0:12}) done; state recorded in $STATE_FILE"
      exit 0
    fi
    failure="$ref (${commit:0:12}) came up healthy but could not be recorded in $STATE_FILE: $STATE_ERROR"
    RELEASE_PHASE=up
    code=4
  else
    failure=$RELEASE_ERROR
    code=1
  fi
  progress_write "$action" "$ref" "$commit" "restoring" "$good_ref" "$good_commit" || warn "could not update $PROGRESS_FILE"
  log "$action of $ref failed: $failure"
  if release_restore "$good_commit" "$good_ref" "$RELEASE_PHASE"; then
    progress_clear
    if [ "$code" = 4 ]; then
      audit "$action" unrecorded "$failure; last good release put back" "ref=$ref" "commit=$commit" "restored=$good_commit"
      die -c 4 "$action of $ref: $failure. The last good release $good_ref (${good_commit:0:12}) is back and healthy, as the state file says; free space in or fix $(dirname "$STATE_FILE"), then run $action again"
    fi
    audit "$action" failed "$failure; last good release restored" "ref=$ref" "commit=$commit" "restored=$good_commit"
    die -c 1 "$action of $ref failed: $failure. The last good release $good_ref (${good_commit:0:12}) is back and healthy; the state file is unchanged"
  fi
  # The record stays: status shows it, and the next deploy or rollback tries the last good release again.
  progress_write "$action" "$ref" "$commit" "restore-failed" "$good_ref" "$good_commit" || warn "could not update $PROGRESS_FILE"
  audit "$action" critical "$failure; restoring the last good release failed: $RESTORE_ERROR" "ref=$ref" "commit=$commit" "restore=$good_commit"
  die -c 3 "$action of $ref failed: $failure. Putting back $good_ref (${good_commit:0:12}) ALSO failed: $RESTORE_ERROR. The service may be down: run status and act now (the next deploy or rollback tries $good_ref again first)"
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
aws_s3() { run_setting "$AWS_CMD $AWS_S3_ENDPOINT_ARGS" "$@"; }

require_backup_settings() {
  [ -n "$BACKUP_BUCKET" ] || die "BACKUP_BUCKET is not set (the SSM document sets it from the data stack's bucket)"
  [ -n "$ENV_NAME" ] || die "ENV_NAME is not set (backup keys are named <app>-<env>-<timestamp>)"
}

# Backup object keys: <prefix><app>-<env>-<UTC timestamp>.tar.gz. The name is not trusted for
# recency: restore-drill.sh picks the newest by the time S3 recorded (LastModified).
backup_key_pattern() { printf '^%s%s-%s-[0-9]{8}T[0-9]{6}Z\\.tar\\.gz$' "$BACKUP_PREFIX" "$APP_NAME" "$ENV_NAME"; }

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
