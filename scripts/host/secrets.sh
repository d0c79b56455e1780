#!/usr/bin/env bash
# secrets.sh: the secrets of the running release (names and versions, never values), for the
# secrets document and ops rotate:
#   secrets.sh render                   render the env file now (under the deploy lock), restart nothing
#   secrets.sh versions                 the parameter versions the running release was started with (JSON)
#   secrets.sh restart NAME             after NAME got a new value: render, restart, health check; on
#                                       failure put the previous env file back, restart, health again;
#                                       the version record changes only once the release is healthy
#   secrets.sh audit NAME EVENT RESULT  append security.key_rotation.EVENT to the audit log (ops rotate)
# Rendering and the record are secrets-lib.sh's (deploy and rollback render with it too).
# Setting: SECRETS_RESTART_ARGS (compose arguments of the restart).
#
# Exit codes of restart: 0 restarted healthy on the new values; 1 unhealthy, previous values back
# and healthy; 2 usage; 3 unhealthy and the previous values did not come back healthy, or an interrupted
# restore's app did not come back (act now); 65 refused before any change (missing required
# secret, store unreadable, state file, an interrupted deploy or rollback); 75 lock held;
# 129/130/143 interrupted by a signal.

set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/host/switch.sh
. "$HOST_SCRIPT_DIR/switch.sh" # on_serving: a restart acts on the serving colour (blue/green)

# shellcheck source=scripts/host/secrets-lib.sh
. "$HOST_SCRIPT_DIR/secrets-lib.sh"
SECRETS_RESTART_ARGS=${SECRETS_RESTART_ARGS:-up -d --force-recreate}

# secrets_restart NAME: see the header.
secrets_restart() {
  local name=$1 failure
  at_exit lock_release
  lock_acquire security.key_rotation.restart "secret=$name"
  audit security.key_rotation.restart started "restart with the new value of $name requested" "secret=$name"
  OUTCOME_FAIL_CODE=65 OUTCOME_STATE="nothing was changed"
  state_check security.key_rotation.restart
  require_checkout security.key_rotation.restart
  [ -n "$SECRETS_PATH" ] || die -c 65 "refusing to restart for $name: no secrets are declared for this app (SECRETS_PATH is empty)"
  if [ -f "$PROGRESS_FILE" ]; then
    # An interrupted restore left the app stopped: started again first. An interrupted deploy or
    # rollback left releases half changed: that is for rollback (or deploy) to undo.
    if [ "$(progress_field op)" != restore ]; then
      audit security.key_rotation.restart refused "an interrupted $(progress_field op) is recorded" "secret=$name"
      die -c 65 "refusing to restart for $name: $PROGRESS_FILE records an interrupted $(progress_field op) of $(progress_field ref); run rollback (or deploy) first, then rotate again"
    fi
    resume_restore security.key_rotation.restart || {
      audit security.key_rotation.restart critical "$RESTORE_ERROR" "secret=$name"
      die -c 3 "$RESTORE_ERROR. The service may be down: act now"
    }
  fi
  render_env_file security.key_rotation.restart "secret=$name"
  OUTCOME_FAIL_CODE=3 OUTCOME_STATE="the release may run on either value: run status and act now"
  if on_serving secrets_restart_release; then
    secrets_commit
    audit security.key_rotation.restart ok "restarted healthy with the new value of $name" "secret=$name" "version=$(secrets_version_of "$name")"
    log "restarted with the new value of $name (version $(secrets_version_of "$name")); healthy"
    return 0
  fi
  failure=${HEALTH_ERROR:-compose $SECRETS_RESTART_ARGS failed}
  log "the release is unhealthy with the new value of $name: $failure; putting the previous env file back"
  secrets_revert
  if on_serving secrets_restart_release; then
    audit security.key_rotation.restart failed "unhealthy with the new value of $name ($failure); previous values restored and healthy" "secret=$name"
    die -c 1 "the release was unhealthy with the new value of $name: $failure. The previous values are back and the release is healthy; put the previous value back in Parameter Store too (ops rotate does)"
  fi
  audit security.key_rotation.restart critical "unhealthy with the new value of $name ($failure); previous values restored but still unhealthy: ${HEALTH_ERROR:-}" "secret=$name"
  die -c 3 "the release was unhealthy with the new value of $name: $failure. With the previous values back it is STILL unhealthy: ${HEALTH_ERROR:-compose failed}. The service may be down: run status and act now"
}

# secrets_restart_release: the release restarted on the env file as it is now, then its health
# gate; under blue/green (on_serving) the serving colour's services only, Postgres and Redis stay up.
secrets_restart_release() {
  compose_with "$SECRETS_RESTART_ARGS${IN_COLOUR:+${COLOUR_SERVICES:+ --no-deps $COLOUR_SERVICES}}" && health_wait
}

secrets_main() {
  local action=${1:-}
  case $action in
    versions)
      [ "$#" -eq 1 ] || die -c 2 "usage: secrets.sh versions"
      if [ -f "$SECRETS_STATE_FILE" ]; then cat "$SECRETS_STATE_FILE"; else printf '{"path": null, "versions": {}}\n'; fi
      ;;
    render)
      [ "$#" -eq 1 ] || die -c 2 "usage: secrets.sh render"
      [ -n "$SECRETS_PATH" ] || die -c 65 "no secrets are declared for this app (SECRETS_PATH is empty): nothing to render"
      at_exit lock_release
      lock_acquire secrets-render "path=$SECRETS_PATH"
      render_env_file secrets-render
      # Nothing restarted: the record keeps naming what runs, and this file is what the next start uses.
      rm -f "$SECRETS_STATE_FILE.pending" "$SECRETS_PREVIOUS_FILE"
      log "nothing was restarted: the running release keeps the versions $SECRETS_STATE_FILE names until its next start"
      ;;
    restart)
      if [ "$#" -ne 2 ] || ! [[ $2 =~ ^[A-Z][A-Z0-9_]*$ ]]; then die -c 2 "usage: secrets.sh restart NAME   (a declared secret name, e.g. ENCRYPTION_KEY)"; fi
      secrets_restart "$2"
      ;;
    audit)
      if [ "$#" -ne 4 ] || ! [[ $2 =~ ^[A-Z][A-Z0-9_]*$ ]] || ! [[ $3 =~ ^(started|reencrypt|applied|rolled_back)$ ]] || ! [[ $4 =~ ^(ok|failed|refused|critical)$ ]]; then
        die -c 2 "usage: secrets.sh audit NAME started|reencrypt|applied|rolled_back ok|failed|refused|critical"
      fi
      audit "security.key_rotation.$3" "$4" "ops rotate $2: $3 $4" "secret=$2"
      ;;
    *) die -c 2 "usage: secrets.sh render | versions | restart NAME | audit NAME EVENT RESULT" ;;
  esac
}

secrets_main "$@"
