#!/usr/bin/env bash
# status.sh [--json|--text]: the current and previous releases from the state file, what the
# checkout is on (and whether it is clean), one probe of HEALTH_URL, and the state of every
# container of the Compose project. Text by default; --json prints one JSON object on stdout.
# An in-progress record (lib.sh) is reported as running, or as INTERRUPTED when its process is gone
# (a restore's with the state it left the database in). Under blue/green, any disagreement between
# nginx's upstream include, the state file and the running containers is reported (`nginx:` line,
# JSON `consistency`).
# Read-only: takes no lock, changes nothing, audits nothing. Exits 0 whenever it could report; 65
# when the state file is not valid JSON; 1 (one line) when the report could not be built; 2 usage.
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
at_exit_remove "$work"

# shellcheck disable=SC2119 # status only reports: a bad state file is not an operation to audit
state_check
[ -f "$STATE_FILE" ] && cp "$STATE_FILE" "$work/state.json"
# The secret versions (never values) the env file was last rendered with (scripts/host/secrets.sh).
[ -f "${SECRETS_STATE_FILE:-$STATE_DIR/secrets.json}" ] && cp "${SECRETS_STATE_FILE:-$STATE_DIR/secrets.json}" "$work/secrets.json"
progress_running=""
if [ -f "$PROGRESS_FILE" ]; then
  cp "$PROGRESS_FILE" "$work/progress"
  if kill -0 "$(progress_field pid)" 2>/dev/null; then progress_running=true; else progress_running=false; fi
  # A restore's record: which state it left the database in (lib.sh).
  if [ "$(progress_field op)" = restore ]; then restore_database_state >"$work/restore-database"; fi
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

# Blue/green: what nginx's upstream include names, the colour and port the state file records and
# the other colour's containers, compared below (they must agree, except while a change runs).
serving="" serving_port="" upstream_port="" other=""
if [ "$BLUE_GREEN" = true ]; then
  if [ -f "$NGINX_UPSTREAM_FILE" ]; then
    upstream_port=$(sed -n 's/^ *server 127\.0\.0\.1:\([0-9]*\);.*/\1/p' "$NGINX_UPSTREAM_FILE" | head -n 1)
    upstream_port=${upstream_port:-unreadable}
  fi
  read -r serving serving_port < <(upstream_recorded 2>/dev/null || true) || true
  if [ -n "$serving" ]; then
    serving_port=${serving_port:-$(colour_port "$serving")}
    other=$(colour_other "$serving")
    run_setting "$CONTAINER_CMD" ps --filter "label=com.docker.compose.project=$BASE_COMPOSE_PROJECT-$other" --format json >"$work/other.json" 2>/dev/null || : >"$work/other.json"
  fi
fi

python3 - "$format" "$work" "$APP_NAME" "$ENV_NAME" "$APP_DIR" "$checkout_commit" "$checkout_clean" "$HEALTH_URL" "$health_code" "$progress_running" \
  "$BLUE_GREEN" "$NGINX_UPSTREAM_FILE" "$upstream_port" "$serving" "$serving_port" "$other" <<'PY' || die "could not build the status report (see the line above)"
import json, os, sys

fmt, work, app, env, app_dir, commit, clean, url, code, running = sys.argv[1:11]
blue_green, upstream_file, upstream_port, serving, serving_port, other = sys.argv[11:17]

# Any error is one line on stderr (then exit 1), never a traceback.
sys.excepthook = lambda kind, error, tb: sys.stderr.write("status: %s: %s\n" % (kind.__name__, error))

progress = None
if os.path.exists(os.path.join(work, "progress")):
    progress = {}
    for line in open(os.path.join(work, "progress")):
        key, _, value = line.rstrip("\n").partition("=")
        progress[key] = value
    progress["running"] = running == "true"
    if os.path.exists(os.path.join(work, "restore-database")):
        progress["database"] = open(os.path.join(work, "restore-database")).read().strip()

state = {}
if os.path.exists(os.path.join(work, "state.json")):
    with open(os.path.join(work, "state.json")) as f:
        state = json.load(f)

def container_list(name):
    raw = open(os.path.join(work, name)).read().strip() if os.path.exists(os.path.join(work, name)) else ""
    if raw.startswith("["):
        return json.loads(raw)
    return [json.loads(line) for line in raw.splitlines() if line.strip()]

entries = container_list("containers.json")

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
# Blue/green: the include, the state file and the containers describe one state, or status says where they disagree.
consistency = None
if blue_green == "true" and serving:
    problems = []
    if upstream_port == "":
        problems.append("nginx's upstream include %s is missing; the state file records %s (port %s) serving" % (upstream_file, serving, serving_port))
    elif upstream_port != serving_port:
        problems.append("nginx's upstream include %s names port %s, but the state file records %s on port %s" % (upstream_file, upstream_port, serving, serving_port))
    if not any(c["state"] == "running" for c in containers):
        problems.append("the state file records %s serving, but none of its containers runs" % serving)
    changing = progress is not None and progress["running"]
    if not changing and any((e.get("State") or "") == "running" for e in container_list("other.json")):
        problems.append("%s runs beside the serving %s, and no deploy or rollback is running (left by an interrupted one?)" % (other, serving))
    consistency = dict(ok=not problems, upstreamPort=upstream_port or None, servingColour=serving, servingPort=int(serving_port), problems=problems)

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
    consistency=consistency,
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
    elif progress.get("op") == "restore":
        lines.append("INTERRUPTED: %s of %s, phase %s, pid %s, started %s by %s; its process is gone and the app may be stopped; %s. Run ops restore --resume --env %s (or the next deploy) to start the app again on the database as it is" % (
            progress.get("op"), progress.get("ref"), progress.get("phase"), progress.get("pid"), progress.get("started"), progress.get("actor"),
            progress.get("database"), env or "<env>"))
    else:
        lines.append("INTERRUPTED: " + what + "; its process is gone. Run rollback (or deploy) to bring back the last good release %s (%s)" % (
            progress.get("goodRef"), (progress.get("goodCommit") or "?")[:12]))
if consistency is not None:
    lines.append("nginx:      %s" % ("upstream on %s (port %s), as the state file records" % (serving, serving_port) if consistency["ok"] else "DISAGREEMENT: " + "; ".join(consistency["problems"])))
for c in containers:
    lines.append("  %-30s %-12s %-10s %s" % (c["name"], c["service"] or "-", c["state"] or "-", c["status"] or ""))
print("\n".join(lines))
PY
