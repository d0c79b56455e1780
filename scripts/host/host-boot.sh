#!/usr/bin/env bash
# host-boot.sh: what every boot of the environment's host does, in this order, each step only when
# the one before it succeeded (run by the host-boot systemd unit, written by the first boot):
#
#  1. The data volume: data-volume.sh attaches it (waiting while the old host still holds it),
#     mounts it at DATA_MOUNT_POINT and binds Docker's volumes onto it. Without it the app would
#     start on an empty root-disk directory: nothing further runs.
#  2. The environment's address:
#     ADDRESS_MODE=elastic-ip  (always-on environments) associate EIP_ALLOCATION_ID with this
#                              instance (ec2 associate-address, --allow-reassociation: the old
#                              host may still hold it);
#     ADDRESS_MODE=dns         (scheduled environments, auto-assigned public IPv4) UPSERT the A
#                              record RECORD_NAME in HOSTED_ZONE_ID to this instance's public IPv4
#                              with RECORD_TTL seconds;
#     ADDRESS_MODE=none        neither (tests of other parts; never written by the first boot).
#  3. The app: APP_START_CMD (words, no shell): Docker and nginx (nginx's pre-start step points
#     it at the colour the state file records).
#  4. The recorded release: a new instance has a new root volume (no images, containers, env file
#     or installed host scripts), so the release the state file on the data volume records as
#     `current` is deployed again by the environment's reviewed deploy document (DEPLOY_DOCUMENT),
#     sent to this instance through SSM with that commit (pinned: a moved branch never slips in),
#     its output in COMMAND_LOG_GROUP. No release recorded (a new environment): nothing is sent,
#     the first deploy is a person's (ops deploy). Unset DEPLOY_DOCUMENT: step 4 is skipped.
#  5. The host-wide settings on the root volume, each only when a person applied it to this
#     environment before (lib.sh's record_applied notes it in APPLIED_DIR on the data volume):
#     tls           TLS_DOCUMENT (the nginx site; HTTPS from the certificate kept on the data
#                   volume, never a new one from Let's Encrypt while it is valid; the renew timer),
#     firewall      FIREWALL_DOCUMENT with action=apply,
#     backup-timer  BACKUP_DOCUMENT with timerOnly=true (the timer; no backup before the release runs),
#     each sent to this instance through SSM like step 4 and audited (op=host-reapply). An unset
#     document name skips that one. A new environment has applied none: nothing is sent.
#
# Each boot's outcome is one audit line (op=host-boot) in the audit log on the data volume.
# --volume-only: step 1 alone (the first boot runs it before Docker starts, the rest at its end).
#
# Exits 0 when all five (or, with --volume-only, the first) are done; 1 when a step failed (the
# message names it; a failed step 1 or 2 leaves the app not started, a failed step 4 leaves Docker
# and nginx up without the release: run ops deploy with the recorded commit; a failed step 5 names
# the setting not applied again: run its ops command); 2 on a usage or
# settings error. lib/host-runtime/outcomes.ts documents them.
set -euo pipefail

HOST_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/host/lifecycle-lib.sh
. "$HOST_SCRIPT_DIR/lifecycle-lib.sh"

ADDRESS_MODE=${ADDRESS_MODE:-}
EIP_ALLOCATION_ID=${EIP_ALLOCATION_ID:-}
HOSTED_ZONE_ID=${HOSTED_ZONE_ID:-}
RECORD_NAME=${RECORD_NAME:-}
RECORD_TTL=${RECORD_TTL:-60}
APP_START_CMD=${APP_START_CMD:-}
DEPLOY_DOCUMENT=${DEPLOY_DOCUMENT:-}
COMMAND_LOG_GROUP=${COMMAND_LOG_GROUP:-}
STATE_FILE=${STATE_FILE:-${DATA_MOUNT_POINT:-}/deploy_state.json}
TLS_DOCUMENT=${TLS_DOCUMENT:-}
FIREWALL_DOCUMENT=${FIREWALL_DOCUMENT:-}
BACKUP_DOCUMENT=${BACKUP_DOCUMENT:-}
# lib.sh's APPLIED_DIR (STATE_DIR is the data volume's mount point): what was applied before.
APPLIED_DIR=${APPLIED_DIR:-${DATA_MOUNT_POINT:-}/applied}

volume_only=false
case "$#:${1:-}" in
  0:) ;;
  1:--volume-only) volume_only=true ;;
  *) die -c 2 "usage: host-boot.sh [--volume-only] (settings from the environment or $LIFECYCLE_ENV_FILE)" ;;
esac
case $ADDRESS_MODE in
  elastic-ip) require_settings EIP_ALLOCATION_ID APP_START_CMD ;;
  dns) require_settings HOSTED_ZONE_ID RECORD_NAME APP_START_CMD ;;
  none) require_settings APP_START_CMD ;;
  *) die -c 2 "ADDRESS_MODE must be elastic-ip, dns or none, got '$ADDRESS_MODE'" ;;
esac
[[ $RECORD_TTL =~ ^[0-9]+$ ]] || die -c 2 "RECORD_TTL must be a whole number of seconds, got '$RECORD_TTL'"
[[ -z $EIP_ALLOCATION_ID || $EIP_ALLOCATION_ID =~ ^eipalloc-[0-9a-f]+$ ]] || die -c 2 "EIP_ALLOCATION_ID '$EIP_ALLOCATION_ID' is not an allocation id (eipalloc-…)"
[[ -z $HOSTED_ZONE_ID || $HOSTED_ZONE_ID =~ ^Z[A-Z0-9]+$ ]] || die -c 2 "HOSTED_ZONE_ID '$HOSTED_ZONE_ID' is not a hosted zone id (Z…)"
[[ -z $RECORD_NAME || $RECORD_NAME =~ ^[a-z0-9.-]+$ ]] || die -c 2 "RECORD_NAME '$RECORD_NAME' is not a lower-case DNS name"
for document in DEPLOY_DOCUMENT TLS_DOCUMENT FIREWALL_DOCUMENT BACKUP_DOCUMENT; do
  [[ -z ${!document} || ${!document} =~ ^[A-Za-z0-9_.-]+$ ]] || die -c 2 "$document '${!document}' is not an SSM document name"
  [ -z "${!document}" ] || require_settings COMMAND_LOG_GROUP
done

# recorded_commit: the commit the state file records as `current` (empty when none is recorded or
# there is no state file yet); returns 1 with the reason on stdout when the file is not readable JSON.
recorded_commit() {
  [ -f "$STATE_FILE" ] || return 0
  python3 "$HOST_SCRIPT_DIR/recorded_commit.py" "$STATE_FILE"
}

# send_document DOCUMENT COMMENT [PARAMETERS]: send DOCUMENT to this instance ($instance), its
# output in COMMAND_LOG_GROUP; the command id on stdout, or the CLI's error (one line) and status 1.
send_document() {
  local -a parameters=()
  [ -z "${3:-}" ] || parameters=(--parameters "$3")
  local out
  out=$(aws_cli ssm send-command --document-name "$1" --instance-ids "$instance" "${parameters[@]}" --comment "$2" \
    --cloud-watch-output-config "CloudWatchOutputEnabled=true,CloudWatchLogGroupName=$COMMAND_LOG_GROUP" \
    --query Command.CommandId --output text 2>&1) || { printf '%s' "${out//$'\n'/ }"; return 1; }
  printf '%s' "$out"
}

# 1. The data volume (settings DATA_* pass through the environment to data-volume.sh).
log "step 1/5: data volume"
bash "$HOST_SCRIPT_DIR/data-volume.sh" || die "the data volume is not mounted (data-volume.sh failed): the app is not started; fix the volume, then run host-boot.sh again"
if $volume_only; then
  log "data volume mounted (--volume-only: the address and the app follow at the end of the first boot)"
  exit 0
fi

# From here the volume is mounted: each outcome is audited there.
fail() {
  audit host-boot failed "$*"
  die "$@"
}

# A new boot: the steps a previous stop recorded belong to the instance that is gone.
rm -rf "$LIFECYCLE_RUN_DIR"

# 2. The address.
instance=$(instance_id) || fail "could not read this instance's id from IMDSv2: the address is not moved and the app is not started"
case $ADDRESS_MODE in
  elastic-ip)
    log "step 2/5: associating $EIP_ALLOCATION_ID with $instance"
    error=$(aws_cli ec2 associate-address --allocation-id "$EIP_ALLOCATION_ID" --instance-id "$instance" --allow-reassociation --output text 2>&1 >/dev/null) ||
      fail "associating the Elastic IP $EIP_ALLOCATION_ID with $instance failed: ${error//$'\n'/ }; the app is not started"
    ;;
  dns)
    ip=$(imds_get meta-data/public-ipv4) || fail "this instance has no public IPv4 address in IMDS (the subnet must auto-assign one): the record is not updated and the app is not started"
    [[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "IMDS returned '$ip' as the public IPv4 address: the record is not updated and the app is not started"
    log "step 2/5: UPSERT $RECORD_NAME A $ip (TTL $RECORD_TTL) in $HOSTED_ZONE_ID"
    batch=$(printf '{"Comment":"host-boot.sh on %s","Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"%s","Type":"A","TTL":%d,"ResourceRecords":[{"Value":"%s"}]}}]}' "$instance" "$RECORD_NAME" "$RECORD_TTL" "$ip")
    error=$(aws_cli route53 change-resource-record-sets --hosted-zone-id "$HOSTED_ZONE_ID" --change-batch "$batch" --output text 2>&1 >/dev/null) ||
      fail "updating $RECORD_NAME in $HOSTED_ZONE_ID failed: ${error//$'\n'/ }; the app is not started"
    ;;
  none) log "step 2/5: no address to move (ADDRESS_MODE=none)" ;;
esac

# 3. The app.
log "step 3/5: starting the app"
run_setting "$APP_START_CMD" || fail "the app did not start (APP_START_CMD failed); the volume is mounted and the address is this host's: see the app's logs, then run host-boot.sh again"
# 4. The recorded release.
release=none
if [ -z "$DEPLOY_DOCUMENT" ]; then
  log "step 4/5: no DEPLOY_DOCUMENT: the recorded release is not started by this boot"
elif ! recorded=$(recorded_commit); then
  fail "the state file $STATE_FILE cannot be read ($recorded): the recorded release is not started; fix the state file, then run ops deploy"
elif [ -z "$recorded" ]; then
  log "step 4/5: $STATE_FILE records no release (a new environment): nothing to start; the first deploy is a person's (ops deploy)"
else
  log "step 4/5: deploying the recorded release ${recorded:0:12} again ($DEPLOY_DOCUMENT through SSM, output in $COMMAND_LOG_GROUP)"
  command_id=$(send_document "$DEPLOY_DOCUMENT" "host-boot: the recorded release on replacement $instance" "gitRef=$recorded,requestedBy=host-boot") ||
    fail "sending $DEPLOY_DOCUMENT for the recorded release $recorded failed: $command_id; Docker and nginx run without it: run ops deploy --ref $recorded"
  release="$recorded (command $command_id)"
  log "the deploy of $recorded runs as SSM command $command_id"
fi

# 5. The host-wide settings applied before (each on its own: one that fails does not hold back the others).
reapplied=() reapply_failed=()
# reapply NAME DOCUMENT OPS_COMMAND [PARAMETERS]
reapply() {
  local name=$1 document=$2 ops=$3 command_id
  if [ ! -f "$APPLIED_DIR/$name" ]; then
    log "step 5/5: $name was never applied to this environment: not sent"
  elif [ -z "$document" ]; then
    log "step 5/5: $name was applied before, but this host has no document for it: run $ops"
    reapply_failed+=("$name")
  elif command_id=$(send_document "$document" "host-boot: $name again on replacement $instance" "${4:-}"); then
    audit host-reapply ok "$document sent to $instance: $name as applied before" "setting=$name" "document=$document" "command=$command_id"
    log "step 5/5: $name applied again: $document runs as SSM command $command_id"
    reapplied+=("$name")
  else
    audit host-reapply failed "sending $document to $instance failed: $command_id" "setting=$name" "document=$document"
    log "error: step 5/5: sending $document ($name) failed: $command_id; run $ops"
    reapply_failed+=("$name")
  fi
}
reapply tls "$TLS_DOCUMENT" 'ops tls' 'dryRun=false'
reapply firewall "$FIREWALL_DOCUMENT" 'ops firewall --apply' 'action=apply,dryRun=false'
reapply backup-timer "$BACKUP_DOCUMENT" 'ops backup' 'timerOnly=true'
settings="applied again: ${reapplied[*]:-none}"
[ "${#reapply_failed[@]}" -eq 0 ] ||
  fail "host serves on $instance, but not applied again: ${reapply_failed[*]} (see the lines above for the ops command to run); recorded release: $release"
audit host-boot ok "host ready on $instance: data volume mounted, address moved ($ADDRESS_MODE), app started, recorded release: $release; $settings" "instance=$instance"
log "host ready: data volume mounted, address moved ($ADDRESS_MODE), app started, recorded release: $release; $settings"
