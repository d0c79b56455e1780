#!/usr/bin/env bash
# `npm test`'s pretest step: the host-runtime tests run real programs (git, podman + runc with a
# static busybox image, PostgreSQL, the AWS CLI against a local S3 server, shellcheck, nft in a
# private network namespace, nginx for the blue/green switch and tls.sh's `nginx -t`, pyflakes3 for
# the host's Python programs, Graphviz for the architecture picture). Installs the Debian packages for them when it can (root, or sudo
# without a password), and otherwise stops at once with one line naming what to install.
# Safe to run again: with everything present it only checks, in well under a second.
set -euo pipefail

# One list, used by `npm test` on a developer's machine and by .ci/run (through `npm test`).
PACKAGES=(git podman runc podman-compose busybox-static postgresql postgresql-client awscli shellcheck pyflakes3 nftables nginx util-linux graphviz ca-certificates)

if ! command -v dpkg-query >/dev/null 2>&1; then
  # Not Debian: check the programs themselves and say what is missing.
  missing=()
  for program in git podman runc podman-compose busybox psql aws shellcheck pyflakes3 nft nginx unshare dot; do
    command -v "$program" >/dev/null 2>&1 || missing+=("$program")
  done
  [ -e /usr/lib/postgresql ] || missing+=("PostgreSQL server under /usr/lib/postgresql")
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "npm test: the host tests need these programs, not found on this (non-Debian) machine: ${missing[*]}" >&2
    exit 1
  fi
  exit 0
fi

# One dpkg-query for all: packages it does not know at all are missing too.
installed="$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null | awk '/ install ok installed$/ { print $1 }' || true)"
missing=()
for pkg in "${PACKAGES[@]}"; do
  grep -qx "$pkg" <<<"$installed" || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "npm test: the host tests need Debian packages that are not installed: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "npm test: installing the Debian packages the host tests need: ${missing[*]}" >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Another apt-get or dpkg (unattended upgrades, a second test run) may hold the package locks for
# a while: wait for them, bounded, instead of failing at once. apt waits for the dpkg lock itself
# (DPkg::Lock::Timeout); `apt-get update`'s lists lock is not covered by that option in every apt,
# so a lock failure is also retried here until the same deadline.
lock_wait="${APT_LOCK_WAIT_SECONDS:-600}"
retry_every="${APT_LOCK_RETRY_SECONDS:-5}"
deadline=$((SECONDS + lock_wait))
apt_get() {
  local said=""
  while true; do
    if "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$lock_wait" "$@" >"$log" 2>&1; then
      return 0
    fi
    grep -q 'Could not get lock' "$log" && [ "$SECONDS" -lt "$deadline" ] || return 1
    if [ -z "$said" ]; then
      echo "npm test: waiting up to ${lock_wait} s for the apt lock: $(grep -m 1 'Could not get lock' "$log" | sed 's/^E: //')" >&2
      said=1
    fi
    sleep "$retry_every"
  done
}

if ! { apt_get update -qq && apt_get install -y -qq --no-install-recommends "${missing[@]}"; }; then
  echo "npm test: apt-get could not install ${missing[*]}: $(grep -E '^(E|W):' "$log" | head -n 1 || tail -n 1 "$log")" >&2
  exit 1
fi
