#!/usr/bin/env bash
# rollback.sh: put the previous good release (from the state file) back, by commit, without any
# `git fetch`: it works with the git remote unreachable. The rolled-back release becomes current
# and the release it replaced becomes previous, so a second rollback undoes the first.
# If the previous release does not come up healthy, the current one is put back.
#
# Exit codes: 0 rolled back; 1 rollback failed, current release restored; 3 rollback failed and
# the current release could not be restored; 65 refused (no previous release, drift, disk, env
# file, state file); 75 another deploy or rollback holds the lock.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$#" -eq 0 ] || die -c 2 "usage: rollback.sh   (takes no arguments: the target is the state file's previous release)"

trap lock_release EXIT
lock_acquire rollback "ref=previous"
audit rollback started "rollback requested"

state_check
[ -f "$STATE_FILE" ] || die -c 65 "refusing to roll back: no state file $STATE_FILE (nothing was deployed by deploy.sh yet)"
target_commit=$(state_get previous.commit)
target_ref=$(state_get previous.ref)
current_commit=$(state_get current.commit)
current_ref=$(state_get current.ref)
if [ -z "$target_commit" ]; then
  audit rollback refused "no previous release recorded"
  die -c 65 "refusing to roll back: $STATE_FILE records no previous release"
fi
require_checkout
if ! app_git cat-file -e "$target_commit^{commit}" 2>/dev/null; then
  audit rollback refused "previous commit missing from the checkout" "commit=$target_commit"
  die -c 65 "refusing to roll back: commit $target_commit of $target_ref is not in $APP_DIR (rollback never fetches)"
fi
check_drift rollback
preflight_disk rollback
# shellcheck source=scripts/host/secrets.sh
. "$HOST_SCRIPT_DIR/secrets.sh" && render_env_file rollback "ref=$target_ref" # from Parameter Store (scripts/host/secrets.sh)
preflight_env_file rollback

log "rolling back from $current_ref (${current_commit:0:12}) to $target_ref (${target_commit:0:12})"
if release_start "$target_commit" "$target_ref"; then
  state_promote rollback "$target_ref" "$target_commit"
  audit rollback ok "rolled back" "ref=$target_ref" "commit=$target_commit" "replaced=$current_commit"
  log "rolled back to $target_ref (${target_commit:0:12}); state recorded in $STATE_FILE"
  exit 0
fi

failure=$RELEASE_ERROR
log "rollback to $target_ref failed: $failure"
if release_restore "$current_commit" "$current_ref" "$RELEASE_PHASE"; then
  audit rollback failed "$failure; current release restored" "ref=$target_ref" "commit=$target_commit" "restored=$current_commit"
  die -c 1 "rollback to $target_ref failed: $failure. The current release $current_ref (${current_commit:0:12}) is back and healthy; the state file is unchanged"
fi
audit rollback critical "$failure; restoring the current release failed: $RESTORE_ERROR" "ref=$target_ref" "restore=$current_commit"
die -c 3 "rollback to $target_ref failed: $failure. Restoring $current_ref (${current_commit:0:12}) ALSO failed: $RESTORE_ERROR. The service may be down: act now"
