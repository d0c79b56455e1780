#!/usr/bin/env bash
# rollback.sh: go back to the last good release, without any `git fetch` (works with the remote
# unreachable).
#  - After an interrupted deploy or rollback (its in-progress record is left): the last good
#    release is the state file's *current* one; it is brought back and the state stays as it is.
#    After an interrupted restore: the app is started again on the database as it is, and that is all.
#  - Otherwise: the state file's *previous* release is put back by commit through release_switch
#    (lib.sh); it becomes current and the release it replaced becomes previous, so a second
#    rollback undoes the first. If it does not come up healthy, the current one is put back.
#
# Exit codes (docs/host-runtime.md): 0 rolled back (or interrupted operation undone); 1 failed,
# current release restored; 2 usage; 3 failed and the current release could not be restored; 4 healthy but
# not recorded, current release put back; 65 refused (no previous release, no state file, drift,
# disk, env file, state file, unwritable state); 75 another deploy or rollback holds the lock;
# 129/130/143 interrupted by a signal.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/host/release.sh
. "$HOST_SCRIPT_DIR/release.sh"
# shellcheck source=scripts/host/switch.sh
. "$HOST_SCRIPT_DIR/switch.sh" # release_change: blue/green or in place (BLUE_GREEN)
# shellcheck source=scripts/host/secrets-lib.sh
. "$HOST_SCRIPT_DIR/secrets-lib.sh" # render_env_file: the env file from Parameter Store

[ "$#" -eq 0 ] || die -c 2 "usage: rollback.sh   (takes no arguments: the target is the last good release)"

at_exit lock_release
lock_acquire rollback "ref=previous"
audit rollback started "rollback requested"
OUTCOME_FAIL_CODE=65 OUTCOME_STATE="nothing was changed"

# refuse ... : audit and exit 65 before anything changed.
refuse() {
  audit rollback refused "$1"
  die -c 65 "refusing to roll back: $1"
}

state_check rollback
if [ -f "$PROGRESS_FILE" ]; then
  interrupted=$(progress_field op)
  if recover_interrupted rollback; then :; else
    if [ "$interrupted" = restore ]; then
      audit rollback ok "the interrupted restore's app is running again; no release was changed"
      log "rolled back nothing: an interrupted restore left the app stopped, and it runs again on the database as it is; run rollback again to go back to the previous release"
    else
      audit rollback ok "the interrupted $interrupted is undone; the last good release serves"
      log "rolled back: the interrupted operation is undone and the state file is unchanged"
    fi
    exit 0
  fi
fi
[ -f "$STATE_FILE" ] || refuse "no state file $STATE_FILE (nothing was deployed by deploy.sh yet)"
target_commit=$(state_get previous.commit)
target_ref=$(state_get previous.ref)
current_commit=$(state_get current.commit)
current_ref=$(state_get current.ref)
[ -n "$target_commit" ] || refuse "$STATE_FILE records no previous release"
require_checkout rollback
if ! app_git cat-file -e "$target_commit^{commit}" 2>/dev/null; then
  refuse "commit $target_commit of $target_ref is not in $APP_DIR (rollback never fetches)"
fi
check_drift rollback
preflight_disk rollback
render_env_file rollback "ref=$target_ref"
preflight_env_file rollback

release_change rollback "$target_ref" "$target_commit" "$current_ref" "$current_commit"
