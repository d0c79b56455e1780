#!/usr/bin/env bash
# firewall.sh apply [--dry-run] | status
#   apply: UFW allows inbound FIREWALL_ALLOW (80/tcp and 443/tcp) and nothing else (no SSH: SSM
#     replaces it); outbound stays allowed, so the SSM agent keeps reaching its endpoints, and
#     ufw keeps established connections (the running SSM session survives `ufw enable`). Only
#     the differences are applied: missing defaults and rules are added, other rules deleted,
#     then ufw is enabled. Afterwards FIREWALL_CHECK_URL (the regional SSM endpoint) must still
#     answer; if it does not, ufw is disabled again and the script fails.
#     --dry-run prints the ufw commands without running them.
#   status: the rules ufw enforces (`ufw status verbose`) and the rules it was given.
# The EC2 security group is the first firewall; this is the host's own layer.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UFW_CMD=${UFW_CMD:-ufw}
FIREWALL_ALLOW=${FIREWALL_ALLOW:-80/tcp 443/tcp}
FIREWALL_CHECK_URL=${FIREWALL_CHECK_URL-${AWS_REGION:+https://ssm.$AWS_REGION.amazonaws.com}}

ufw_() {
  local -a cmd
  read -r -a cmd <<<"$UFW_CMD"
  "${cmd[@]}" "$@"
}

action="" dry_run=0
for arg in "$@"; do
  case $arg in
    apply | status) action=$arg ;;
    --dry-run) dry_run=1 ;;
    *) action=bad ;;
  esac
done
case $action in apply | status) ;; *) die -c 2 "usage: firewall.sh apply [--dry-run] | status" ;; esac
ufw_ version >/dev/null 2>&1 || die "ufw is not available ('$UFW_CMD version' failed); install it on the host first"

if [ "$action" = status ]; then
  ufw_ status verbose
  echo
  ufw_ show added
  exit 0
fi

verbose=$(ufw_ status verbose)
added=$(ufw_ show added | grep '^ufw ' || true)

# The plan: each line is one ufw invocation (arguments after "ufw").
plan=()
grep -q '^Default: deny (incoming), allow (outgoing), deny (routed)' <<<"$verbose" ||
  plan+=("default allow outgoing" "default deny incoming" "default deny routed")
wanted=()
for port in $FIREWALL_ALLOW; do
  [[ $port =~ ^[0-9]{1,5}(/(tcp|udp))?$ ]] || die -c 2 "FIREWALL_ALLOW entry '$port' is not <port>[/tcp|/udp]"
  wanted+=("ufw allow $port")
  grep -qxF "ufw allow $port" <<<"$added" || plan+=("allow $port")
done
while IFS= read -r rule; do
  [ -n "$rule" ] || continue
  keep=0
  for w in "${wanted[@]}"; do [ "$rule" = "$w" ] && keep=1; done
  [ "$keep" = 1 ] || plan+=("--force delete ${rule#ufw }")
done <<<"$added"
grep -q '^Status: active' <<<"$verbose" || plan+=("--force enable")

if [ "${#plan[@]}" -eq 0 ]; then
  log "firewall already applied: inbound $FIREWALL_ALLOW only, outbound allowed"
  exit 0
fi
for step in "${plan[@]}"; do
  if [ "$dry_run" = 1 ]; then
    printf 'ufw %s\n' "$step"
    continue
  fi
  log "ufw $step"
  read -r -a words <<<"$step"
  ufw_ "${words[@]}" >&2 || die "'ufw $step' failed"
done
if [ "$dry_run" = 1 ]; then
  log "dry run: the ${#plan[@]} command(s) above would be run"
  exit 0
fi

if [ -n "$FIREWALL_CHECK_URL" ] && ! curl -sS -o /dev/null --max-time 10 "$FIREWALL_CHECK_URL" 2>/dev/null; then
  ufw_ --force disable >&2 || true
  audit firewall failed "outbound check failed after apply; ufw disabled" "checkUrl=$FIREWALL_CHECK_URL"
  die "after applying the rules $FIREWALL_CHECK_URL no longer answers (the SSM agent needs it); ufw has been disabled again"
fi
audit firewall ok "rules applied" "allow=\"$FIREWALL_ALLOW\"" "steps=${#plan[@]}"
log "firewall applied: inbound $FIREWALL_ALLOW only, outbound allowed"
ufw_ status verbose
