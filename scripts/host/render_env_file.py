#!/usr/bin/env python3
# render_env_file.py PARAMETERS PATH TARGET STATE_FILE REPORT REQUIRED OPTIONAL NOW ACTOR: the env
# file from Parameter Store's answer, for secrets-lib.sh's render_env_file.
#
# PARAMETERS is the AWS CLI's get-parameters-by-path answer (JSON, a mode 0600 file); PATH the
# parameter path it was read from (names below it are the keys); TARGET the env file to write
# (mode 0600 from creation, renamed into place); STATE_FILE the record of versions, written as
# STATE_FILE.pending; REQUIRED and OPTIONAL the declared names, space-separated; NOW and ACTOR who
# rendered it when. Values are read from PARAMETERS and written to TARGET only: never on argv,
# stdout or stderr. REPORT receives what the shell says: one line per problem, then
# "UNKNOWN names" (parameters the config does not declare) and "VERSIONS NAME:n,..." on success.
#
# Exit codes: 0 rendered; 65 refused (a required name missing, a value an env file cannot carry, a
# parameter that is not a SecureString: the problems in REPORT, nothing written); 1 it failed (one
# line on stderr naming the kind of error, never a value); 2 usage.
# Comments, not docstrings: the SSM documents carry this file (64 KB at most each).
import json
import os
import sys
import tempfile

if len(sys.argv) != 10:
    sys.stderr.write("usage: render_env_file.py PARAMETERS PATH TARGET STATE_FILE REPORT REQUIRED OPTIONAL NOW ACTOR\n")
    sys.exit(2)
# One line, then exit 1, never a traceback; the kind only, as an error's text could quote a value.
sys.excepthook = lambda kind, error, tb: sys.stderr.write("render_env_file: %s\n" % kind.__name__)

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

# Read before anything is written: a malformed answer fails with the env file as it was.
versions = {name: parameters[name]["Version"] for name in names}
atomic_write(target, "".join("%s=%s\n" % (name, parameters[name]["Value"]) for name in names), 0o600)
# Pending until the release started on this file is recorded (secrets_commit): the record names what runs.
atomic_write(state_path + ".pending", json.dumps(dict(path=path, renderedAt=now, renderedBy=actor, envFile=target, versions=versions), indent=2) + "\n", 0o644)
with open(report, "a") as f:
    f.write("VERSIONS %s\n" % ",".join("%s:%s" % item for item in versions.items()))
