#!/usr/bin/env bash
# The app's env file rendered from SSM Parameter Store, and the record of the versions it holds,
# sourced after lib.sh by deploy.sh, rollback.sh and secrets.sh. The record (SECRETS_STATE_FILE)
# names the versions the running release was started with: written when the release started on a
# rendered file is recorded, never before (a failed deploy or rotation leaves it, and the env
# file, describing the release that still serves).
#
# Values never leave two places: the AWS CLI's answer (a mode 0600 file in a mode 0700 directory,
# removed at once) and the env file (mode 0600 from creation, renamed into place; while a new one
# is tried, the previous one in SECRETS_PREVIOUS_FILE, mode 0600, outside the app's checkout and
# so outside any image build context). They are never in argv, in logs, in the audit log or on
# stdout/stderr; only names and version numbers are. Never run this with `set -x`.
#
# Settings (host.env, from the config): SECRETS_PATH (e.g. /auraxis/prod/; empty: the env file is
# managed by hand and only checked), SECRETS_REQUIRED and SECRETS_OPTIONAL (names, space-separated),
# AWS_SSM_ENDPOINT_ARGS (e.g. --endpoint-url URL, for tests).
# Deliberately free of double opening braces: SSM reads those as document parameters.

SECRETS_PATH=${SECRETS_PATH:-}
SECRETS_REQUIRED=${SECRETS_REQUIRED:-}
SECRETS_OPTIONAL=${SECRETS_OPTIONAL:-}
SECRETS_STATE_FILE=${SECRETS_STATE_FILE:-$STATE_DIR/secrets.json}
# The env file the serving release was started with, while a new one is tried (mode 0600).
SECRETS_PREVIOUS_FILE=${SECRETS_PREVIOUS_FILE:-$STATE_DIR/env.previous}
AWS_SSM_ENDPOINT_ARGS=${AWS_SSM_ENDPOINT_ARGS:-}
[ -z "$SECRETS_PATH" ] || [[ $SECRETS_PATH =~ ^(/[A-Za-z0-9_.-]+)+/$ ]] || die -c 2 "SECRETS_PATH '$SECRETS_PATH' is not a Parameter Store path ending in /"
for secret_name in $SECRETS_REQUIRED $SECRETS_OPTIONAL; do
  [[ $secret_name =~ ^[A-Z][A-Z0-9_]*$ ]] || die -c 2 "'$secret_name' in SECRETS_REQUIRED/SECRETS_OPTIONAL is not a secret name"
done
unset secret_name

# aws_ssm ARGS...: the AWS CLI with the endpoint arguments (empty on AWS).
aws_ssm() { run_setting "$AWS_CMD $AWS_SSM_ENDPOINT_ARGS" ssm "$@"; }

# render_env_file OPERATION [KEY=VALUE...]: write APP_DIR/ENV_FILE from SECRETS_PATH; its versions
# wait in SECRETS_STATE_FILE.pending and the file it replaces in SECRETS_PREVIOUS_FILE until the
# release started on it is recorded (secrets_commit) or given up (secrets_revert; also on every
# other way out, lib.sh's EXIT trap). Refuses (audit, exit 65) before changing anything when the
# store cannot be read or a required name is missing, naming the key, never the value. Does
# nothing when SECRETS_PATH is empty (an app without declared secrets).
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
  # The env file the running release was started with, kept (0600, out of the app's build context)
  # until the release rendered for is recorded, or put back when it is given up (secrets_revert).
  if [ -f "$file" ] && [ ! -f "$SECRETS_PREVIOUS_FILE" ]; then
    (umask 077 && cp "$file" "$SECRETS_PREVIOUS_FILE.$$" && mv -f "$SECRETS_PREVIOUS_FILE.$$" "$SECRETS_PREVIOUS_FILE") 2>/dev/null || {
      rm -rf "$work" "$SECRETS_PREVIOUS_FILE.$$"
      audit "$op" refused "cannot keep a copy of the env file to put back on failure" "$@"
      die -c 65 "refusing to $op: cannot keep a copy of $file in $SECRETS_PREVIOUS_FILE to put back on failure (state directory full or read-only?); nothing was changed"
    }
  fi
  at_exit secrets_on_exit
  python3 "$HOST_SCRIPT_DIR/render_env_file.py" "$work/parameters.json" "$SECRETS_PATH" "$file" "$SECRETS_STATE_FILE" "$work/report" "$SECRETS_REQUIRED" "$SECRETS_OPTIONAL" "$(now_utc)" "$DEPLOY_ACTOR" || rc=$?
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

# secrets_commit: the release started on the rendered env file is recorded: its versions become the
# record, and the previous file is no longer needed.
secrets_commit() {
  [ -f "$SECRETS_STATE_FILE.pending" ] || return 0
  mv -f "$SECRETS_STATE_FILE.pending" "$SECRETS_STATE_FILE" || warn "could not record the secret versions in $SECRETS_STATE_FILE"
  rm -f "$SECRETS_PREVIOUS_FILE"
}

# secrets_revert: the release rendered for was given up: the previous env file back (the one the
# serving release was started with; copied beside the env file, then renamed over it), the
# pending versions dropped; the record stays as it was.
secrets_revert() {
  local file=$APP_DIR/$ENV_FILE
  rm -f "$SECRETS_STATE_FILE.pending"
  [ -f "$SECRETS_PREVIOUS_FILE" ] || return 0
  if ! (umask 077 && cp "$SECRETS_PREVIOUS_FILE" "$file.restore.$$" && mv -f "$file.restore.$$" "$file"); then
    rm -f "$file.restore.$$"
    warn "could not put the previous env file back: it is $SECRETS_PREVIOUS_FILE"
    return 1
  fi
  rm -f "$SECRETS_PREVIOUS_FILE"
  log "put back the previous env file $file (the one the serving release was started with)"
}

# secrets_on_exit: a run that rendered and neither recorded nor gave up its release (a signal, an
# unexpected error) gives it up, so no env file is left that nothing runs on.
secrets_on_exit() { [ ! -f "$SECRETS_STATE_FILE.pending" ] || secrets_revert || true; }

# secrets_version_of NAME: the recorded version of NAME, or nothing.
secrets_version_of() {
  [ -f "$SECRETS_STATE_FILE" ] || return 0
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("versions", {}).get(sys.argv[2], ""))' "$SECRETS_STATE_FILE" "$1"
}
