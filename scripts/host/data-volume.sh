#!/usr/bin/env bash
# data-volume.sh: attach, format-if-empty and mount the environment's data volume before the
# container engine starts. Run by the first-boot user data (lib/host-runtime/first-boot.ts) as root;
# safe to run again at any time (every step checks before it changes anything).
#
#  1. Find the EBS volume DATA_VOLUME_ID: on Nitro instances the NVMe link
#     /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol<hex>. When it is not attached, attach it
#     to this instance (aws ec2 attach-volume, the instance id from IMDSv2), retrying while the
#     volume is still attached to a host being replaced, until DATA_ATTACH_TIMEOUT seconds pass.
#     DATA_VOLUME_DEVICE names the device directly (tests: a loop device).
#  2. Format it (ext4, label DATA_VOLUME_LABEL) ONLY when it carries no signature at all (wipefs
#     and blkid see nothing): a volume holding a file system is never formatted; one holding
#     something else (a partition table, another signature) is refused.
#  3. Mount it by file-system UUID at DATA_MOUNT_POINT (the hosts's STATE_DIR: the state file and
#     the audit log live there), and bind DATA_MOUNT_POINT/docker-volumes onto DOCKER_VOLUMES_DIR,
#     so Compose's named volumes (Postgres data, Redis AOF) live on the volume. Both go to
#     FSTAB_FILE with nofail, so a missing volume does not stop the host from booting into SSM.
#  4. Order the container engine after both mounts (a systemd drop-in with RequiresMountsFor):
#     Docker never starts Postgres on an empty root-disk directory.
#
# Exits 0 when both mounts are in place; 1 when the volume cannot be found, attached, formatted or
# mounted, or holds something other than a file system; 2 on a usage error.
set -euo pipefail

log() { printf '%s data-volume: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

DATA_VOLUME_ID=${DATA_VOLUME_ID:-}
DATA_VOLUME_DEVICE=${DATA_VOLUME_DEVICE:-}
DATA_VOLUME_LABEL=${DATA_VOLUME_LABEL:-app-data}
DATA_MOUNT_POINT=${DATA_MOUNT_POINT:-}
DOCKER_VOLUMES_DIR=${DOCKER_VOLUMES_DIR:-/var/lib/docker/volumes}
DATA_ATTACH_TIMEOUT=${DATA_ATTACH_TIMEOUT:-900}
FSTAB_FILE=${FSTAB_FILE:-/etc/fstab}
SYSTEMD_DIR=${SYSTEMD_DIR:-/etc/systemd/system}
# Command settings are split into words as lib.sh's run_setting does; this script runs alone at
# first boot, from user data (16 KB at most), without lib.sh beside it.
SYSTEMCTL_CMD=${SYSTEMCTL_CMD:-systemctl}
AWS_CMD=${AWS_CMD:-aws}
IMDS_URL=${IMDS_URL:-http://169.254.169.254}

[ "$#" -eq 0 ] || { log "usage: data-volume.sh (settings from the environment)"; exit 2; }
[ -n "$DATA_MOUNT_POINT" ] || { log "DATA_MOUNT_POINT is not set"; exit 2; }
[ -n "$DATA_VOLUME_ID$DATA_VOLUME_DEVICE" ] || { log "set DATA_VOLUME_ID (or DATA_VOLUME_DEVICE)"; exit 2; }
[[ $DATA_VOLUME_LABEL =~ ^[A-Za-z0-9_-]{1,16}$ ]] || { log "DATA_VOLUME_LABEL '$DATA_VOLUME_LABEL' must be 1-16 letters, digits, '-' or '_' (ext4 labels)"; exit 2; }

# The device node of the volume: the NVMe link named after the volume id (no dash), or the Xen name.
volume_device() {
  local link="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${DATA_VOLUME_ID//-/}"
  if [ -e "$link" ]; then readlink -f "$link"; elif [ -e /dev/xvdf ]; then echo /dev/xvdf; fi
}

attach_volume() {
  local token instance deadline=$((SECONDS + DATA_ATTACH_TIMEOUT)) error dev
  local -a aws
  read -r -a aws <<<"$AWS_CMD"
  token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS_URL/latest/api/token") || die "no IMDSv2 token: cannot tell which instance this is"
  instance=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS_URL/latest/meta-data/instance-id") || die "could not read the instance id from IMDS"
  log "attaching $DATA_VOLUME_ID to $instance"
  until error=$("${aws[@]}" ec2 attach-volume --volume-id "$DATA_VOLUME_ID" --instance-id "$instance" --device /dev/sdf --output text 2>&1 >/dev/null); do
    # A replaced host keeps the volume until CloudFormation terminates it: wait for that.
    [ "$SECONDS" -lt "$deadline" ] || die "could not attach $DATA_VOLUME_ID within ${DATA_ATTACH_TIMEOUT}s: $error"
    log "not attached yet ($error); retrying in 10s"
    sleep 10
  done
  until dev=$(volume_device) && [ -n "$dev" ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "$DATA_VOLUME_ID was attached but no device appeared within ${DATA_ATTACH_TIMEOUT}s"
    sleep 2
  done
}

# 1. The device
device=$DATA_VOLUME_DEVICE
if [ -z "$device" ]; then
  device=$(volume_device)
  if [ -z "$device" ]; then
    attach_volume
    device=$(volume_device)
  fi
fi
[ -b "$device" ] || die "$device is not a block device"
log "data volume ${DATA_VOLUME_ID:-(by device)} is $device"

# 2. Format only when nothing is on it
fstype=$(blkid -p -o value -s TYPE "$device" 2>/dev/null || true)
if [ -z "$fstype" ]; then
  signatures=$(wipefs --no-act --noheadings --output TYPE "$device" 2>/dev/null || true)
  [ -z "$signatures" ] || die "$device holds no file system but has signatures ($(paste -sd, - <<<"$signatures")); refusing to format it: inspect it by hand (wipefs $device)"
  log "$device is empty: creating an ext4 file system labelled $DATA_VOLUME_LABEL"
  mkfs.ext4 -q -L "$DATA_VOLUME_LABEL" "$device" || die "mkfs.ext4 on $device failed"
  fstype=ext4
else
  log "$device already holds a $fstype file system: not formatting"
fi
uuid=$(blkid -p -o value -s UUID "$device") || die "could not read the file system UUID of $device"
[ -n "$uuid" ] || die "the $fstype file system on $device has no UUID"

# 3. fstab, then the mounts
bind_source="$DATA_MOUNT_POINT/docker-volumes"
marker="# data-volume.sh"
{
  grep -v -F "$marker" "$FSTAB_FILE" 2>/dev/null || true
  printf 'UUID=%s %s %s defaults,nofail,x-systemd.device-timeout=90 0 2 %s\n' "$uuid" "$DATA_MOUNT_POINT" "$fstype" "$marker"
  printf '%s %s none bind,nofail,x-systemd.requires-mounts-for=%s 0 0 %s\n' "$bind_source" "$DOCKER_VOLUMES_DIR" "$DATA_MOUNT_POINT" "$marker"
} >"$FSTAB_FILE.tmp"
if cmp -s "$FSTAB_FILE.tmp" "$FSTAB_FILE"; then rm -f "$FSTAB_FILE.tmp"; else mv "$FSTAB_FILE.tmp" "$FSTAB_FILE" && log "updated $FSTAB_FILE"; fi

mkdir -p "$DATA_MOUNT_POINT"
if mountpoint -q "$DATA_MOUNT_POINT"; then
  mounted=$(findmnt -n -o SOURCE --target "$DATA_MOUNT_POINT")
  [ "$(readlink -f "$mounted")" = "$(readlink -f "$device")" ] || die "$DATA_MOUNT_POINT is already a mount of $mounted, not of the data volume $device"
  log "$DATA_MOUNT_POINT is mounted"
else
  [ -z "$(ls -A "$DATA_MOUNT_POINT")" ] || log "warning: $DATA_MOUNT_POINT on the root volume is not empty; the data volume is mounted over it (its files stay on the root volume, hidden)"
  mount -T "$FSTAB_FILE" "$DATA_MOUNT_POINT" || die "mounting UUID=$uuid at $DATA_MOUNT_POINT failed"
  log "mounted $device (UUID=$uuid) at $DATA_MOUNT_POINT"
fi

mkdir -p "$bind_source" "$DOCKER_VOLUMES_DIR"
if mountpoint -q "$DOCKER_VOLUMES_DIR"; then
  log "$DOCKER_VOLUMES_DIR is mounted"
else
  mount -T "$FSTAB_FILE" "$DOCKER_VOLUMES_DIR" || die "bind-mounting $bind_source at $DOCKER_VOLUMES_DIR failed"
  log "bound $bind_source at $DOCKER_VOLUMES_DIR"
fi

# 4. The container engine waits for both mounts at every boot
dropin="$SYSTEMD_DIR/docker.service.d/data-volume.conf"
text="[Unit]
RequiresMountsFor=$DATA_MOUNT_POINT $DOCKER_VOLUMES_DIR"
if [ "$(cat "$dropin" 2>/dev/null || true)" != "$text" ]; then
  mkdir -p "$(dirname "$dropin")"
  printf '%s\n' "$text" >"$dropin"
  read -r -a systemctl <<<"$SYSTEMCTL_CMD"
  "${systemctl[@]}" daemon-reload
  log "wrote $dropin"
fi
log "data volume ready: $DATA_MOUNT_POINT ($fstype, UUID=$uuid), $DOCKER_VOLUMES_DIR bound to it"
