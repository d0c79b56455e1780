#!/usr/bin/env bash
# host-stop.sh --reason lifecycle|spot: the clean stop of the environment's host before it goes
# away (started by interruption-watch.sh when the Auto Scaling group marks the instance for
# termination, or when EC2 announces a Spot interruption). In this order:
#
#  1. stop the app: APP_STOP_CMD (the serving colour's web containers: no new writes);
#  2. flush: PG_FLUSH_CMD (PostgreSQL CHECKPOINT) and REDIS_FLUSH_CMD (Redis SAVE), while the
#     shared services still run;
#  3. stop the shared services: SERVICES_STOP_CMD (PostgreSQL and Redis shut down cleanly, and
#     nothing holds files on the volume any more);
#  4. sync, unmount DOCKER_VOLUMES_DIR (the bind) and DATA_MOUNT_POINT;
#  5. detach DATA_VOLUME_ID (ec2 detach-volume) and wait until EC2 reports it `available`, at most
#     DETACH_TIMEOUT seconds, so the next host can attach it at once;
#  6. with --reason lifecycle: complete the group's lifecycle action (LIFECYCLE_HOOK_NAME on
#     ASG_NAME): CONTINUE when the volume was unmounted and detached, ABANDON otherwise (both let the
#     instance go; ABANDON leaves the failure in the group's activity history). A Spot stop does not
#     complete anything: the group marks the instance Terminated afterwards, and the watcher then
#     runs this again with --reason lifecycle, which finds every step done and completes the hook.
#
# Each finished step is recorded in LIFECYCLE_RUN_DIR (on the root file system), so a second run
# skips what is done. A step that fails is reported and the safe steps after it still run, except
# that a volume that could not be unmounted is never detached (a forced detach can lose writes).
#
# Exits 0 when every step succeeded; 1 when a step failed (each failure is logged, and the last line
# says what state the volume is in); 2 on a usage or settings error.
set -euo pipefail

HOST_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/host/lifecycle-lib.sh
. "$HOST_SCRIPT_DIR/lifecycle-lib.sh"

DATA_VOLUME_ID=${DATA_VOLUME_ID:-}
DATA_MOUNT_POINT=${DATA_MOUNT_POINT:-}
DOCKER_VOLUMES_DIR=${DOCKER_VOLUMES_DIR:-/var/lib/docker/volumes}
APP_STOP_CMD=${APP_STOP_CMD:-}
PG_FLUSH_CMD=${PG_FLUSH_CMD:-}
REDIS_FLUSH_CMD=${REDIS_FLUSH_CMD:-}
SERVICES_STOP_CMD=${SERVICES_STOP_CMD:-}
ASG_NAME=${ASG_NAME:-}
LIFECYCLE_HOOK_NAME=${LIFECYCLE_HOOK_NAME:-}
DETACH_TIMEOUT=${DETACH_TIMEOUT:-90}
DETACH_POLL_SECONDS=${DETACH_POLL_SECONDS:-2}

reason=
while [ "$#" -gt 0 ]; do
  case $1 in
    --reason)
      reason=${2:-}
      shift 2 || true
      ;;
    *) die -c 2 "usage: host-stop.sh --reason lifecycle|spot" ;;
  esac
done
case $reason in lifecycle | spot) ;; *) die -c 2 "usage: host-stop.sh --reason lifecycle|spot" ;; esac
require_settings DATA_VOLUME_ID DATA_MOUNT_POINT APP_STOP_CMD SERVICES_STOP_CMD
[ "$reason" = spot ] || require_settings ASG_NAME LIFECYCLE_HOOK_NAME
for setting in DETACH_TIMEOUT DETACH_POLL_SECONDS; do
  [[ ${!setting} =~ ^[0-9]+$ ]] || die -c 2 "$setting must be a whole number of seconds, got '${!setting}'"
done

mkdir -p "$LIFECYCLE_RUN_DIR"
done_step() { [ -e "$LIFECYCLE_RUN_DIR/$1" ]; }
record_step() { : >"$LIFECYCLE_RUN_DIR/$1"; }
failures=()
failed() {
  log "error: $*"
  failures+=("$*")
}

instance=$(instance_id) || die "could not read this instance's id from IMDSv2: nothing stopped"
log "clean stop of $instance ($reason)"

# 1-3. The app, the flush, the shared services.
if done_step app-stopped; then log "app already stopped"; elif run_setting "$APP_STOP_CMD"; then record_step app-stopped && log "app stopped"; else failed "stopping the app (APP_STOP_CMD) failed"; fi
if done_step flushed; then
  log "already flushed"
else
  flushed=true
  if [ -n "$PG_FLUSH_CMD" ]; then
    if run_setting "$PG_FLUSH_CMD"; then log "PostgreSQL checkpoint written"; else flushed=false && failed "PostgreSQL CHECKPOINT (PG_FLUSH_CMD) failed; stopping the services still shuts it down with a checkpoint of its own"; fi
  fi
  if [ -n "$REDIS_FLUSH_CMD" ]; then
    if run_setting "$REDIS_FLUSH_CMD"; then log "Redis snapshot saved"; else flushed=false && failed "Redis SAVE (REDIS_FLUSH_CMD) failed"; fi
  fi
  if $flushed; then record_step flushed; fi
fi
if done_step services-stopped; then log "services already stopped"; elif run_setting "$SERVICES_STOP_CMD"; then record_step services-stopped && log "shared services stopped"; else failed "stopping the shared services (SERVICES_STOP_CMD) failed"; fi

# 4. Unmount: the bind first, then the volume. Never lazily: a detach must find nothing open.
sync
unmounted=true
for target in "$DOCKER_VOLUMES_DIR" "$DATA_MOUNT_POINT"; do
  if mountpoint -q "$target"; then
    if error=$(umount "$target" 2>&1); then log "unmounted $target"; else
      unmounted=false
      failed "could not unmount $target (${error//$'\n'/ }); holders: $(fuser -vm "$target" 2>&1 | tr -s ' \n' ' ' || true)"
      break
    fi
  fi
done

# 5. Detach and wait.
detached=false
if ! $unmounted; then
  log "the volume is still mounted: NOT detaching $DATA_VOLUME_ID (EC2 detaches it when the instance terminates, crash-consistent)"
elif done_step detached; then
  detached=true
  log "$DATA_VOLUME_ID already detached"
else
  if error=$(aws_cli ec2 detach-volume --volume-id "$DATA_VOLUME_ID" --instance-id "$instance" --output text 2>&1 >/dev/null); then
    deadline=$((SECONDS + DETACH_TIMEOUT))
    while :; do
      state=$(aws_cli ec2 describe-volumes --volume-ids "$DATA_VOLUME_ID" --query 'Volumes[0].State' --output text 2>&1) || state="unknown (${state//$'\n'/ })"
      if [ "$state" = available ]; then
        detached=true
        record_step detached
        log "$DATA_VOLUME_ID detached (available)"
        break
      fi
      if [ "$SECONDS" -ge "$deadline" ]; then
        failed "$DATA_VOLUME_ID was not available within ${DETACH_TIMEOUT}s (state $state)"
        break
      fi
      sleep "$DETACH_POLL_SECONDS"
    done
  else
    failed "ec2 detach-volume $DATA_VOLUME_ID failed: ${error//$'\n'/ }"
  fi
fi

# 6. The lifecycle action.
if [ "$reason" = lifecycle ]; then
  result=CONTINUE
  $detached || result=ABANDON
  if error=$(aws_cli autoscaling complete-lifecycle-action --lifecycle-hook-name "$LIFECYCLE_HOOK_NAME" --auto-scaling-group-name "$ASG_NAME" \
    --instance-id "$instance" --lifecycle-action-result "$result" --output text 2>&1 >/dev/null); then
    log "lifecycle action completed: $result"
  else
    failed "completing the lifecycle action ($result) failed: ${error//$'\n'/ }; the group lets the instance go when the hook's heartbeat times out"
  fi
else
  log "Spot interruption: the lifecycle action is completed when the group marks this instance Terminated"
fi

if [ "${#failures[@]}" -eq 0 ]; then
  log "clean stop done: app and services stopped, flushed, $DATA_VOLUME_ID unmounted and detached"
  exit 0
fi
if $detached; then
  log "clean stop finished with ${#failures[@]} failure(s); $DATA_VOLUME_ID is unmounted and detached"
else
  log "clean stop FAILED with ${#failures[@]} failure(s); $DATA_VOLUME_ID is $($unmounted && echo 'unmounted but still attached' || echo 'still mounted')"
fi
exit 1
