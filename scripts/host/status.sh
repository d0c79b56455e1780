#!/usr/bin/env bash
# status.sh [--json|--text]: the current and previous releases from the state file, what the
# checkout is on (and whether it is clean), one probe of HEALTH_URL, and the state of every
# container of the Compose project. Text by default; --json prints one JSON object on stdout.
# An in-progress record (lib.sh) is reported as running, or as INTERRUPTED when its process is gone.
# Read-only: takes no lock, changes nothing. Exits 0 whenever it could report; 65 when the state
# file is not valid JSON; 1 (one line) when the report could not be built.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/host/switch.sh
. "$HOST_SCRIPT_DIR/switch.sh" # on_serving: under blue/green the release runs as the serving colour

format=text
case "${1:-}" in
  '' | --text) format=text ;;
  --json) format=json ;;
  *) die -c 2 "usage: status.sh [--json|--text]" ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck disable=SC2119 # status only reports: a bad state file is not an operation to audit
state_check
[ -f "$STATE_FILE" ] && cp "$STATE_FILE" "$work/state.json"
# The secret versions (never values) the env file was last rendered with (scripts/host/secrets.sh).
[ -f "${SECRETS_STATE_FILE:-$STATE_DIR/secrets.json}" ] && cp "${SECRETS_STATE_FILE:-$STATE_DIR/secrets.json}" "$work/secrets.json"
progress_running=""
if [ -f "$PROGRESS_FILE" ]; then
  cp "$PROGRESS_FILE" "$work/progress"
  if kill -0 "$(progress_field pid)" 2>/dev/null; then progress_running=true; else progress_running=false; fi
fi
# The newest successful backup, recorded by backup.sh (backup-metric.sh).
[ -f "${LAST_BACKUP_FILE:-$STATE_DIR/last-backup.json}" ] && cp "${LAST_BACKUP_FILE:-$STATE_DIR/last-backup.json}" "$work/last-backup.json"

checkout_commit="" checkout_clean=""
if [ -d "$APP_DIR/.git" ]; then
  checkout_commit=$(app_git rev-parse HEAD 2>/dev/null || true)
  if [ -z "$(app_git status --porcelain --untracked-files=no 2>/dev/null)" ]; then checkout_clean=true; else checkout_clean=false; fi
fi

# Under blue/green the serving colour's own port and Compose project (what nginx sends traffic to).
serving_target() { printf '%s %s\n' "$HEALTH_URL" "$COMPOSE_PROJECT"; }
read -r HEALTH_URL COMPOSE_PROJECT < <(on_serving serving_target)
health_code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$HEALTH_URL" 2>"$work/health.err" || true)

# docker prints one JSON object per line; podman prints one JSON array. Both are parsed below.
if ! run_setting "$CONTAINER_CMD" ps -a --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" --format json >"$work/containers.json" 2>"$work/containers.err"; then
  warn "could not list containers with $CONTAINER_CMD: $(cat "$work/containers.err")"
  : >"$work/containers.json"
fi

python3 - "$format" "$work" "$APP_NAME" "$ENV_NAME" "$APP_DIR" "$checkout_commit" "$checkout_clean" "$HEALTH_URL" "$health_code" "$progress_running" <<'PY' || die "could not build the status report (see the line above)"
import json, os, sys

fmt, work, app, env, app_dir, commit, clean, url, code, running = sys.argv[1:11]

# Any error is one line on stderr (then exit 1), never a traceback.
sys.excepthook = lambda kind, error, tb: sys.stderr.write("status: %s: %s\n" % (kind.__name__, error))

progress = None
if os.path.exists(os.path.join(work, "progress")):
    progress = {}
    for line in open(os.path.join(work, "progress")):
        key, _, value = line.rstrip("\n").partition("=")
        progress[key] = value
    progress["running"] = running == "true"

state = {}
if os.path.exists(os.path.join(work, "state.json")):
    with open(os.path.join(work, "state.json")) as f:
        state = json.load(f)

raw = open(os.path.join(work, "containers.json")).read().strip()
entries = []
if raw.startswith("["):
    entries = json.loads(raw)
elif raw:
    entries = [json.loads(line) for line in raw.splitlines() if line.strip()]

def labels_of(entry):
    labels = entry.get("Labels") or {}
    if isinstance(labels, str):  # docker: "k=v,k=v"
        labels = dict(pair.split("=", 1) for pair in labels.split(",") if "=" in pair)
    return labels

containers = []
for entry in entries:
    names = entry.get("Names")
    name = names[0] if isinstance(names, list) and names else names
    containers.append(dict(
        name=name,
        service=labels_of(entry).get("com.docker.compose.service"),
        state=entry.get("State"),
        status=entry.get("Status"),
        image=entry.get("Image"),
    ))
containers.sort(key=lambda c: c["name"] or "")

error = open(os.path.join(work, "health.err")).read().strip()
http_status = int(code) if code.isdigit() and code != "000" else None
health = dict(url=url, ok=http_status is not None and 200 <= http_status < 400, httpStatus=http_status,
              error=error or None)
backup = None
if os.path.exists(os.path.join(work, "last-backup.json")):
    import calendar, time
    with open(os.path.join(work, "last-backup.json")) as f:
        backup = json.load(f)
    backup["ageSeconds"] = int(time.time()) - calendar.timegm(time.strptime(backup["takenAt"], "%Y-%m-%dT%H:%M:%SZ"))
current = state.get("current")
report = dict(
    app=app,
    environment=env or None,
    current=current,
    previous=state.get("previous"),
    checkout=dict(path=app_dir, commit=commit or None,
                  clean=None if clean == "" else clean == "true",
                  matchesCurrent=None if not current else current.get("commit") == commit),
    health=health,
    containers=containers,
    secrets=json.load(open(os.path.join(work, "secrets.json"))) if os.path.exists(os.path.join(work, "secrets.json")) else None,
    inProgress=progress,
    backup=backup,
)

if fmt == "json":
    print(json.dumps(report, indent=2))
    sys.exit(0)

def release(r):
    if not r:
        return "none recorded"
    return "%s (%s) by %s at %s [%s]" % (r["ref"], r["commit"][:12], r.get("deployedBy"), r.get("deployedAt"), r.get("action", "deploy"))

lines = [
    "app:        %s%s" % (app, " (" + env + ")" if env else ""),
    "current:    %s" % release(current),
    "previous:   %s" % release(state.get("previous")),
    "checkout:   %s at %s%s%s" % (app_dir, (commit or "?")[:12],
                                  "" if clean != "false" else ", UNCOMMITTED CHANGES",
                                  "" if not current or current.get("commit") == commit else ", DIFFERS FROM CURRENT RELEASE"),
    "health:     %s %s" % (url, "ok (HTTP %d)" % http_status if health["ok"] else "FAILING (%s)" % (http_status or error or "no answer")),
    "secrets:    %s" % ("%s %s" % (report["secrets"].get("path"), " ".join("%s:%s" % kv for kv in sorted(report["secrets"].get("versions", {}).items())))
                          if report["secrets"] else "no env file rendered from Parameter Store"),
    "backup:     %s" % ("%s taken %s (%d min ago)" % (backup["key"], backup["takenAt"], backup["ageSeconds"] // 60) if backup else "none recorded on this host"),
    "containers: %d" % len(containers),
]
if progress:
    what = "%s of %s (%s), phase %s, pid %s, started %s by %s" % (
        progress.get("op"), progress.get("ref"), (progress.get("commit") or "?")[:12], progress.get("phase"),
        progress.get("pid"), progress.get("started"), progress.get("actor"))
    if progress["running"]:
        lines.append("running:    " + what)
    else:
        lines.append("INTERRUPTED: " + what + "; its process is gone. Run rollback (or deploy) to bring back the last good release %s (%s)" % (
            progress.get("goodRef"), (progress.get("goodCommit") or "?")[:12]))
for c in containers:
    lines.append("  %-30s %-12s %-10s %s" % (c["name"], c["service"] or "-", c["state"] or "-", c["status"] or ""))
print("\n".join(lines))
PY
