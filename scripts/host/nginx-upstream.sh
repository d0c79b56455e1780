#!/usr/bin/env bash
# nginx-upstream.sh: nginx's upstream include for the blue/green colours, derived from the state
# file, the one record of what serves.
#
#   nginx-upstream.sh   write NGINX_UPSTREAM_FILE for the colour and port the state file records as
#                       serving (servingColour, servingPort); nothing when it records no colour.
#
# nginx's pre-start step on the host: the first boot (lib/host-runtime/nginx.ts) installs this file
# as /usr/local/sbin/<app>-nginx-upstream.sh and a drop-in for nginx.service whose ExecStartPre
# runs it with STATE_FILE, NGINX_UPSTREAM_FILE and NGINX_UPSTREAM_NAME, so an nginx started by
# systemd (a crash restart, a reboot, `systemctl restart nginx`) always serves the recorded
# release, never a colour a killed switch left in the file. switch.sh sources it for the same
# text and the same derivation (upstream_text, upstream_recorded, upstream_write).
# Standalone: lib.sh is not beside it at boot. Python reads the JSON, as lib.sh does.
#
# Exit codes (run on its own): 0 the include names what the state file records, or the state file
# records no colour, or cannot be read (left as it is, with a warning: there is nothing to derive
# it from); 1 the include could not be written (nginx must not start on a file that may name an
# unrecorded release); 2 usage or settings.

# upstream_text LABEL PORT: the include aiming nginx's upstream at 127.0.0.1:PORT.
upstream_text() {
  printf '# Written by scripts/host/switch.sh: the colour serving %s (%s). Local edits are overwritten.\nupstream %s {\n    server 127.0.0.1:%s;\n}' \
    "$APP_NAME" "$1" "$NGINX_UPSTREAM_NAME" "$2"
}

# upstream_recorded: "<colour> <port>" of the serving colour the state file records (port empty
# when the state predates servingPort), nothing when none is recorded; 1 when it cannot be read.
upstream_recorded() {
  [ -f "$STATE_FILE" ] || return 0
  python3 -c '
import json, sys
try:
    state = json.load(open(sys.argv[1]))
    colour, port = state.get("servingColour"), state.get("servingPort")
except Exception as error:
    sys.exit("%s: %s" % (type(error).__name__, error))
if colour is not None and colour not in ("blue", "green"):
    sys.exit("servingColour %r is not blue or green" % (colour,))
if colour is not None:
    print(colour, port if type(port) is int else "")
' "$STATE_FILE"
}

# upstream_write TEXT: make the include TEXT (a temporary file beside it, renamed over it); sets
# UPSTREAM_CHANGED to 1 when it changed, 0 when it already was TEXT. Non-zero when it cannot.
upstream_write() {
  local tmp="$NGINX_UPSTREAM_FILE.tmp.$$"
  UPSTREAM_CHANGED=0
  if [ -f "$NGINX_UPSTREAM_FILE" ] && [ "$(cat "$NGINX_UPSTREAM_FILE")" = "$1" ]; then return 0; fi
  { printf '%s\n' "$1" >"$tmp" && mv -f "$tmp" "$NGINX_UPSTREAM_FILE"; } 2>/dev/null || { rm -f "$tmp" 2>/dev/null; return 1; }
  UPSTREAM_CHANGED=1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  say() { printf '%s nginx-upstream: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
  [ "$#" -eq 0 ] || { say "usage: nginx-upstream.sh   (settings from the environment)"; exit 2; }
  for setting in APP_NAME STATE_FILE NGINX_UPSTREAM_FILE NGINX_UPSTREAM_NAME; do
    [ -n "${!setting:-}" ] || { say "$setting is not set"; exit 2; }
  done
  if ! recorded=$(upstream_recorded 2>&1); then
    say "warning: cannot read the serving colour from $STATE_FILE ($recorded): $NGINX_UPSTREAM_FILE left as it is"
    exit 0
  fi
  read -r colour port <<<"$recorded"
  if [ -z "${colour:-}" ]; then
    say "$STATE_FILE records no serving colour: $NGINX_UPSTREAM_FILE left as it is"
    exit 0
  fi
  if [ -z "${port:-}" ]; then
    port_setting=${colour^^}_PORT
    port=${!port_setting:-}
    [ -n "$port" ] || { say "warning: $STATE_FILE records $colour without its port (servingPort) and $port_setting is not set: $NGINX_UPSTREAM_FILE left as it is"; exit 0; }
  fi
  upstream_write "$(upstream_text "$colour" "$port")" || { say "error: cannot write $NGINX_UPSTREAM_FILE"; exit 1; }
  if [ "$UPSTREAM_CHANGED" = 1 ]; then
    say "$NGINX_UPSTREAM_FILE now names $colour (port $port), the colour $STATE_FILE records as serving"
  else
    say "$NGINX_UPSTREAM_FILE names $colour (port $port), as $STATE_FILE records"
  fi
fi
