#!/usr/bin/env python3
# recorded_commit.py STATE_FILE: the commit the state file records as `current`, for host-boot.sh
# (which release to start at boot). Prints it (a full 40-hex sha), or an empty line when none is
# recorded. Exit 1 with the reason as one line on stdout (host-boot.sh reports it) when the file is
# not readable JSON or the commit is not a full sha; 2 usage.
# Standalone (no import beside it): the first boot installs it with the lifecycle scripts.
import json
import re
import sys

if len(sys.argv) != 2:
    sys.stderr.write("usage: recorded_commit.py STATE_FILE\n")
    sys.exit(2)
try:
    with open(sys.argv[1]) as f:
        state = json.load(f)
except Exception as error:
    print("%s: %s" % (type(error).__name__, error))
    sys.exit(1)
commit = (state.get("current") or {}).get("commit") if isinstance(state, dict) else None
if commit is not None and not re.fullmatch(r"[0-9a-f]{40}", str(commit)):
    print("current.commit %r is not a full commit sha" % (commit,))
    sys.exit(1)
print(commit or "")
