#!/usr/bin/env bash
# firewall.sh apply [--dry-run] | status
#   The host's own firewall layer (the EC2 security group is the first): inbound FIREWALL_ALLOW
#   (80/tcp and 443/tcp) and nothing else (no SSH: SSM replaces it); outbound stays allowed, so
#   the SSM agent keeps reaching its endpoints. Two backends, chosen by FIREWALL_BACKEND:
#   auto (default: ufw when `ufw` is installed, else nftables), ufw or nftables.
#   ufw: only the differences are applied: missing defaults and rules are added, other rules
#     deleted, then ufw is enabled; ufw keeps established connections (the running SSM session
#     survives `ufw enable`). --dry-run prints the ufw commands without running them.
#   nftables (Amazon Linux 2023, which has no ufw): one table of our own, `table inet NFT_TABLE`,
#     with an input chain (policy drop) accepting loopback, established/related, the ICMP and
#     ICMPv6 types the network needs (neighbour discovery included), DHCP replies and the
#     FIREWALL_ALLOW ports. No output chain, no rule for 22; other tables (Docker's) are never
#     touched. The whole table is one nft script: delete-and-recreate in one transaction, checked
#     with `nft -c -f` before `nft -f`; nothing is run when the live table already matches.
#     The script is kept in NFT_RULES_FILE, included from NFT_BOOT_CONF (what nftables.service
#     loads at boot), and the service is enabled. --dry-run prints the script and the commands.
#   Afterwards FIREWALL_CHECK_URL (the regional SSM endpoint) must still answer; if it does not,
#   ufw is disabled again (nftables: our table is put back as it was, or removed) and the script
#   fails.
#   status: the active backend and the rules it enforces.
#
# Exit codes: 0 applied (status, dry run: printed); 1 a rule command failed, nft rejected the rules
# or the outbound check failed (the previous rules are back); 2 usage or settings; 129/130/143
# interrupted by a signal. A real apply audits started and its outcome.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FIREWALL_BACKEND=${FIREWALL_BACKEND:-auto}
UFW_CMD=${UFW_CMD:-ufw}
NFT_CMD=${NFT_CMD:-nft}
FIREWALL_ALLOW=${FIREWALL_ALLOW:-80/tcp 443/tcp}
FIREWALL_CHECK_URL=${FIREWALL_CHECK_URL-${AWS_REGION:+https://ssm.$AWS_REGION.amazonaws.com}}
nft_table_default=${APP_NAME//-/_}_host
[[ $nft_table_default =~ ^[a-z] ]] || nft_table_default=app_$nft_table_default
NFT_TABLE=${NFT_TABLE:-$nft_table_default}
NFT_RULES_FILE=${NFT_RULES_FILE:-/etc/nftables/$APP_NAME-host.nft}
NFT_BOOT_CONF=${NFT_BOOT_CONF:-/etc/sysconfig/nftables.conf}
NFT_SERVICE=${NFT_SERVICE:-nftables.service}

ufw_() { run_setting "$UFW_CMD" "$@"; }
nft_() { run_setting "$NFT_CMD" "$@"; }
systemctl_() { run_setting "$SYSTEMCTL_CMD" "$@"; }

action="" dry_run=0
for arg in "$@"; do
  case $arg in
    apply | status) action=$arg ;;
    --dry-run) dry_run=1 ;;
    *) action=bad ;;
  esac
done
case $action in apply | status) ;; *) die -c 2 "usage: firewall.sh apply [--dry-run] | status" ;; esac

# The allowed ports, one list for both backends: FIREWALL_ALLOW entries are <port>[/tcp|/udp]
# (a bare port is both protocols, as in ufw).
allow_tcp=() allow_udp=()
for port in $FIREWALL_ALLOW; do
  if ! [[ $port =~ ^[0-9]{1,5}(/(tcp|udp))?$ ]] || ((10#${port%/*} < 1 || 10#${port%/*} > 65535)); then
    die -c 2 "FIREWALL_ALLOW entry '$port' is not <port>[/tcp|/udp] with a port from 1 to 65535"
  fi
  number=$((10#${port%/*}))
  case $port in */tcp) allow_tcp+=("$number") ;; */udp) allow_udp+=("$number") ;; *) allow_tcp+=("$number") allow_udp+=("$number") ;; esac
done

ufw_present() { ufw_ version >/dev/null 2>&1; }
nft_present() { nft_ --version >/dev/null 2>&1; }

case $FIREWALL_BACKEND in
  auto)
    if ufw_present; then backend=ufw why="FIREWALL_BACKEND=auto, ufw is installed"; else backend=nftables why="FIREWALL_BACKEND=auto, ufw is not installed"; fi
    ;;
  ufw | nftables) backend=$FIREWALL_BACKEND why="FIREWALL_BACKEND=$FIREWALL_BACKEND" ;;
  *) die -c 2 "FIREWALL_BACKEND must be auto, ufw or nftables, got '$FIREWALL_BACKEND'" ;;
esac
if [ "$backend" = ufw ]; then
  [ "$FIREWALL_BACKEND" = auto ] || ufw_present || die "ufw is not available ('$UFW_CMD version' failed); install it on the host first"
else
  nft_present || die "nft is not available ('$NFT_CMD --version' failed; $why); install the nftables package on the host first (dnf install -y nftables)"
fi

# outbound_ok: FIREWALL_CHECK_URL (the SSM endpoint) answers, with any HTTP status.
outbound_ok() {
  [ -z "$FIREWALL_CHECK_URL" ] || curl -sS -o /dev/null --max-time 10 "$FIREWALL_CHECK_URL" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# ufw

ufw_status() {
  ufw_ status verbose
  echo
  ufw_ show added
}

ufw_apply() {
  local verbose added port rule keep w step
  verbose=$(ufw_ status verbose)
  added=$(ufw_ show added | grep '^ufw ' || true)

  # The plan: each line is one ufw invocation (arguments after "ufw").
  local -a plan=() wanted=() words
  grep -q '^Default: deny (incoming), allow (outgoing), deny (routed)' <<<"$verbose" ||
    plan+=("default allow outgoing" "default deny incoming" "default deny routed")
  for port in $FIREWALL_ALLOW; do
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
    return 0
  fi
  for step in "${plan[@]}"; do
    if [ "$dry_run" = 1 ]; then
      printf 'ufw %s\n' "$step"
      continue
    fi
    log "ufw $step"
    setting_words words "$step"
    ufw_ "${words[@]}" >&2 || die "'ufw $step' failed"
  done
  if [ "$dry_run" = 1 ]; then
    log "dry run: the ${#plan[@]} command(s) above would be run"
    return 0
  fi

  if ! outbound_ok; then
    ufw_ --force disable >&2 || true
    audit firewall failed "outbound check failed after apply; ufw disabled" "checkUrl=$FIREWALL_CHECK_URL"
    die "after applying the rules $FIREWALL_CHECK_URL no longer answers (the SSM agent needs it); ufw has been disabled again"
  fi
  audit firewall ok "rules applied" "allow=\"$FIREWALL_ALLOW\"" "steps=${#plan[@]}"
  log "firewall applied: inbound $FIREWALL_ALLOW only, outbound allowed"
  ufw_ status verbose
}

# ---------------------------------------------------------------------------------------------
# nftables

# port_match PROTO PORT...: "tcp dport 80" or "tcp dport { 80, 443 }", sorted, as nft lists it.
port_match() {
  local proto=$1 sorted
  shift
  sorted=$(printf '%s\n' "$@" | sort -n -u | paste -s -d ',' | sed 's/,/, /g')
  if [[ $sorted == *,* ]]; then printf '%s dport { %s }' "$proto" "$sorted"; else printf '%s dport %s' "$proto" "$sorted"; fi
}

# nft_table_text: our table exactly as `nft list table` prints it, so the live table can be
# compared with it as text (ICMP types in numeric order, ports sorted).
nft_table_text() {
  local tab=$'\t'
  cat <<EOT
table inet $NFT_TABLE {
${tab}chain input {
${tab}${tab}type filter hook input priority filter; policy drop;
${tab}${tab}iif "lo" accept
${tab}${tab}ct state established,related accept
${tab}${tab}ct state invalid drop
${tab}${tab}icmp type { destination-unreachable, echo-request, time-exceeded, parameter-problem } accept
${tab}${tab}icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, echo-request, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept
${tab}${tab}udp sport 67 udp dport 68 accept
${tab}${tab}ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept
EOT
  [ "${#allow_tcp[@]}" -eq 0 ] || printf '%s%s%s accept\n' "$tab" "$tab" "$(port_match tcp "${allow_tcp[@]}")"
  [ "${#allow_udp[@]}" -eq 0 ] || printf '%s%s%s accept\n' "$tab" "$tab" "$(port_match udp "${allow_udp[@]}")"
  printf '%s}\n}\n' "$tab"
}

# nft_script TABLE_TEXT: a script that replaces our table (and only it) in one transaction:
# `table` creates it if missing so that `delete` cannot fail, then the new definition.
# (`destroy table` would be shorter but needs nft 1.0.8 and Linux 6.3.)
nft_script() {
  printf '#!/usr/sbin/nft -f\n'
  printf '# Managed by scripts/host/firewall.sh for %s: inbound %s only. Local edits are overwritten.\n' "$APP_NAME" "$FIREWALL_ALLOW"
  printf '# Replaces table inet %s alone, atomically; every other table (Docker'"'"'s) is left as it is.\n' "$NFT_TABLE"
  printf 'table inet %s\ndelete table inet %s\n%s\n' "$NFT_TABLE" "$NFT_TABLE" "$1"
}

nft_live_table() { nft_ list table inet "$NFT_TABLE" 2>/dev/null || true; }
include_line() { printf 'include "%s"' "$NFT_RULES_FILE"; }
boot_included() { [ -f "$NFT_BOOT_CONF" ] && grep -qxF "$(include_line)" "$NFT_BOOT_CONF"; }
service_enabled() { systemctl_ is-enabled --quiet "$NFT_SERVICE" >/dev/null 2>&1; }

nft_status() {
  local live wanted
  live=$(nft_live_table)
  wanted=$(nft_table_text)
  if [ -n "$live" ]; then
    printf '%s\n\n' "$live"
    if [ "$live" = "$wanted" ]; then
      echo "table inet $NFT_TABLE matches the wanted rules: inbound $FIREWALL_ALLOW only, outbound allowed"
    else
      echo "table inet $NFT_TABLE differs from the wanted rules (inbound $FIREWALL_ALLOW only): run 'firewall.sh apply'"
    fi
  else
    echo "table inet $NFT_TABLE is not loaded: this host does not filter inbound traffic (run 'firewall.sh apply')"
  fi
  printf 'at boot: %s %s; %s %s; %s %s\n' \
    "$NFT_RULES_FILE" "$([ -f "$NFT_RULES_FILE" ] && echo present || echo missing)" \
    "$NFT_BOOT_CONF" "$(boot_included && echo includes it || echo 'does not include it')" \
    "$NFT_SERVICE" "$(service_enabled && echo enabled || echo 'not enabled')"
}

nft_apply() {
  local table script live new=$NFT_RULES_FILE.new
  table=$(nft_table_text)
  script=$(nft_script "$table")
  live=$(nft_live_table)
  local -a plan=()
  local load=0
  if [ "$live" != "$table" ]; then
    load=1
    plan+=("nft -c -f $new" "nft -f $new" "mv $new $NFT_RULES_FILE")
  elif [ ! -f "$NFT_RULES_FILE" ] || [ "$(cat "$NFT_RULES_FILE")" != "$script" ]; then
    plan+=("write $NFT_RULES_FILE")
  fi
  local include=0 enable=0
  boot_included || { include=1 && plan+=("echo '$(include_line)' >> $NFT_BOOT_CONF"); }
  service_enabled || { enable=1 && plan+=("systemctl enable $NFT_SERVICE"); }

  if [ "${#plan[@]}" -eq 0 ]; then
    log "firewall already applied (nftables, table inet $NFT_TABLE): inbound $FIREWALL_ALLOW only, outbound allowed"
    return 0
  fi
  if [ "$dry_run" = 1 ]; then
    [ "$load" = 0 ] || printf '# %s would hold:\n%s\n\n' "$new" "$script"
    printf '%s\n' "${plan[@]}"
    log "dry run: the ${#plan[@]} command(s) above would be run"
    return 0
  fi

  mkdir -p "$(dirname "$NFT_RULES_FILE")"
  if [ "$load" = 1 ]; then
    printf '%s\n' "$script" >"$new"
    log "nft -c -f $new"
    if ! nft_ -c -f "$new" >&2; then
      rm -f "$new"
      die "nft rejected the generated rules ('nft -c -f' failed, see above); nothing was changed"
    fi
    log "nft -f $new"
    nft_ -f "$new" >&2 || { rm -f "$new"; die "'nft -f $new' failed; the transaction is all or nothing, so nothing was changed"; }
    if ! outbound_ok; then
      local undo=removed
      if [ -n "$live" ]; then
        nft_script "$live" >"$new.previous"
        if nft_ -f "$new.previous" >&2; then undo="put back as it was"; else nft_ delete table inet "$NFT_TABLE" >&2 || true; fi
        rm -f "$new.previous"
      else
        nft_ delete table inet "$NFT_TABLE" >&2 || true
      fi
      rm -f "$new"
      audit firewall failed "outbound check failed after apply; table inet $NFT_TABLE $undo" "backend=nftables" "checkUrl=$FIREWALL_CHECK_URL"
      die "after applying the rules $FIREWALL_CHECK_URL no longer answers (the SSM agent needs it); table inet $NFT_TABLE has been $undo, and the boot-time rules in $NFT_RULES_FILE are unchanged"
    fi
    mv "$new" "$NFT_RULES_FILE"
  elif [ ! -f "$NFT_RULES_FILE" ] || [ "$(cat "$NFT_RULES_FILE")" != "$script" ]; then
    printf '%s\n' "$script" >"$new"
    mv "$new" "$NFT_RULES_FILE"
  fi
  if [ "$include" = 1 ]; then
    log "adding '$(include_line)' to $NFT_BOOT_CONF"
    mkdir -p "$(dirname "$NFT_BOOT_CONF")"
    if [ -s "$NFT_BOOT_CONF" ] && [ -n "$(tail -c 1 "$NFT_BOOT_CONF")" ]; then echo >>"$NFT_BOOT_CONF"; fi
    include_line >>"$NFT_BOOT_CONF"
    echo >>"$NFT_BOOT_CONF"
  fi
  # enable only: starting or restarting nftables.service would flush every table, Docker's too.
  [ "$enable" = 0 ] || systemctl_ enable "$NFT_SERVICE" >&2 || die "'systemctl enable $NFT_SERVICE' failed: the rules are live but will not be loaded at boot"
  audit firewall ok "rules applied" "backend=nftables" "allow=\"$FIREWALL_ALLOW\"" "steps=${#plan[@]}"
  log "firewall applied (nftables, table inet $NFT_TABLE): inbound $FIREWALL_ALLOW only, outbound allowed"
  nft_ list table inet "$NFT_TABLE"
}

# ---------------------------------------------------------------------------------------------

if [ "$action" = status ]; then
  echo "firewall backend: $backend ($why)"
  echo
  if [ "$backend" = ufw ]; then ufw_status; else nft_status; fi
  exit 0
fi
# A real apply changes the rules: its outcome line is owed whatever ends it (lib.sh's EXIT trap).
[ "$dry_run" = 1 ] || audit firewall started "apply requested" "backend=$backend" "allow=\"$FIREWALL_ALLOW\""
if [ "$backend" = ufw ]; then ufw_apply; else nft_apply; fi
[ "$dry_run" = 1 ] || record_applied firewall
