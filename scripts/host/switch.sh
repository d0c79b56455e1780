#!/usr/bin/env bash
# switch.sh: blue/green releases on one host. Sourced by deploy.sh and rollback.sh after lib.sh;
# release_change is the one way they change the serving release.
#
# With BLUE_GREEN=true the app runs as one of two Compose projects, <project>-blue and
# <project>-green, each publishing the app on its own loopback port (BLUE_PORT, GREEN_PORT, given
# to the compose file in COLOUR_PORT_VAR). Postgres and Redis are not part of the colours: they
# stay in the base project (SHARED_SERVICES), and COLOUR_SERVICES names the services a colour runs.
# A release change:
#   1. checks MemAvailable (MEMINFO_FILE) against COLOUR_MEMORY_NEED_MB; too little: the old
#      in-place restart of the serving colour, with a warning in the output and the audit log;
#   2. builds, migrates once, starts the other colour, waits for health and smoke on its own port
#      (any failure: that colour is stopped, the serving one never stopped serving: exit 1);
#   3. points nginx at it: the upstream include file written atomically, `nginx -t`, graceful
#      reload (old workers finish their requests); from here every way out (failure, signal, an
#      unexpected error) leaves the include naming what the state file records (upstream_settle),
#      and nginx's pre-start step on the host derives it from the state file too
#      (nginx-upstream.sh), so a restarted nginx never serves an unrecorded release;
#   4. smokes through nginx (PUBLIC_SMOKE_URL); a failure switches nginx back to the old colour,
#      which is still running, and stops the new one (exit 1, or 3 when switching back fails);
#   5. records the release, its colour and port in the state file (servingColour, servingPort),
#      then lets the old colour drain (DRAIN_SECONDS) and stops it.
# With BLUE_GREEN=false this is release_switch (lib.sh): the in-place restart.
# The audit line of each outcome carries switchMs / switchBackMs, the time nginx took to switch.
# shellcheck disable=SC2034 # RELEASE_ERROR is read by lib.sh
# shellcheck source=scripts/host/nginx-upstream.sh
. "$HOST_SCRIPT_DIR/nginx-upstream.sh" # upstream_text, upstream_recorded, upstream_write: the include, from the state file

BLUE_GREEN=${BLUE_GREEN:-false}
BLUE_PORT=${BLUE_PORT:-3001}
GREEN_PORT=${GREEN_PORT:-3002}
# The variable the compose file publishes the app's port from, e.g. ports: ["127.0.0.1:${APP_HOST_PORT}:3000"].
COLOUR_PORT_VAR=${COLOUR_PORT_VAR:-APP_HOST_PORT}
# Services a colour runs (empty: every service of the file) and those shared by both colours.
COLOUR_SERVICES=${COLOUR_SERVICES:-}
SHARED_SERVICES=${SHARED_SERVICES:-}
NGINX_UPSTREAM_FILE=${NGINX_UPSTREAM_FILE:-/etc/nginx/conf.d/$APP_NAME-upstream.conf}
NGINX_UPSTREAM_NAME=${NGINX_UPSTREAM_NAME:-${APP_NAME//-/_}_app}
NGINX_TEST_CMD=${NGINX_TEST_CMD:-nginx -t}
NGINX_RELOAD_CMD=${NGINX_RELOAD_CMD:-nginx -s reload}
# The master's pid, to see the reload take effect (its new workers) before smoking through it.
NGINX_PID_FILE=${NGINX_PID_FILE:-/run/nginx.pid}
PUBLIC_SMOKE_URL=${PUBLIC_SMOKE_URL:-http://127.0.0.1}
DRAIN_SECONDS=${DRAIN_SECONDS:-5}
MEMINFO_FILE=${MEMINFO_FILE:-/proc/meminfo}
COLOUR_MEMORY_NEED_MB=${COLOUR_MEMORY_NEED_MB:-512}
BASE_COMPOSE_PROJECT=$COMPOSE_PROJECT

case $BLUE_GREEN in true | false) ;; *) die -c 2 "BLUE_GREEN must be true or false, got '$BLUE_GREEN'" ;; esac
for setting in BLUE_PORT GREEN_PORT COLOUR_MEMORY_NEED_MB; do
  [[ ${!setting} =~ ^[0-9]+$ ]] || die -c 2 "$setting must be a whole number, got '${!setting}'"
done
[[ $DRAIN_SECONDS =~ ^[0-9]+(\.[0-9]+)?$ ]] || die -c 2 "DRAIN_SECONDS must be a number of seconds, got '$DRAIN_SECONDS'"
[[ $COLOUR_PORT_VAR =~ ^[A-Z][A-Z0-9_]*$ ]] || die -c 2 "COLOUR_PORT_VAR must be a variable name, got '$COLOUR_PORT_VAR'"
[[ $NGINX_UPSTREAM_NAME =~ ^[A-Za-z0-9_]+$ ]] || die -c 2 "NGINX_UPSTREAM_NAME must be letters, digits and '_', got '$NGINX_UPSTREAM_NAME'"
unset setting

colour_port() { if [ "$1" = green ]; then echo "$GREEN_PORT"; else echo "$BLUE_PORT"; fi; }
colour_other() { if [ "$1" = blue ]; then echo green; else echo blue; fi; }
now_ms() { date +%s%3N; }

# The path of HEALTH_URL (http://host:port/path -> /path), asked of each colour on its own port.
health_path() {
  local rest=${HEALTH_URL#*://}
  case $rest in */*) echo "/${rest#*/}" ;; *) echo / ;; esac
}

# with_colour COLOUR COMMAND...: COMMAND with Compose, health and smoke aimed at COLOUR (its
# project, its port in COLOUR_PORT_VAR, its services). Bash's dynamic scope hands the locals on.
with_colour() {
  local colour=$1 port path
  shift
  port=$(colour_port "$colour")
  path=$(health_path)
  local COMPOSE_PROJECT="$BASE_COMPOSE_PROJECT-$colour"
  # Commands that build their own `up` arguments add `--no-deps` and the colour's services with it.
  local IN_COLOUR=$colour
  local HEALTH_URL="http://127.0.0.1:$port$path"
  local SMOKE_BASE_URL="http://127.0.0.1:$port"
  local COMPOSE_UP_ARGS="$COMPOSE_UP_ARGS${COLOUR_SERVICES:+ --no-deps $COLOUR_SERVICES}"
  local -x "$COLOUR_PORT_VAR=$port"
  "$@"
}

# on_serving COMMAND...: COMMAND aimed at the serving colour (with_colour) when blue/green is on and
# the state file names a colour; otherwise as it is (the in-place project and HEALTH_URL). For the
# operations that act on the running release without changing it: status, secret rotation, restore.
on_serving() {
  local serving=""
  if [ "$BLUE_GREEN" = true ]; then serving=$(state_get servingColour); fi
  if [ -n "$serving" ]; then with_colour "$serving" "$@"; else "$@"; fi
}

# colour_stop: stop the colour with_colour aims at (its project only; shared services stay).
colour_stop() {
  compose down >&2 || warn "could not stop compose project $COMPOSE_PROJECT: stop it by hand (its port is not served by nginx)"
}

# nginx_upstream TEXT: write TEXT as the upstream include file (temporary file in the same
# directory, then rename), check nginx's configuration and reload gracefully. When the check
# fails the old file is put back. Sets NGINX_ERROR on failure; UPSTREAM_TOUCHED once it wrote.
nginx_upstream() {
  local text=$1 old="" had=0 out
  NGINX_ERROR=""
  if [ -f "$NGINX_UPSTREAM_FILE" ]; then old=$(cat "$NGINX_UPSTREAM_FILE") && had=1; fi
  if ! upstream_write "$text"; then
    NGINX_ERROR="cannot write $NGINX_UPSTREAM_FILE"
    return 1
  fi
  UPSTREAM_TOUCHED=1
  if ! out=$(run_setting "$NGINX_TEST_CMD" 2>&1); then
    if [ "$had" = 1 ]; then upstream_write "$old"; else rm -f "$NGINX_UPSTREAM_FILE"; fi
    NGINX_ERROR="'$NGINX_TEST_CMD' refused the new upstream ($(tail -n 1 <<<"$out")); the old file is back"
    return 1
  fi
  nginx_reload || return 1
  # nginx restarted meanwhile, and its pre-start step wrote back what the state file records: again.
  if [ "$(cat "$NGINX_UPSTREAM_FILE" 2>/dev/null)" != "$text" ]; then
    warn "$NGINX_UPSTREAM_FILE changed while nginx reloaded (nginx restarted?): writing it again"
    if ! upstream_write "$text" || ! run_setting "$NGINX_TEST_CMD" >/dev/null 2>&1 || ! nginx_reload; then
      NGINX_ERROR=${NGINX_ERROR:-"$NGINX_UPSTREAM_FILE could not be written and checked again"}
      return 1
    fi
  fi
}

# nginx_reload: the graceful reload, then wait for a new worker. Sets NGINX_ERROR on failure.
nginx_reload() {
  local master before out
  master=$(cat "$NGINX_PID_FILE" 2>/dev/null || true)
  before=$(pgrep -P "${master:-0}" | sort || true)
  if ! out=$(run_setting "$NGINX_RELOAD_CMD" 2>&1); then
    NGINX_ERROR="'$NGINX_RELOAD_CMD' failed (is nginx running?): $(tail -n 1 <<<"$out")"
    return 1
  fi
  nginx_reloaded "$master" "$before"
}

# nginx_reloaded MASTER_PID OLD_WORKERS: wait (at most 5 s) until the master runs a worker that is
# not one of OLD_WORKERS: from then on new connections get the new upstream (the old workers stop
# accepting and finish what they serve). Without a readable pid file, wait one second.
nginx_reloaded() {
  local master=$1 before=$2 i
  if [ -z "$master" ]; then sleep 1 9>&-; return 0; fi
  for ((i = 0; i < 250; i++)); do
    if pgrep -P "$master" | sort | comm -13 <(printf '%s\n' "$before") - | grep -q .; then return 0; fi
    sleep 0.02 9>&-
  done
  warn "nginx (pid $master) started no new worker within 5 s of the reload"
}

# colour_upstream COLOUR: the include aiming nginx at COLOUR's port.
colour_upstream() { upstream_text "$1" "$(colour_port "$1")"; }

# upstream_settle: make the include name what the state file records (before the first blue/green
# change recorded a colour: what it named when this run started) and reload nginx when that
# changed it. Sets SETTLE_ERROR when nginx could not be reloaded (not running: it serves what the
# include names once it starts).
upstream_settle() {
  local recorded colour port text
  SETTLE_ERROR=""
  recorded=$(upstream_recorded 2>/dev/null) || recorded=""
  read -r colour port <<<"$recorded"
  if [ -n "$colour" ]; then
    text=$(upstream_text "$colour" "${port:-$(colour_port "$colour")}")
  elif [ -n "$LEGACY_UPSTREAM_TEXT" ]; then
    text=$LEGACY_UPSTREAM_TEXT
  else
    return 0
  fi
  if ! upstream_write "$text"; then
    SETTLE_ERROR="cannot write $NGINX_UPSTREAM_FILE"
    return 1
  fi
  [ "$UPSTREAM_CHANGED" = 1 ] || return 0
  log "$NGINX_UPSTREAM_FILE names ${colour:-the in-place release} again, as $STATE_FILE records"
  nginx_reload || { SETTLE_ERROR=$NGINX_ERROR; return 1; }
}

# switch_on_exit: every way out of a change that touched the include (lib.sh's EXIT trap) leaves it
# naming what the state file records.
switch_on_exit() {
  [ "${UPSTREAM_TOUCHED:-0}" = 1 ] || return 0
  if upstream_settle; then
    OUTCOME_STATE+="; nginx serves ${old:-the old release}, as the state file records"
  else
    OUTCOME_STATE+="; nginx could not be reloaded ($SETTLE_ERROR): $NGINX_UPSTREAM_FILE names what the state file records, which nginx serves when it starts"
  fi
}

# memory_available_mb: MemAvailable of MEMINFO_FILE in MB (nothing when it cannot be read).
memory_available_mb() { awk '/^MemAvailable:/ { print int($2 / 1024) }' "$MEMINFO_FILE" 2>/dev/null; }

# release_change ACTION REF COMMIT GOOD_REF GOOD_COMMIT [pull]: see the top of this file. Always exits.
release_change() {
  local action=$1 ref=$2 commit=$3 good_ref=$4 good_commit=$5 pull=${6:-} old new available
  [ "$BLUE_GREEN" = true ] || release_switch "$@"
  old=$(state_get servingColour)
  available=$(memory_available_mb)
  if [ -z "$available" ] || [ "$available" -lt "$COLOUR_MEMORY_NEED_MB" ]; then
    local why="only ${available:-an unknown number of} MB available ($MEMINFO_FILE MemAvailable), a second colour needs $COLOUR_MEMORY_NEED_MB MB (COLOUR_MEMORY_NEED_MB)"
    warn "$why: restarting ${old:-the release} in place instead of blue/green; requests may fail during the restart"
    audit "$action" fallback-in-place "$why; in-place restart" "ref=$ref" "colour=${old:-none}" "memAvailableMB=${available:-unknown}" "needMB=$COLOUR_MEMORY_NEED_MB"
    if [ -n "$old" ]; then STATE_COLOUR=$old STATE_PORT=$(colour_port "$old") with_colour "$old" release_switch "$@"; fi
    release_switch "$@"
  fi
  new=$(colour_other "$old")
  if ! progress_write "$action" "$ref" "$commit" starting "$good_ref" "$good_commit"; then
    audit "$action" refused "cannot write the in-progress record" "ref=$ref" "progressFile=$PROGRESS_FILE"
    die -c 65 "refusing to $action $ref: cannot write the in-progress record $PROGRESS_FILE (state directory full or read-only); nothing was changed: free space in or fix $(dirname "$PROGRESS_FILE") and run again"
  fi
  OUTCOME_FAIL_CODE=3 OUTCOME_STATE="the in-progress record stays: status shows it, and the next deploy or rollback puts the last good release back first"
  at_exit switch_on_exit
  log "$action: starting $ref (${commit:0:12}) as $new beside ${old:-the running release}; last good release: $good_ref (${good_commit:0:12})"
  if [ -n "$SHARED_SERVICES" ]; then
    local -a shared
    setting_words shared "$SHARED_SERVICES"
    compose up -d --no-recreate "${shared[@]}" >&2 || warn "could not make sure the shared services ($SHARED_SERVICES) run"
  fi
  if ! with_colour "$new" release_start "$commit" "$ref" "$pull"; then
    colour_failed "$RELEASE_ERROR; ${old:-the running release} kept serving"
  fi
  local t0 switch_ms back_ms
  progress_phase switching
  t0=$(now_ms)
  if ! nginx_upstream "$(colour_upstream "$new")"; then
    colour_failed "nginx did not switch to $new: $NGINX_ERROR; ${old:-the running release} kept serving"
  fi
  switch_ms=$(($(now_ms) - t0))
  log "nginx switched to $new (port $(colour_port "$new")) in ${switch_ms} ms; smoke through nginx at $PUBLIC_SMOKE_URL"
  progress_phase smoke-public
  local failure=""
  if ! release_smoke "$PUBLIC_SMOKE_URL"; then
    failure="$ref failed its smoke checks through nginx at $PUBLIC_SMOKE_URL ($SMOKE_SUMMARY); see why with: npm run ops -- logs --env ${ENV_NAME:-<env>} --since 15m"
  elif ! STATE_COLOUR=$new STATE_PORT=$(colour_port "$new") state_record "$action" "$ref" "$commit"; then
    failure="$ref (${commit:0:12}) passed through nginx but could not be recorded in $STATE_FILE: $STATE_ERROR"
  fi
  if [ -z "$failure" ]; then
    release_recorded
    progress_clear
    # A restart of nginx since the reload put the old colour back in the include: the recorded one again.
    upstream_settle || warn "nginx could not be reloaded on $new ($SETTLE_ERROR); $NGINX_UPSTREAM_FILE names $new, which nginx serves when it starts"
    audit "$action" ok "${action} done: $new serving" "ref=$ref" "commit=$commit" "previous=$good_commit" "colour=$new" "previousColour=${old:-none}" "switchMs=$switch_ms"
    log "$action of $ref (${commit:0:12}) done: $new serves; ${old:-the old release} drains for ${DRAIN_SECONDS}s, then stops"
    sleep "$DRAIN_SECONDS" 9>&-
    if [ -n "$old" ]; then with_colour "$old" colour_stop; else legacy_stop; fi
    exit 0
  fi
  # After the switch: back to the old colour, which never stopped.
  progress_phase switching-back
  local old_text code=1
  [ "$failure" = "${failure#*could not be recorded}" ] || code=4
  log "$action of $ref failed after the switch: $failure; switching nginx back"
  t0=$(now_ms)
  release_revert
  if [ -n "$old" ]; then old_text=$(colour_upstream "$old"); else old_text=$LEGACY_UPSTREAM_TEXT; fi
  if [ -z "$old_text" ] || ! nginx_upstream "$old_text"; then
    progress_phase switch-back-failed
    audit "$action" critical "$failure; switching nginx back to ${old:-the old release} failed: ${NGINX_ERROR:-no old upstream known}" "ref=$ref" "commit=$commit" "colour=$new"
    die -c 3 "$action of $ref failed: $failure. Switching nginx back to ${old:-the old release} ALSO failed: ${NGINX_ERROR:-no old upstream known}. $new still serves: run status and act now"
  fi
  back_ms=$(($(now_ms) - t0))
  with_colour "$new" colour_stop
  app_git -c advice.detachedHead=false checkout --quiet --detach "$good_commit" >&2 || warn "could not check $good_ref out again in $APP_DIR"
  progress_clear
  if [ "$code" = 4 ]; then
    audit "$action" unrecorded "$failure; nginx switched back to ${old:-the old release}" "ref=$ref" "commit=$commit" "colour=${old:-none}" "switchMs=$switch_ms" "switchBackMs=$back_ms"
    die -c 4 "$action of $ref: $failure. nginx is back on ${old:-the old release} ($good_ref) after ${back_ms} ms, as the state file says; fix $(dirname "$STATE_FILE"), then run $action again"
  fi
  audit "$action" failed "$failure; nginx switched back to ${old:-the old release}" "ref=$ref" "commit=$commit" "restored=$good_commit" "colour=${old:-none}" "switchMs=$switch_ms" "switchBackMs=$back_ms"
  die -c 1 "$action of $ref failed: $failure. nginx is back on ${old:-the old release} ($good_ref, ${good_commit:0:12}) after ${back_ms} ms; $new is stopped and the state file is unchanged"
}

# colour_failed MESSAGE: a failure before nginx switched: stop the new colour, check the good
# release out again, audit, exit 1. The serving release was never touched.
colour_failed() {
  log "$action of $ref failed before the switch: $1"
  with_colour "$new" colour_stop
  release_revert
  app_git -c advice.detachedHead=false checkout --quiet --detach "$good_commit" >&2 || warn "could not check $good_ref out again in $APP_DIR"
  # nginx may have been pointed at the new colour (a reload that failed): back to the recorded one.
  if [ "${UPSTREAM_TOUCHED:-0}" = 1 ] && ! upstream_settle; then
    progress_phase switch-back-failed
    audit "$action" critical "$1; nginx could not be reloaded on ${old:-the old release}: $SETTLE_ERROR" "ref=$ref" "commit=$commit" "colour=${old:-none}"
    die -c 3 "$action of $ref failed: $1. nginx could not be reloaded on ${old:-the old release} ($SETTLE_ERROR): $NGINX_UPSTREAM_FILE names it again, so nginx serves it once nginx runs; nothing may serve now: run status and start nginx (systemctl start nginx)"
  fi
  progress_clear
  audit "$action" failed "$1" "ref=$ref" "commit=$commit" "colour=${old:-none}"
  die -c 1 "$action of $ref failed: $1; the state file is unchanged"
}

# The first blue/green change on a host still running the release in place (the base project on
# HEALTH_URL's port): nginx's upstream to go back to, and how to stop that release afterwards.
LEGACY_UPSTREAM_TEXT=""
if [ "$BLUE_GREEN" = true ] && [ -f "$NGINX_UPSTREAM_FILE" ]; then LEGACY_UPSTREAM_TEXT=$(cat "$NGINX_UPSTREAM_FILE"); fi
legacy_stop() {
  if [ -n "$COLOUR_SERVICES" ]; then
    local -a services
    setting_words services "$COLOUR_SERVICES"
    compose stop "${services[@]}" >&2 || warn "could not stop the in-place release's ${COLOUR_SERVICES}"
  else
    compose down >&2 || warn "could not stop the in-place release (compose project $COMPOSE_PROJECT)"
  fi
}

# colour_recover GOOD_COMMIT GOOD_REF: after an interrupted blue/green change (recover_interrupted,
# lib.sh): nginx back on the colour the state file says serves, the other colour stopped, the good
# release checked out, and its health checked. Without a serving colour yet, the in-place restore.
# Sets RESTORE_ERROR on failure.
colour_recover() {
  local good_commit=$1 good_ref=$2 serving
  serving=$(state_get servingColour)
  if [ -z "$serving" ]; then
    with_colour blue colour_stop
    with_colour green colour_stop
    release_restore "$good_commit" "$good_ref" up
    return
  fi
  if ! upstream_settle; then
    RESTORE_ERROR="nginx could not be pointed back at $serving: $SETTLE_ERROR"
    return 1
  fi
  with_colour "$(colour_other "$serving")" colour_stop
  if ! app_git -c advice.detachedHead=false checkout --quiet --detach "$good_commit" >&2; then
    RESTORE_ERROR="git checkout of $good_ref failed"
    return 1
  fi
  # Stopped (an interrupted restore stops it): started again; running: `up` changes nothing.
  if ! with_colour "$serving" app_up_healthy; then
    RESTORE_ERROR="$serving ($good_ref) is not healthy: ${HEALTH_ERROR:-compose $COMPOSE_UP_ARGS failed}"
    return 1
  fi
}

# app_up_healthy: the release as it is (COMPOSE_UP_ARGS, no build), then its health gate.
app_up_healthy() { compose_with "$COMPOSE_UP_ARGS" && health_wait; }

# resume_restore OP: after an interrupted restore (its in-progress record left, its process gone):
# start the app again (the serving colour under blue/green) on the database as it is, say which
# state that is, audit it and remove the record. Returns 0 when healthy; 1 (RESTORE_ERROR) when not,
# the record kept.
resume_restore() {
  local op=$1 key database
  key=$(progress_field ref)
  database=$(restore_database_state)
  log "found an interrupted restore of $key (phase $(progress_field phase), pid $(progress_field pid), started $(progress_field started)): $database; starting the app again"
  if ! on_serving app_up_healthy; then
    RESTORE_ERROR="the app is not healthy after the interrupted restore of $key: ${HEALTH_ERROR:-compose $COMPOSE_UP_ARGS failed}; $database"
    return 1
  fi
  audit "$op" recovered "app started again on the database as it is: $database" "interrupted=restore" "interruptedRef=$key" "phase=$(progress_field phase)"
  progress_clear
  rm -f "$RESTORE_RESULT_FILE" 2>/dev/null || true
  log "the app is healthy again after the interrupted restore of $key: $database"
}
