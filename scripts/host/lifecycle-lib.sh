#!/usr/bin/env bash
# Shared by the host's lifecycle programs (host-boot.sh, host-stop.sh, interruption-watch.sh):
# logging, settings, commands from settings, IMDSv2 and the AWS CLI. Sourced; defines and loads
# settings only. Kept apart from lib.sh: these run at boot and at termination, outside any deploy,
# without host.env (which the SSM documents write) and without the deploy lock.
#
# Settings come from the process environment, then LIFECYCLE_ENV_FILE (KEY=VALUE lines written by
# the first boot from the validated config, read as data, never sourced), then the defaults below.

LIFECYCLE_SCRIPT_NAME=$(basename "$0" .sh)

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$LIFECYCLE_SCRIPT_NAME" "$*" >&2; }

# die [-c CODE] MESSAGE...: log the error and exit (1 unless -c gives the code).
die() {
  local code=1
  if [ "${1:-}" = "-c" ]; then code=$2; shift 2; fi
  log "error: $*"
  exit "$code"
}

load_lifecycle_settings() {
  local file=$1 line key value
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in '' | '#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    if ! [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] || [ "$key" = "$line" ]; then die -c 2 "$file: not a KEY=VALUE line: $line"; fi
    if [ -z "${!key+set}" ]; then export "$key=$value"; fi
  done <"$file"
}

LIFECYCLE_ENV_FILE=${LIFECYCLE_ENV_FILE:-/etc/default/host-lifecycle}
if [ -f "$LIFECYCLE_ENV_FILE" ]; then load_lifecycle_settings "$LIFECYCLE_ENV_FILE"; fi

IMDS_URL=${IMDS_URL:-http://169.254.169.254}
AWS_CMD=${AWS_CMD:-aws}
# Where a stop records the steps it finished (on the root file system: the data volume is gone
# by the end), so the stop the Spot warning started is not redone when the lifecycle hook follows.
LIFECYCLE_RUN_DIR=${LIFECYCLE_RUN_DIR:-/run/host-lifecycle}

# Commands given as settings are split on spaces into words and never run through a shell.
run_setting() {
  local -a words
  read -r -a words <<<"$1"
  shift
  [ "${#words[@]}" -gt 0 ] || return 0
  "${words[@]}" "$@"
}

aws_cli() { run_setting "$AWS_CMD" "$@"; }

# require_settings NAME...: exit 2 naming every setting that is empty, all at once.
require_settings() {
  local name missing=()
  for name in "$@"; do [ -n "${!name:-}" ] || missing+=("$name"); done
  [ "${#missing[@]}" -eq 0 ] || die -c 2 "not set: ${missing[*]} (LIFECYCLE_ENV_FILE $LIFECYCLE_ENV_FILE, written by the first boot)"
}

# IMDSv2 only: a session token first, then every read carries it (the instance requires tokens).
IMDS_TOKEN=
IMDS_TOKEN_AT=0
imds_token() {
  # Tokens live 6 hours; take a new one every 5 minutes so a long-running watcher never holds a stale one.
  if [ -z "$IMDS_TOKEN" ] || [ $((SECONDS - IMDS_TOKEN_AT)) -ge 300 ]; then
    IMDS_TOKEN=$(curl -fsS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$IMDS_URL/latest/api/token") || return 1
    IMDS_TOKEN_AT=$SECONDS
  fi
}

# imds_get PATH: the value under /latest/PATH on stdout. Returns 4 when the path does not exist
# (404: e.g. no Spot interruption is scheduled), 1 when IMDS cannot be read.
imds_get() {
  local status body
  imds_token || return 1
  body=$(curl -sS --max-time 5 -w '\n%{http_code}' -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "$IMDS_URL/latest/$1") || return 1
  status=${body##*$'\n'}
  body=${body%$'\n'*}
  case $status in
    200) printf '%s' "$body" ;;
    404) return 4 ;;
    401) IMDS_TOKEN= && return 1 ;;
    *) return 1 ;;
  esac
}

# The environment's audit log on the data volume (lib.sh's AUDIT_LOG: STATE_DIR is the volume's
# mount point), written in lib.sh's line format, so `ops status` and a person read one history.
AUDIT_LOG=${AUDIT_LOG:-${DATA_MOUNT_POINT:-/nonexistent}/audit.log}
LIFECYCLE_ACTOR=${LIFECYCLE_ACTOR:-host-lifecycle}

# audit OPERATION RESULT MESSAGE [KEY=VALUE...]: one line appended to AUDIT_LOG. A line that
# cannot be written (the volume is not mounted) is logged on stderr instead; it never stops the script.
audit() {
  local op=$1 result=$2 message=$3 line pair
  shift 3
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) op=$op result=$result actor=$LIFECYCLE_ACTOR pid=$$"
  for pair in "$@"; do line+=" $pair"; done
  message=${message//\\/\\\\}
  message=${message//\"/\\\"}
  line+=" message=\"${message//$'\n'/ }\""
  # Never onto the root disk's empty mount point directory: only while the data volume is mounted.
  if ! { { [ -z "${DATA_MOUNT_POINT:-}" ] || mountpoint -q "$DATA_MOUNT_POINT"; } && printf '%s\n' "$line" >>"$AUDIT_LOG"; } 2>/dev/null; then
    log "warning: could not append to the audit log $AUDIT_LOG; the line was: $line"
  fi
}

instance_id() {
  local id
  id=$(imds_get meta-data/instance-id) || return 1
  [[ $id =~ ^i-[0-9a-f]+$ ]] || return 1
  printf '%s' "$id"
}
