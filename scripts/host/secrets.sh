#!/usr/bin/env bash
# secrets.sh: the app's env file, rendered from SSM Parameter Store.
#
# Sourced by deploy.sh and rollback.sh (after lib.sh) for render_env_file; run on its own for:
#   secrets.sh render                   render the env file now (under the deploy lock), restart nothing
#   secrets.sh versions                 the parameter versions the running release was started with (JSON)
#   secrets.sh restart NAME             after NAME got a new value: render, restart, health check; on
#                                       failure put the previous env file back, restart, health again
#   secrets.sh audit NAME EVENT RESULT  append security.key_rotation.EVENT to the audit log (ops rotate)
#
# Values never leave two places: the AWS CLI's answer (a mode 0600 file in a mode 0700 directory,
# removed at once) and the env file (mode 0600 from creation, renamed into place). They are never
# in argv, in logs, in the audit log or on stdout/stderr; only names and version numbers are.
# Never run this with `set -x`.
#
# Settings (host.env, from the config): SECRETS_PATH (e.g. /auraxis/prod/; empty: the env file is
# managed by hand and only checked), SECRETS_REQUIRED and SECRETS_OPTIONAL (names, space-separated),
# AWS_SSM_ENDPOINT_ARGS (e.g. --endpoint-url URL, for tests), SECRETS_RESTART_ARGS.
#
# Exit codes of restart: 0 restarted healthy on the new values; 1 unhealthy, previous values back
# and healthy; 3 unhealthy and the previous values did not come back healthy (act now); 65 refused
# before any change (missing required secret, store unreadable, state file); 75 lock held.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  # shellcheck source=scripts/host/lib.sh
  . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  # shellcheck source=scripts/host/switch.sh
  . "$HOST_SCRIPT_DIR/switch.sh" # on_serving: a restart acts on the serving colour (blue/green)
fi

SECRETS_PATH=${SECRETS_PATH:-}
SECRETS_REQUIRED=${SECRETS_REQUIRED:-}
SECRETS_OPTIONAL=${SECRETS_OPTIONAL:-}
SECRETS_STATE_FILE=${SECRETS_STATE_FILE:-$STATE_DIR/secrets.json}
AWS_SSM_ENDPOINT_ARGS=${AWS_SSM_ENDPOINT_ARGS:-}
SECRETS_RESTART_ARGS=${SECRETS_RESTART_ARGS:-up -d --force-recreate}
[ -z "$SECRETS_PATH" ] || [[ $SECRETS_PATH =~ ^(/[A-Za-z0-9_.-]+)+/$ ]] || die "SECRETS_PATH '$SECRETS_PATH' is not a Parameter Store path ending in /"
for secret_name in $SECRETS_REQUIRED $SECRETS_OPTIONAL; do
  [[ $secret_name =~ ^[A-Z][A-Z0-9_]*$ ]] || die "'$secret_name' in SECRETS_REQUIRED/SECRETS_OPTIONAL is not a secret name"
done
unset secret_name

# aws_ssm ARGS...: the AWS CLI with the endpoint arguments (empty on AWS).
aws_ssm() { run_setting "$AWS_CMD $AWS_SSM_ENDPOINT_ARGS" ssm "$@"; }

# render_env_file OPERATION [KEY=VALUE...]: write APP_DIR/ENV_FILE from SECRETS_PATH and record the
# versions in SECRETS_STATE_FILE. Refuses (audit, exit 65) before changing anything when the store
# cannot be read or a required name is missing, naming the key, never the value. Does nothing
# when SECRETS_PATH is empty (an app without declared secrets).
render_env_file() {
  local op=$1 file=$APP_DIR/$ENV_FILE work rc=0 problem
  shift
  # No declared secrets: the env file is placed by hand; preflight_env_file checks it.
  [ -n "$SECRETS_PATH" ] || return 0
  mkdir -p "$(dirname "$SECRETS_STATE_FILE")"
  work=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/$APP_NAME-secrets.XXXXXX")
  # The CLI's answer holds the values: into a file created 0600 (umask), never through argv or a variable.
  if ! (umask 077 && aws_ssm get-parameters-by-path --path "$SECRETS_PATH" --with-decryption --output json >"$work/parameters.json" 2>"$work/aws.err" 9>&-); then
    problem="could not read Parameter Store path $SECRETS_PATH: $(grep -v '^\s*$' "$work/aws.err" | tail -n 1 || true)"
    rm -rf "$work"
    audit "$op" refused "$problem" "$@"
    die -c 65 "refusing to $op: $problem; check the instance role and the path (ops secrets check --env $ENV_NAME)"
  fi
  python3 - "$work/parameters.json" "$SECRETS_PATH" "$file" "$SECRETS_STATE_FILE" "$work/report" "$SECRETS_REQUIRED" "$SECRETS_OPTIONAL" "$(now_utc)" "$DEPLOY_ACTOR" <<'PY' || rc=$?
import json, os, sys, tempfile
source, path, target, state_path, report, required, optional, now, actor = sys.argv[1:10]
required, optional = required.split(), optional.split()
with open(source) as f:
    parameters = {p["Name"][len(path):]: p for p in json.load(f).get("Parameters", []) if p["Name"].startswith(path)}
problems = []
missing = [name for name in required if name not in parameters]
if missing:
    problems.append("required secret%s %s missing from Parameter Store path %s" % ("s" if len(missing) > 1 else "", ", ".join(missing), path))
names = [name for name in required + optional if name in parameters]
for name in names:
    value = parameters[name]["Value"]
    if "\n" in value or "\r" in value or "\0" in value:
        problems.append("secret %s (version %s) holds a line break or NUL, which an env file cannot carry" % (name, parameters[name]["Version"]))
    if parameters[name].get("Type") != "SecureString":
        problems.append("secret %s is a %s, not a SecureString: store it again with ops secrets set" % (name, parameters[name].get("Type")))
unknown = sorted(set(parameters) - set(required) - set(optional))
with open(report, "w") as f:
    f.write("\n".join(problems) + "\n" if problems else "")
    f.write("UNKNOWN %s\n" % " ".join(unknown) if unknown else "")
if problems:
    sys.exit(65)

def atomic_write(dest, text, mode):
    # Created with the final mode before a byte is written, in the target's directory, then renamed.
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(dest), dir=os.path.dirname(os.path.abspath(dest)))
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise

atomic_write(target, "".join("%s=%s\n" % (name, parameters[name]["Value"]) for name in names), 0o600)
versions = {name: parameters[name]["Version"] for name in names}
atomic_write(state_path, json.dumps(dict(path=path, renderedAt=now, renderedBy=actor, envFile=target, versions=versions), indent=2) + "\n", 0o644)
with open(report, "a") as f:
    f.write("VERSIONS %s\n" % ",".join("%s:%s" % item for item in versions.items()))
PY
  if [ "$rc" -ne 0 ]; then
    problem=$(grep -v '^UNKNOWN ' "$work/report" 2>/dev/null | paste -sd ';' - || true)
    rm -rf "$work"
    [ "$rc" -eq 65 ] || problem="rendering $file failed (python exit $rc)"
    audit "$op" refused "$problem" "$@" "path=$SECRETS_PATH"
    die -c 65 "refusing to $op: $problem; nothing was changed. Set it with: npm run ops -- secrets set <NAME> --env $ENV_NAME"
  fi
  local unknown versions
  unknown=$(sed -n 's/^UNKNOWN //p' "$work/report")
  versions=$(sed -n 's/^VERSIONS //p' "$work/report")
  rm -rf "$work"
  [ -z "$unknown" ] || warn "Parameter Store path $SECRETS_PATH holds parameters the config does not declare (not rendered): $unknown"
  audit "$op" secrets-rendered "env file rendered from Parameter Store" "$@" "path=$SECRETS_PATH" "versions=$versions"
  log "rendered $file (mode 0600) from $SECRETS_PATH: versions $versions"
}

# secrets_restart NAME: see the header.
secrets_restart() {
  local name=$1 file=$APP_DIR/$ENV_FILE keep failure
  trap lock_release EXIT
  lock_acquire rotate "secret=$name"
  audit security.key_rotation.restart started "restart with the new value of $name requested" "secret=$name"
  state_check security.key_rotation.restart
  require_checkout security.key_rotation.restart
  [ -n "$SECRETS_PATH" ] || die -c 65 "refusing to restart for $name: no secrets are declared for this app (SECRETS_PATH is empty)"
  keep=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/$APP_NAME-secrets-previous.XXXXXX")
  # The previous env file and versions, to put back if the new value makes the app unhealthy.
  [ ! -f "$file" ] || cp -p "$file" "$keep/env"
  [ ! -f "$SECRETS_STATE_FILE" ] || cp -p "$SECRETS_STATE_FILE" "$keep/versions.json"
  if ! (render_env_file security.key_rotation.restart "secret=$name"); then
    rm -rf "$keep"
    exit 65
  fi
  if on_serving secrets_restart_release; then
    rm -rf "$keep"
    audit security.key_rotation.restart ok "restarted healthy with the new value of $name" "secret=$name" "version=$(secrets_version_of "$name")"
    log "restarted with the new value of $name (version $(secrets_version_of "$name")); healthy"
    return 0
  fi
  failure=${HEALTH_ERROR:-compose $SECRETS_RESTART_ARGS failed}
  log "the release is unhealthy with the new value of $name: $failure; putting the previous env file back"
  # Copied next to the target first (mode 0600 throughout), then renamed: never half a file.
  if [ -f "$keep/env" ]; then (umask 077 && cp -p "$keep/env" "$file.restore.$$" && mv -f "$file.restore.$$" "$file"); fi
  if [ -f "$keep/versions.json" ]; then cp -p "$keep/versions.json" "$SECRETS_STATE_FILE.restore.$$" && mv -f "$SECRETS_STATE_FILE.restore.$$" "$SECRETS_STATE_FILE"; fi
  rm -rf "$keep"
  if on_serving secrets_restart_release; then
    audit security.key_rotation.restart failed "unhealthy with the new value of $name ($failure); previous values restored and healthy" "secret=$name"
    die -c 1 "the release was unhealthy with the new value of $name: $failure. The previous values are back and the release is healthy; put the previous value back in Parameter Store too (ops rotate does)"
  fi
  audit security.key_rotation.restart critical "unhealthy with the new value of $name ($failure); previous values restored but still unhealthy: ${HEALTH_ERROR:-}" "secret=$name"
  die -c 3 "the release was unhealthy with the new value of $name: $failure. With the previous values back it is STILL unhealthy: ${HEALTH_ERROR:-compose failed}. The service may be down: run status and act now"
}

# secrets_restart_release: the release restarted on the env file as it is now, then its health
# gate; under blue/green (on_serving) the serving colour's services only, Postgres and Redis stay up.
secrets_restart_release() {
  compose_with "$SECRETS_RESTART_ARGS${IN_COLOUR:+${COLOUR_SERVICES:+ --no-deps $COLOUR_SERVICES}}" && health_wait
}

# secrets_version_of NAME: the recorded version of NAME, or nothing.
secrets_version_of() {
  [ -f "$SECRETS_STATE_FILE" ] || return 0
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("versions", {}).get(sys.argv[2], ""))' "$SECRETS_STATE_FILE" "$1"
}

secrets_main() {
  local action=${1:-}
  case $action in
    versions)
      [ "$#" -eq 1 ] || die -c 2 "usage: secrets.sh versions"
      if [ -f "$SECRETS_STATE_FILE" ]; then cat "$SECRETS_STATE_FILE"; else printf '{"path": null, "versions": {}}\n'; fi
      ;;
    render)
      [ "$#" -eq 1 ] || die -c 2 "usage: secrets.sh render"
      [ -n "$SECRETS_PATH" ] || die -c 65 "no secrets are declared for this app (SECRETS_PATH is empty): nothing to render"
      trap lock_release EXIT
      lock_acquire secrets-render "path=$SECRETS_PATH"
      render_env_file secrets-render
      ;;
    restart)
      if [ "$#" -ne 2 ] || ! [[ $2 =~ ^[A-Z][A-Z0-9_]*$ ]]; then die -c 2 "usage: secrets.sh restart NAME   (a declared secret name, e.g. ENCRYPTION_KEY)"; fi
      secrets_restart "$2"
      ;;
    audit)
      if [ "$#" -ne 4 ] || ! [[ $2 =~ ^[A-Z][A-Z0-9_]*$ ]] || ! [[ $3 =~ ^(started|reencrypt|applied|rolled_back)$ ]] || ! [[ $4 =~ ^(ok|failed|refused|critical)$ ]]; then
        die -c 2 "usage: secrets.sh audit NAME started|reencrypt|applied|rolled_back ok|failed|refused|critical"
      fi
      audit "security.key_rotation.$3" "$4" "ops rotate $2: $3 $4" "secret=$2"
      ;;
    *) die -c 2 "usage: secrets.sh render | versions | restart NAME | audit NAME EVENT RESULT" ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then secrets_main "$@"; fi
