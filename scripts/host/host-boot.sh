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
#  3. The app: APP_START_CMD (words, no shell).
#
# --volume-only: step 1 alone (the first boot runs it before Docker starts, the rest at its end).
#
# Exits 0 when all three (or, with --volume-only, the first) are done; 1 when a step failed (the message names it, and the app is not
# started); 2 on a usage or settings error.
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

# 1. The data volume (settings DATA_* pass through the environment to data-volume.sh).
log "step 1/3: data volume"
bash "$HOST_SCRIPT_DIR/data-volume.sh" || die "the data volume is not mounted (data-volume.sh failed): the app is not started; fix the volume, then run host-boot.sh again"
if $volume_only; then
  log "data volume mounted (--volume-only: the address and the app follow at the end of the first boot)"
  exit 0
fi

# A new boot: the steps a previous stop recorded belong to the instance that is gone.
rm -rf "$LIFECYCLE_RUN_DIR"

# 2. The address.
instance=$(instance_id) || die "could not read this instance's id from IMDSv2: the address is not moved and the app is not started"
case $ADDRESS_MODE in
  elastic-ip)
    log "step 2/3: associating $EIP_ALLOCATION_ID with $instance"
    error=$(aws_cli ec2 associate-address --allocation-id "$EIP_ALLOCATION_ID" --instance-id "$instance" --allow-reassociation --output text 2>&1 >/dev/null) ||
      die "associating the Elastic IP $EIP_ALLOCATION_ID with $instance failed: ${error//$'\n'/ }; the app is not started"
    ;;
  dns)
    ip=$(imds_get meta-data/public-ipv4) || die "this instance has no public IPv4 address in IMDS (the subnet must auto-assign one): the record is not updated and the app is not started"
    [[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "IMDS returned '$ip' as the public IPv4 address: the record is not updated and the app is not started"
    log "step 2/3: UPSERT $RECORD_NAME A $ip (TTL $RECORD_TTL) in $HOSTED_ZONE_ID"
    batch=$(printf '{"Comment":"host-boot.sh on %s","Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"%s","Type":"A","TTL":%d,"ResourceRecords":[{"Value":"%s"}]}}]}' "$instance" "$RECORD_NAME" "$RECORD_TTL" "$ip")
    error=$(aws_cli route53 change-resource-record-sets --hosted-zone-id "$HOSTED_ZONE_ID" --change-batch "$batch" --output text 2>&1 >/dev/null) ||
      die "updating $RECORD_NAME in $HOSTED_ZONE_ID failed: ${error//$'\n'/ }; the app is not started"
    ;;
  none) log "step 2/3: no address to move (ADDRESS_MODE=none)" ;;
esac

# 3. The app.
log "step 3/3: starting the app"
run_setting "$APP_START_CMD" || die "the app did not start (APP_START_CMD failed); the volume is mounted and the address is this host's: see the app's logs, then run host-boot.sh again"
log "host ready: data volume mounted, address moved ($ADDRESS_MODE), app started"
