#!/usr/bin/env python3
# state_file.py: the state file (JSON: the current and previous good releases, each with ref,
# commit, time and actor; under blue/green the serving colour and its port), for lib.sh's
# state_check, state_get and state_record.
#
#   state_file.py check PATH         exit 0 when PATH is a JSON object, 1 when it is not (quiet)
#   state_file.py get PATH KEY.PATH  print the value at KEY.PATH (e.g. current.commit), nothing
#                                    when absent; exit 1 with one line when PATH cannot be read
#   state_file.py record PATH APP ENV ACTION REF COMMIT ACTOR NOW COLOUR PORT
#                                    the release becomes current; the old current becomes
#                                    previous, unless it is the same commit (a redeploy must not
#                                    erase the rollback target). COLOUR and PORT, when not empty,
#                                    record the serving colour and its port (switch.sh); otherwise
#                                    the recorded ones are kept. Written to a temporary file in the
#                                    same directory, flushed, then renamed over the old one, so a
#                                    reader never sees half a file; exit 1 with one line (the old
#                                    file as it was) when it cannot be written.
#
# Every failure is one line on stderr, never a traceback. Exit 2: usage.
# Comments, not docstrings: the SSM documents carry this file (64 KB at most each).
import json
import os
import sys

import subcommands
import tempfile

USAGE = "usage: state_file.py check PATH | get PATH KEY.PATH | record PATH APP ENV ACTION REF COMMIT ACTOR NOW COLOUR PORT"


def check(path):
    try:
        with open(path) as f:
            return 0 if isinstance(json.load(f), dict) else 1
    except Exception:
        return 1


def get(path, key_path):
    try:
        with open(path) as f:
            value = json.load(f)
    except Exception as error:
        sys.exit("state file %s: %s" % (path, error))
    for part in key_path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is not None:
        print(value)
    return 0


def record(path, app, env, action, ref, commit, actor, now, colour, port):
    try:
        state = {}
        if os.path.exists(path):
            with open(path) as f:
                state = json.load(f)
        old = state.get("current")
        previous = state.get("previous") if old and old.get("commit") == commit else old
        release = dict(ref=ref, commit=commit, deployedAt=now, deployedBy=actor, action=action)
        new = dict(schemaVersion=1, app=app, environment=env or None, current=release,
                   previous=previous, updatedAt=now)
        # Blue/green (switch.sh): the colour nginx sends traffic to; an in-place restart keeps it.
        serving = colour or state.get("servingColour")
        if serving:
            new["servingColour"] = serving
            served_on = int(port) if port else None if colour else state.get("servingPort")
            if served_on:
                new["servingPort"] = served_on
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".deploy_state.", dir=os.path.dirname(os.path.abspath(path)))
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(new, f, indent=2)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except Exception as error:
        sys.exit("%s: %s" % (type(error).__name__, error))
    return 0


if __name__ == "__main__":
    subcommands.run(USAGE, {"check": check, "get": get, "record": record})
