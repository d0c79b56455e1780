#!/usr/bin/env bash
# interruption-watch.sh [--once]: the host's watch for its own end (the host-interruption systemd
# unit runs it for the life of the instance). Every WATCH_INTERVAL seconds it reads IMDSv2:
#
#  - meta-data/autoscaling/target-lifecycle-state == Terminated: the group is terminating this
#    instance (scale-in, replace-host, a failed health check, or the end of a Spot interruption)
#    and waits on the termination lifecycle hook: run host-stop.sh --reason lifecycle, which
#    completes the hook;
#  - meta-data/spot/instance-action present (EC2's two-minute Spot warning): when the time left
#    before the announced moment allows BACKUP_MIN_SECONDS of backup plus STOP_RESERVE_SECONDS for
#    the stop, run BACKUP_CMD first (cut off at the reserve), then host-stop.sh --reason spot, then
#    keep watching for the lifecycle state above to complete the hook.
# @see https://docs.aws.amazon.com/autoscaling/ec2/userguide/retrieving-target-lifecycle-state-through-imds.html
# @see https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html
#
# --once: look once and act on what is found, then exit (tests, and an operator checking by hand).
# Exits 0 after a lifecycle stop that succeeded, the stop's exit code (1) when it failed; with
# --once, 0 when nothing was announced and the Spot stop's exit code (0 or 1) after one; 2 on a
# usage error. The final backup's outcome is its audit line (op=final-backup), not the exit code. Never exits on an unreadable IMDS:
# it logs it and looks again.
set -euo pipefail

HOST_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/host/lifecycle-lib.sh
. "$HOST_SCRIPT_DIR/lifecycle-lib.sh"

WATCH_INTERVAL=${WATCH_INTERVAL:-5}
BACKUP_CMD=${BACKUP_CMD:-}
BACKUP_MIN_SECONDS=${BACKUP_MIN_SECONDS:-30}
STOP_RESERVE_SECONDS=${STOP_RESERVE_SECONDS:-60}

once=false
case "${1:-}" in
  --once) once=true ;;
  '') ;;
  *) die -c 2 "usage: interruption-watch.sh [--once]" ;;
esac
[ "$#" -le 1 ] || die -c 2 "usage: interruption-watch.sh [--once]"
for setting in WATCH_INTERVAL BACKUP_MIN_SECONDS STOP_RESERVE_SECONDS; do
  [[ ${!setting} =~ ^[0-9]+$ ]] || die -c 2 "$setting must be a whole number of seconds, got '${!setting}'"
done

# seconds_until ISO8601: seconds from now to that moment (negative when past); 0 when unreadable.
seconds_until() {
  local at
  at=$(date -u -d "$1" +%s 2>/dev/null) || {
    echo 0
    return
  }
  echo $((at - $(date -u +%s)))
}

spot_handled=false
spot_rc=0
spot_stop() {
  local notice=$1 when left
  when=$(sed -n 's/.*"time" *: *"\([^"]*\)".*/\1/p' <<<"$notice")
  left=$(seconds_until "$when")
  log "Spot interruption announced for ${when:-an unreadable time} (${left}s left): $notice"
  # The final backup's outcome goes to the audit log (on the data volume, still mounted here).
  local rc
  if [ -z "$BACKUP_CMD" ]; then
    log "no BACKUP_CMD: no final backup"
    audit final-backup skipped "Spot interruption: no BACKUP_CMD is set, no final backup" "secondsLeft=$left"
  elif [ "$left" -ge $((BACKUP_MIN_SECONDS + STOP_RESERVE_SECONDS)) ]; then
    log "final backup first, cut off after $((left - STOP_RESERVE_SECONDS))s to leave ${STOP_RESERVE_SECONDS}s for the stop"
    if run_setting "timeout $((left - STOP_RESERVE_SECONDS)) $BACKUP_CMD"; then
      log "final backup done"
      audit final-backup ok "Spot interruption: final backup done before the clean stop" "secondsLeft=$left"
    else
      rc=$?
      log "warning: the final backup failed or was cut off (exit $rc): the newest scheduled backup stands"
      audit final-backup failed "Spot interruption: the final backup failed or was cut off; the newest scheduled backup stands" "secondsLeft=$left" "exit=$rc"
    fi
  else
    log "no time for a final backup (${left}s left, need $((BACKUP_MIN_SECONDS + STOP_RESERVE_SECONDS))s): stopping at once"
    audit final-backup skipped "Spot interruption: no time for a final backup; the newest scheduled backup stands" "secondsLeft=$left"
  fi
  bash "$HOST_SCRIPT_DIR/host-stop.sh" --reason spot || {
    spot_rc=$?
    log "warning: the Spot stop reported failures (above); the lifecycle hook will still be completed"
  }
  spot_handled=true
}

while :; do
  state=
  if state=$(imds_get meta-data/autoscaling/target-lifecycle-state); then :; else
    code=$?
    state=
    [ "$code" -eq 4 ] || log "warning: could not read the target lifecycle state from IMDS; looking again"
  fi
  if [ "$state" = Terminated ]; then
    log "the group is terminating this instance: clean stop, then the lifecycle hook"
    exec bash "$HOST_SCRIPT_DIR/host-stop.sh" --reason lifecycle
  fi
  if ! $spot_handled; then
    if notice=$(imds_get meta-data/spot/instance-action); then
      spot_stop "$notice"
    elif [ "$?" -ne 4 ]; then
      log "warning: could not read the Spot instance action from IMDS; looking again"
    fi
  fi
  $once && exit "$spot_rc"
  sleep "$WATCH_INTERVAL"
done
