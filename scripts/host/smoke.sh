#!/usr/bin/env bash
# smoke.sh <base-url>: run the environment's smoke plan (smoke.json beside this script, rendered
# from config by lib/smoke/plan.ts) against base-url: the new release's own port before it takes
# traffic, or nginx after the switch. The checks themselves (requests, assertions, redaction, the
# wording of every line) are smoke.py beside this script, the host's twin of lib/smoke/run.ts
# (`ops smoke`); this wrapper only finds the plan, the secrets file and the timeout.
#
# Secrets (the login step's credentials) are read by NAME from SMOKE_SECRETS_FILE, the env file the
# host renders from Parameter Store ($APP_DIR/$ENV_FILE); values never go on argv or into output.
#
# Prints one line per step and a summary on stdout. Exit codes: 0 every check passed; 1 a check
# failed; 2 bad usage or an unreadable plan.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$#" -eq 1 ] || die -c 2 "usage: smoke.sh <base-url>   (e.g. http://127.0.0.1:3001)"
SMOKE_PLAN=${SMOKE_PLAN:-$HOST_SCRIPT_DIR/smoke.json}
SMOKE_SECRETS_FILE=${SMOKE_SECRETS_FILE:-$APP_DIR/$ENV_FILE}
SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-10}
[ -r "$SMOKE_PLAN" ] || die -c 2 "smoke plan $SMOKE_PLAN is missing or unreadable (the deploy document writes it from config)"

# exec: smoke.py's exit code is smoke.sh's; fd 9 (lib.sh's lock, when a caller holds one) is not passed on.
exec python3 "$HOST_SCRIPT_DIR/smoke.py" "$SMOKE_PLAN" "$SMOKE_SECRETS_FILE" "$SMOKE_TIMEOUT" "$1" 9>&-
