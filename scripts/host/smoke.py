#!/usr/bin/env python3
# smoke.py PLAN SECRETS_FILE TIMEOUT_SECONDS BASE_URL: the host's runner of a smoke plan (smoke.json,
# rendered from config by lib/smoke/plan.ts). smoke.sh runs it; `ops smoke` runs the same plan with
# lib/smoke/run.ts. Both print the same lines, word for word: test/smoke/smoke-parity.test.ts runs one
# table of cases through both and compares them case by case, so a change to one that is not made to
# the other fails there.
#
# Secrets (the login step's credentials) are read by NAME from SECRETS_FILE (KEY=value lines, the env
# file the host renders from Parameter Store). Values and the captured token are sent, never printed:
# every line passes through say(), which replaces them with [redacted]. Nothing goes on argv.
#
# HTTP is http.client, one request per step with TIMEOUT_SECONDS per socket operation and no
# redirect following (fetch's redirect: 'manual' in run.ts).
#
# Prints one line per step and a summary on stdout. Exit codes: 0 every check passed; 1 a check
# failed; 2 bad usage or an unreadable plan (one line on stderr).
#
# Comments, not docstrings: comment-only lines are left out of the SSM documents (64 KB at most).
import errno
import http.client
import json
import socket
import sys
import urllib.parse

MISSING = object()


# KEY=value lines (quotes around a value dropped); an unreadable file has no secrets.
def read_secrets(path):
    values = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
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


# True when status matches 200 or a class like 4xx (statusMatches in run.ts).
def status_matches(expected, status):
    if len(expected) == 3 and expected[0] in "12345" and expected.endswith("xx"):
        return status // 100 == int(expected[0])
    return expected.isdigit() and int(expected) == status


# The value at a dotted path (errors.0.code), or MISSING when any step is missing.
def value_at(node, path):
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


# JSON.stringify's text of a value: integers without .0, no spaces, non-ASCII kept.
def dumps(value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# Why an answer fails the assertions, or None when it passes (assertionProblem in run.ts).
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


# The word run.ts prints for a request that got no answer (Node's error code or name).
# A timeout is socket.timeout, which is TimeoutError (an OSError without errno) since 3.10: its name.
# application/x-www-form-urlencoded as URLSearchParams writes it (WHATWG): only alphanumerics and
# *-._ stay, a space is +. quote_plus also keeps ~, which URLSearchParams escapes.
def form_encode(values):
    def one(text):
        return urllib.parse.quote_plus(text, safe="*").replace("~", "%7E")
    return "&".join("%s=%s" % (one(k), one(v)) for k, v in values.items())


def failure_reason(error):
    if isinstance(error, socket.gaierror):
        return "ENOTFOUND"
    if isinstance(error, OSError) and error.errno in errno.errorcode:
        return errno.errorcode[error.errno]
    return type(error).__name__


class Runner:
    def __init__(self, plan, secrets, timeout, base_url):
        self.plan = plan
        self.secrets = secrets
        self.timeout = timeout
        self.base = base_url.rstrip("/")
        self.url = urllib.parse.urlsplit(self.base)
        self.hidden = []
        self.lines = []
        self.failed = 0

    def say(self, line):
        for value in self.hidden:
            if value:
                line = line.replace(value, "[redacted]")
        self.lines.append(line)
        print(line, flush=True)

    def fail(self, line):
        self.failed += 1
        self.say("FAIL " + line)

    # (status, text) of the answer, or the reason there was none.
    def send(self, method, path, headers, body):
        connection_class = http.client.HTTPSConnection if self.url.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(self.url.hostname, self.url.port, timeout=self.timeout)
        try:
            connection.request(method, self.url.path + path, body=None if body is None else body.encode("utf-8"), headers=headers)
            response = connection.getresponse()
            text = "" if method == "HEAD" else response.read().decode("utf-8", errors="replace")
            return response.status, text
        except Exception as error:  # every failure to get an answer is a failed check, never a traceback
            return "no answer (%s)" % failure_reason(error)
        finally:
            connection.close()

    # Runs the login step; returns the captured token, or None when it failed.
    def login(self):
        login = self.plan["login"]
        missing = [name for name in login["credentials"].values() if not self.secrets.get(name)]
        if missing:
            self.fail("login: secret %s is not set" % ", ".join(missing))
            return None
        values = dict(login.get("fields", {}))
        for field, name in login["credentials"].items():
            values[field] = self.secrets[name]
            self.hidden.append(values[field])
        if login["encoding"] == "form":
            body, content_type = form_encode(values), "application/x-www-form-urlencoded"
        else:
            body, content_type = json.dumps(values, separators=(",", ":"), ensure_ascii=False), "application/json"
        what = "login: %s %s" % (login["method"], login["path"])
        answer = self.send(login["method"], login["path"], {"Content-Type": content_type}, body)
        if isinstance(answer, str):
            self.fail("%s -> %s" % (what, answer))
            return None
        status, text = answer
        if not status_matches(login["expectStatus"], status):
            self.fail("%s -> %d: expected %s" % (what, status, login["expectStatus"]))
            return None
        try:
            token = value_at(json.loads(text), login["tokenPath"])
        except ValueError:
            token = MISSING
        if not isinstance(token, str) or token == "":
            self.fail("%s -> %d: no token at %s" % (what, status, login["tokenPath"]))
            return None
        self.hidden.append(token)
        self.say("ok   %s -> %d (token captured)" % (what, status))
        return token

    def check(self, check, token):
        what = "%s: %s %s" % (check["name"], check["method"], check["path"])
        if check["auth"] and token is None:
            self.fail("%s -> skipped: the login step failed" % what)
            return
        headers = dict(check.get("headers", {}))
        if check["auth"]:
            headers["Authorization"] = "Bearer " + token
        answer = self.send(check["method"], check["path"], headers, check.get("body"))
        if isinstance(answer, str):
            self.fail("%s -> %s" % (what, answer))
            return
        status, text = answer
        if not status_matches(check["expectStatus"], status):
            self.fail("%s -> %d: expected %s" % (what, status, check["expectStatus"]))
            return
        problem = assertion_problem(text, check.get("json", []))
        if problem:
            self.fail("%s -> %d: %s" % (what, status, problem))
            return
        self.say("ok   %s -> %d" % (what, status))

    def run(self):
        token = self.login() if self.plan.get("login") else None
        for check in self.plan["checks"]:
            self.check(check, token)
        total = len(self.plan["checks"]) + (1 if self.plan.get("login") else 0)
        self.say("smoke: %d passed, %d failed (%s)" % (total - self.failed, self.failed, self.base))
        return self.failed == 0


def main(argv):
    if len(argv) != 4:
        print("usage: smoke.py <plan.json> <secrets-file> <timeout-seconds> <base-url>", file=sys.stderr)
        return 2
    plan_file, secrets_file, timeout, base_url = argv
    try:
        with open(plan_file, encoding="utf-8") as f:
            plan = json.load(f)
        if not isinstance(plan, dict) or not isinstance(plan.get("checks"), list):
            raise ValueError("no checks list")
    except (OSError, ValueError) as error:
        print("smoke plan %s is unreadable or not a plan: %s" % (plan_file, error), file=sys.stderr)
        return 2
    try:
        seconds = float(timeout)
    except ValueError:
        seconds = -1
    if seconds <= 0:
        print("smoke: timeout %r is not a positive number of seconds" % timeout, file=sys.stderr)
        return 2
    if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
        print("smoke: base URL %r is not http:// or https://" % base_url, file=sys.stderr)
        return 2
    return 0 if Runner(plan, read_secrets(secrets_file), seconds, base_url).run() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
