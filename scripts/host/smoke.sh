#!/usr/bin/env bash
# smoke.sh <base-url>: run the environment's smoke plan (smoke.json beside this script, rendered
# from config by lib/smoke/plan.ts) against base-url: the new release's own port before it takes
# traffic, or nginx after the switch. The same plan and wording as `ops smoke` (lib/smoke/run.ts).
#
# Secrets (the login step's credentials) are read by NAME from SMOKE_SECRETS_FILE, the env file the
# host renders from Parameter Store ($APP_DIR/$ENV_FILE). Values and the captured token go to curl
# only through files in a private temporary directory (never argv) and are never printed.
#
# Prints one line per step and a summary on stdout. Exit codes: 0 every check passed; 1 a check
# failed; 2 bad usage or an unreadable plan.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$#" -eq 1 ] || die -c 2 "usage: smoke.sh <base-url>   (e.g. http://127.0.0.1:3001)"
base_url=${1%/}
SMOKE_PLAN=${SMOKE_PLAN:-$HOST_SCRIPT_DIR/smoke.json}
SMOKE_SECRETS_FILE=${SMOKE_SECRETS_FILE:-$APP_DIR/$ENV_FILE}
SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-10}
[ -r "$SMOKE_PLAN" ] || die -c 2 "smoke plan $SMOKE_PLAN is missing or unreadable (the deploy document writes it from config)"

work=$(mktemp -d)
chmod 0700 "$work"
at_exit_remove "$work"

# smoke_py STEP...: the plan's logic (requests, assertions, redaction) in python3; curl does HTTP.
smoke_py() {
  python3 - "$SMOKE_PLAN" "$SMOKE_SECRETS_FILE" "$work" "$@" <<'PY'
import json, os, sys, urllib.parse
plan_file, secrets_file, work, action = sys.argv[1:5]
args = sys.argv[5:]
try:
    plan = json.load(open(plan_file))
except Exception as error:
    print("smoke plan %s is not valid JSON: %s" % (plan_file, error), file=sys.stderr)
    sys.exit(2)

def secrets():
    values = {}
    try:
        lines = open(secrets_file).read().splitlines()
    except OSError:
        return values
    for line in lines:
        if "=" not in line or line.lstrip().startswith("#"):
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values

def hidden():
    out = []
    login = plan.get("login")
    if login:
        known = secrets()
        out += [known[n] for n in login["credentials"].values() if known.get(n)]
    try:
        out.append(open(os.path.join(work, "token")).read())
    except OSError:
        pass
    return [v for v in out if v]

def say(line):
    for value in hidden():
        line = line.replace(value, "[redacted]")
    print(line)

def status_matches(expected, status):
    if len(expected) == 3 and expected.endswith("xx"):
        return status // 100 == int(expected[0])
    return int(expected) == status

MISSING = object()
def value_at(node, path):
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node

def dumps(value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

def assertion_problem(body, assertions):
    if not assertions:
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return "body is not JSON"
    for a in assertions:
        value = value_at(doc, a["path"])
        shown = "absent" if value is MISSING else dumps(value)
        if a.get("exists") is False and value is not MISSING:
            return "%s is %s, expected absent" % (a["path"], shown)
        if (a.get("exists") is True or "equals" in a) and value is MISSING:
            return "%s is absent" % a["path"]
        if "equals" in a and dumps(value) != dumps(a["equals"]):
            return "%s is %s, expected %s" % (a["path"], shown, dumps(a["equals"]))
        if "notEquals" in a and value is not MISSING and dumps(value) == dumps(a["notEquals"]):
            return "%s is %s, which it must not be" % (a["path"], shown)
    return None

def step(index):
    return plan["login"] if index == "login" else plan["checks"][int(index)]

def write(name, text):
    fd = os.open(os.path.join(work, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)

def prepare(index):
    """Writes headers (curl -H @file) and body; returns "run METHOD PATH", "skip" or "missing NAMES"."""
    s = step(index)
    for name in ("body", "headers"):
        if os.path.exists(os.path.join(work, name)):
            os.unlink(os.path.join(work, name))
    headers = dict(s.get("headers", {}))
    if index == "login":
        known = secrets()
        missing = [n for n in s["credentials"].values() if not known.get(n)]
        if missing:
            return "missing " + ",".join(missing)
        values = dict(s.get("fields", {}))
        for field, name in s["credentials"].items():
            values[field] = known[name]
        if s["encoding"] == "form":
            write("body", urllib.parse.urlencode(values))
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            write("body", json.dumps(values, separators=(",", ":")))
            headers["Content-Type"] = "application/json"
    else:
        if s["auth"]:
            if not os.path.exists(os.path.join(work, "token")):
                return "skip"
            headers["Authorization"] = "Bearer " + open(os.path.join(work, "token")).read()
        if "body" in s:
            write("body", s["body"])
    write("headers", "".join("%s: %s\n" % kv for kv in headers.items()))
    return "run %s %s" % (s["method"], s["path"])
def report(index, status, outcome):
    """Prints the step's line; returns whether it passed."""
    s = step(index)
    what = "%s: %s %s" % ("login" if index == "login" else s["name"], s["method"], s["path"])
    if outcome == "missing":
        say("FAIL login: secret %s is not set" % status.replace(",", ", "))
        return False
    if outcome == "skip":
        say("FAIL %s -> skipped: the login step failed" % what)
        return False
    if outcome != "0":
        say("FAIL %s -> no answer (curl exit %s)" % (what, outcome))
        return False
    code = int(status)
    expected = s["expectStatus"]
    if not status_matches(expected, code):
        say("FAIL %s -> %d: expected %s" % (what, code, expected))
        return False
    body = open(os.path.join(work, "response"), encoding="utf-8", errors="replace").read()
    if index == "login":
        try:
            token = value_at(json.loads(body), s["tokenPath"])
        except ValueError:
            token = MISSING
        if not isinstance(token, str) or token == "":
            say("FAIL %s -> %d: no token at %s" % (what, code, s["tokenPath"]))
            return False
        write("token", token)
        say("ok   %s -> %d (token captured)" % (what, code))
        return True
    problem = assertion_problem(body, s.get("json", []))
    if problem:
        say("FAIL %s -> %d: %s" % (what, code, problem))
        return False
    say("ok   %s -> %d" % (what, code))
    return True

# step PREV STATUS OUTCOME NEXT: report the previous step (its line on stdout, pass/fail appended
# to the tally) and prepare the next (into the file "next"), in one python start per step.
if action == "steps":
    print(" ".join((["login"] if plan.get("login") else []) + [str(i) for i in range(len(plan["checks"]))]))
elif action == "step":
    prev, status, outcome, following = args
    if prev != "-":
        passed = report(prev, status, outcome)
        with open(os.path.join(work, "tally"), "a") as f:
            f.write("pass\n" if passed else "fail\n")
    if following != "-":
        write("next", prepare(following) + "\n")
PY
}

steps=$(smoke_py steps) || exit 2
: >"$work/tally"
prev=- status=000 outcome=0
for index in $steps -; do
  smoke_py step "$prev" "$status" "$outcome" "$index"
  [ "$index" = - ] && break
  read -r verb method path <"$work/next"
  outcome=0 status=000
  case $verb in
    missing) outcome=missing status=$method ;;
    skip) outcome=skip ;;
    run)
      args=(-sS -o "$work/response" -w '%{http_code}' --max-time "$SMOKE_TIMEOUT" -H "@$work/headers")
      if [ "$method" = HEAD ]; then args+=(--head); else args+=(-X "$method"); fi
      if [ -f "$work/body" ]; then args+=(--data-binary "@$work/body"); fi
      status=$(curl "${args[@]}" "$base_url$path" 2>/dev/null 9>&-) || outcome=$?
      ;;
  esac
  prev=$index
done
passed=$(grep -c '^pass' "$work/tally" || true)
failed=$(grep -c '^fail' "$work/tally" || true)
printf 'smoke: %d passed, %d failed (%s)\n' "$passed" "$failed" "$base_url"
[ "$failed" -eq 0 ]
