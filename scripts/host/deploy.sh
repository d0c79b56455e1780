#!/usr/bin/env bash
# deploy.sh <git-ref>: deploy a branch, refs/tags/<tag>, <remote>/<branch> or commit of the app.
#
# Takes the deploy lock; first brings the last good release back if an earlier deploy or rollback
# was interrupted (after an interrupted restore: starts the app again on the database as it is); refuses a drifted checkout, low disk or a bad env file; fetches (tags into their
# own namespace, so a moved tag is seen), resolves the ref (a bare name that is both a tag and a
# branch is refused; with REQUIRE_PINNED_REF=true only refs/tags/<tag> or a full sha), then
# switches the release with release_change (switch.sh: blue/green beside the serving colour, or
# release_switch in place): in-progress record, build, migrate, start, health, smoke,
# state record, and the last good release put back on any failure. Every attempt is audited.
#
# Exit codes (docs/host-runtime.md has the state after each and what to run next):
# 0 deployed; 1 failed, last good release restored; 2 bad usage, unknown, ambiguous, moved or
# unpinned ref (nothing changed); 3 failed and the last good release could not be restored (act
# now); 4 healthy but not recorded, last good release put back; 65 refused before any change;
# 75 another deploy or rollback holds the lock; 129/130/143 interrupted by a signal (nginx back on
# the recorded colour, the in-progress record left for the next deploy or rollback).
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/host/release.sh
. "$HOST_SCRIPT_DIR/release.sh"
# shellcheck source=scripts/host/switch.sh
. "$HOST_SCRIPT_DIR/switch.sh" # release_change: blue/green or in place (BLUE_GREEN)
# shellcheck source=scripts/host/secrets-lib.sh
. "$HOST_SCRIPT_DIR/secrets-lib.sh" # render_env_file: the env file from Parameter Store

usage() { die -c 2 "usage: deploy.sh <git-ref>   (a branch, refs/tags/<tag>, $GIT_REMOTE/<branch> or commit sha)"; }

[ "$#" -eq 1 ] || usage
ref=$1
validate_ref "$ref" || die -c 2 "'$ref' is not an acceptable git ref (letters, digits, '_-' and single '.' or '/' between them; no '..', no leading '-' or '.'; at most 200 characters); nothing was changed"
if [ "$REQUIRE_PINNED_REF" = true ] && ! is_pinned_ref "$ref"; then
  die -c 2 "'$ref' is not pinned, and this environment deploys pinned refs only (requirePinnedRef): give refs/tags/<tag> or a full 40-character commit sha; nothing was changed"
fi

at_exit lock_release
lock_acquire deploy "ref=$ref"
audit deploy started "deploy requested" "ref=$ref"
OUTCOME_FAIL_CODE=65 OUTCOME_STATE="nothing was changed"

# refuse ... : audit and exit 65 before anything changed.
refuse() {
  audit deploy refused "$1" "ref=$ref"
  die -c 65 "refusing to deploy $ref: $1"
}

state_check deploy
require_checkout deploy
recover_interrupted deploy || true
check_drift deploy
preflight_disk deploy
render_env_file deploy "ref=$ref"
preflight_env_file deploy

log "fetching from $GIT_REMOTE"
if ! fetch_error=$(fetch_remote); then
  refuse "git fetch from $GIT_REMOTE failed: $fetch_error"
fi
if ! resolve_ref "$ref"; then
  audit deploy refused "$RESOLVE_ERROR" "ref=$ref"
  die -c 2 "$RESOLVE_ERROR; nothing was changed"
fi
commit=$RESOLVED_COMMIT

# The release to put back on failure: the recorded current release, else what is checked out now.
good_commit=$(state_get current.commit)
good_ref=$(state_get current.ref)
if [ -z "$good_commit" ]; then
  good_commit=$(app_git rev-parse HEAD)
  good_ref="the checkout before the first recorded deploy"
fi

release_change deploy "$ref" "$commit" "$good_ref" "$good_commit" pull
