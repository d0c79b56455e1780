#!/usr/bin/env bash
# status.sh [--json|--text]: the current and previous releases from the state file, what the
# checkout is on (and whether it is clean), one probe of HEALTH_URL, and the state of every
# container of the Compose project. Text by default; --json prints one JSON object on stdout.
# An in-progress record (lib.sh) is reported as running, or as INTERRUPTED when its process is gone
# (a restore's with the state it left the database in). Under blue/green, any disagreement between
# nginx's upstream include, the state file and the running containers is reported (`nginx:` line,
# JSON `consistency`).
# Read-only: takes no lock, changes nothing, audits nothing. Exits 0 whenever it could report; 65
# when the state file is not valid JSON; 1 (one line) when the report could not be built; 2 usage.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/host/switch.sh
. "$HOST_SCRIPT_DIR/switch.sh" # on_serving: under blue/green the release runs as the serving colour

format=text
case "${1:-}" in
  '' | --text) format=text ;;
  --json) format=json ;;
  *) die -c 2 "usage: status.sh [--json|--text]" ;;
esac

work=$(mktemp -d)
at_exit_remove "$work"

# shellcheck disable=SC2119 # status only reports: a bad state file is not an operation to audit
state_check
[ -f "$STATE_FILE" ] && cp "$STATE_FILE" "$work/state.json"
# The secret versions (never values) the env file was last rendered with (scripts/host/secrets.sh).
[ -f "${SECRETS_STATE_FILE:-$STATE_DIR/secrets.json}" ] && cp "${SECRETS_STATE_FILE:-$STATE_DIR/secrets.json}" "$work/secrets.json"
progress_running=""
if [ -f "$PROGRESS_FILE" ]; then
  cp "$PROGRESS_FILE" "$work/progress"
  if kill -0 "$(progress_field pid)" 2>/dev/null; then progress_running=true; else progress_running=false; fi
  # A restore's record: which state it left the database in (lib.sh).
  if [ "$(progress_field op)" = restore ]; then restore_database_state >"$work/restore-database"; fi
fi
# The newest successful backup, recorded by backup.sh (backup-metric.sh).
[ -f "${LAST_BACKUP_FILE:-$STATE_DIR/last-backup.json}" ] && cp "${LAST_BACKUP_FILE:-$STATE_DIR/last-backup.json}" "$work/last-backup.json"

checkout_commit="" checkout_clean=""
if [ -d "$APP_DIR/.git" ]; then
  checkout_commit=$(app_git rev-parse HEAD 2>/dev/null || true)
  if [ -z "$(app_git status --porcelain --untracked-files=no 2>/dev/null)" ]; then checkout_clean=true; else checkout_clean=false; fi
fi

# Under blue/green the serving colour's own port and Compose project (what nginx sends traffic to).
serving_target() { printf '%s %s\n' "$HEALTH_URL" "$COMPOSE_PROJECT"; }
read -r HEALTH_URL COMPOSE_PROJECT < <(on_serving serving_target)
health_code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$HEALTH_URL" 2>"$work/health.err" || true)

# docker prints one JSON object per line; podman prints one JSON array. Both are parsed below.
if ! run_setting "$CONTAINER_CMD" ps -a --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" --format json >"$work/containers.json" 2>"$work/containers.err"; then
  warn "could not list containers with $CONTAINER_CMD: $(cat "$work/containers.err")"
  : >"$work/containers.json"
fi

# Blue/green: what nginx's upstream include names, the colour and port the state file records and
# the other colour's containers, compared below (they must agree, except while a change runs).
serving="" serving_port="" upstream_port="" other=""
if [ "$BLUE_GREEN" = true ]; then
  if [ -f "$NGINX_UPSTREAM_FILE" ]; then
    upstream_port=$(sed -n 's/^ *server 127\.0\.0\.1:\([0-9]*\);.*/\1/p' "$NGINX_UPSTREAM_FILE" | head -n 1)
    upstream_port=${upstream_port:-unreadable}
  fi
  read -r serving serving_port < <(upstream_recorded 2>/dev/null || true) || true
  if [ -n "$serving" ]; then
    serving_port=${serving_port:-$(colour_port "$serving")}
    other=$(colour_other "$serving")
    run_setting "$CONTAINER_CMD" ps --filter "label=com.docker.compose.project=$BASE_COMPOSE_PROJECT-$other" --format json >"$work/other.json" 2>/dev/null || : >"$work/other.json"
  fi
fi

python3 "$HOST_SCRIPT_DIR/status_report.py" "$format" "$work" "$APP_NAME" "$ENV_NAME" "$APP_DIR" "$checkout_commit" "$checkout_clean" "$HEALTH_URL" "$health_code" "$progress_running" \
  "$BLUE_GREEN" "$NGINX_UPSTREAM_FILE" "$upstream_port" "$serving" "$serving_port" "$other" || die "could not build the status report (see the line above)"
