#!/usr/bin/env python3
# status_report.py FORMAT WORK APP ENV APP_DIR COMMIT CLEAN HEALTH_URL HEALTH_CODE RUNNING BLUE_GREEN
#                  UPSTREAM_FILE UPSTREAM_PORT SERVING SERVING_PORT OTHER
# status.sh's report: status.sh gathers what the host knows into the directory WORK (state.json,
# progress, restore-database, secrets.json, last-backup.json, containers.json, other.json,
# health.err; each optional but health.err) and the facts it probed into the arguments; this prints
# them as one JSON object (FORMAT json) or as the text report (FORMAT text) on stdout.
# CLEAN and RUNNING are true, false or empty (unknown); BLUE_GREEN true or false; the upstream,
# serving and other arguments are empty unless blue/green records a serving colour.
#
# Exit codes: 0 the report was printed; 1 it could not be built (one line on stderr, no traceback);
# 2 usage.
# Comments, not docstrings: the SSM documents carry this file (64 KB at most each).
import json
import os
import sys

if len(sys.argv) != 17 or sys.argv[1] not in ("json", "text"):
    sys.stderr.write("usage: status_report.py json|text WORK APP ENV APP_DIR COMMIT CLEAN HEALTH_URL HEALTH_CODE RUNNING"
                     " BLUE_GREEN UPSTREAM_FILE UPSTREAM_PORT SERVING SERVING_PORT OTHER\n")
    sys.exit(2)

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
