#!/usr/bin/env bash
# How deploy and rollback change the serving release, sourced after lib.sh by deploy.sh and
# rollback.sh (switch.sh's release_change calls it too): the git-ref grammar and what a ref
# resolves to on the remote, drift checks, starting a release (checkout, build, the one-shot
# migration, up, health, smoke), putting the last good one back, and recovering an interrupted run.
# Deliberately free of double opening braces: SSM reads those as document parameters.
# shellcheck disable=SC2034 # RELEASE_PHASE, RELEASE_ERROR, RESTORE_ERROR, RESOLVED_KIND are read by the scripts sourcing this

# ---------------------------------------------------------------------------------------------
# Refs: the grammar, the remote's branches and tags, and drift of the checkout.

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
# Starting a release and putting the last good one back.

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
  OUTCOME_FAIL_CODE=3 OUTCOME_STATE="the in-progress record stays: status shows it, and the next deploy or rollback puts the last good release back first"
  log "$action: switching to $ref (${commit:0:12}); last good release: $good_ref (${good_commit:0:12})"
  if release_start "$commit" "$ref" "$pull"; then
    if state_record "$action" "$ref" "$commit"; then
      release_recorded
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
  release_revert
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

# release_recorded, release_revert: what a release change does with the release's inputs once it
# is recorded, or when it gives it up: the env file rendered for it (secrets-lib.sh) becomes the
# record of the versions that run, or the previous file is put back, so the file and the record
# always describe the release that serves. Nothing to do without declared secrets.
release_recorded() { if declare -F secrets_commit >/dev/null; then secrets_commit; fi; }
release_revert() { if declare -F secrets_revert >/dev/null; then secrets_revert; fi; }

# ---------------------------------------------------------------------------------------------
# Recovering an interrupted deploy, rollback or restore (its in-progress record, lib.sh, is left behind).

# recover_interrupted OP: when an earlier deploy or rollback was interrupted (its record is left
# and, since this process holds the lock, its process is gone), put the last good release back and
# check its health. Returns 0 when there was nothing to recover, 10 when it recovered; exits 3
# when the last good release cannot be brought back.
recover_interrupted() {
  local op=$1 i_op i_ref i_commit i_phase i_pid i_started good_ref good_commit
  [ -f "$PROGRESS_FILE" ] || return 0
  i_op=$(progress_field op)
  if [ "$i_op" = restore ]; then
    # The release did not change: only the app, stopped for pg_restore, needs to run again.
    require_checkout "$op"
    resume_restore "$op" && return 10
    audit "$op" critical "$RESTORE_ERROR" "interrupted=restore"
    die -c 3 "$RESTORE_ERROR. The service may be down: act now (status shows the record $PROGRESS_FILE)"
  fi
  i_ref=$(progress_field ref) i_commit=$(progress_field commit)
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
  # The env file it rendered goes too: the last good release runs on the previous one.
  release_revert
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
