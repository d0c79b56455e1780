#!/usr/bin/env bash
# deploy.sh <git-ref>: deploy a branch, tag, <remote>/<branch> or commit of the app on this host.
#
# Takes the deploy lock, refuses a drifted checkout, checks disk space and the env file, fetches
# and checks out the ref, validates the compose file, pulls and builds, starts the release with
# Compose and waits for HEALTH_URL. On success the release is recorded in the state file (current
# and previous, by commit). On failure the previous good release is put back and must be healthy
# again; the script exits non-zero with the reason. Every attempt is appended to the audit log.
#
# Exit codes: 0 deployed; 1 deploy failed, previous release restored; 2 bad usage or unknown ref;
# 3 deploy failed and the previous release could not be restored (act now); 65 refused before any
# change (drift, disk, env file, state file); 75 another deploy or rollback holds the lock.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { die -c 2 "usage: deploy.sh <git-ref>   (a branch, tag, $GIT_REMOTE/<branch> or commit sha)"; }

[ "$#" -eq 1 ] || usage
ref=$1
validate_ref "$ref" || die -c 2 "'$ref' is not an acceptable git ref (letters, digits, '._/-'; no '..', no leading '-')"

trap lock_release EXIT
lock_acquire deploy "ref=$ref"
audit deploy started "deploy requested" "ref=$ref"

# refuse ... : audit and exit 65 before anything changed.
refuse() {
  audit deploy refused "$1" "ref=$ref"
  die -c 65 "refusing to deploy $ref: $1"
}

state_check
require_checkout
check_drift deploy
preflight_disk deploy
# shellcheck source=scripts/host/secrets.sh
. "$HOST_SCRIPT_DIR/secrets.sh" && render_env_file deploy "ref=$ref" # from Parameter Store (scripts/host/secrets.sh)
preflight_env_file deploy

log "fetching from $GIT_REMOTE"
if ! fetch_error=$(app_git fetch --prune --tags --force "$GIT_REMOTE" 2>&1 9>&-); then
  refuse "git fetch from $GIT_REMOTE failed: $fetch_error"
fi
if ! commit=$(resolve_ref "$ref"); then
  audit deploy failed "unknown ref" "ref=$ref"
  die -c 2 "unknown ref '$ref': not a branch, tag or commit of $GIT_REMOTE after fetching; nothing was changed"
fi

# The release to put back on failure: the recorded current release, else what is checked out now.
previous_commit=$(state_get current.commit)
previous_ref=$(state_get current.ref)
if [ -z "$previous_commit" ]; then
  previous_commit=$(app_git rev-parse HEAD)
  previous_ref="the checkout before the first recorded deploy"
fi

log "deploying $ref (${commit:0:12}); previous release: $previous_ref (${previous_commit:0:12})"
if release_start "$commit" "$ref" pull; then
  state_promote deploy "$ref" "$commit"
  audit deploy ok "deployed" "ref=$ref" "commit=$commit" "previous=$previous_commit"
  log "deployed $ref (${commit:0:12}); state recorded in $STATE_FILE"
  exit 0
fi

failure=$RELEASE_ERROR
log "deploy of $ref failed: $failure"
if release_restore "$previous_commit" "$previous_ref" "$RELEASE_PHASE"; then
  audit deploy failed "$failure; previous release restored" "ref=$ref" "commit=$commit" "restored=$previous_commit"
  die -c 1 "deploy of $ref failed: $failure. The previous release $previous_ref (${previous_commit:0:12}) is back and healthy; the state file is unchanged"
fi
audit deploy critical "$failure; restoring the previous release failed: $RESTORE_ERROR" "ref=$ref" "commit=$commit" "restore=$previous_commit"
die -c 3 "deploy of $ref failed: $failure. Restoring $previous_ref (${previous_commit:0:12}) ALSO failed: $RESTORE_ERROR. The service may be down: run status and act now"
