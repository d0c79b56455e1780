#!/usr/bin/env python3
# backup_objects.py: the backup objects in S3 and the manifest object beside each, for
# backup-lib.sh (backup_manifest_json, choose_backup).
#
#   backup_objects.py manifest KEY FILE CREATED_AT UPLOADED_AT APP ENV DATABASE
#       the manifest object of the archive FILE uploaded as KEY, one JSON object on stdout: key,
#       bytes, sha256, the times, app, environment, database.
#   backup_objects.py candidates LISTING PATTERN WANTED
#       from LISTING (list-objects-v2's [Key, LastModified, Size] rows, JSON), the backups whose key
#       matches PATTERN (a regular expression; and is WANTED, when not empty), newest first by the
#       time S3 recorded: one line each, tab-separated: key, stored (UTC, to the second), size,
#       manifest key, the manifest's stored time (empty when there is none).
#   backup_objects.py check MANIFEST KEY SIZE STORED MANIFEST_STORED SKEW_SECONDS
#       whether the manifest object (a downloaded file) vouches for the archive KEY of SIZE bytes
#       stored at STORED: prints the sha256 it records, or exits 1 with the reason on stderr (it
#       names another key or size, was stored before the archive, gives times that disagree with
#       S3's by more than SKEW_SECONDS, or is unreadable).
#
# A key name is only a name (anyone who can write the bucket picks it): choose_backup decides by
# the manifest, its sha256 and the times S3 recorded. Every failure is one line on stderr, exit 1,
# never a traceback. Exit 2: usage.
# Comments, not docstrings: the SSM documents carry this file (64 KB at most each).
import hashlib
import json
import os
import re
import sys
from datetime import datetime

import subcommands

USAGE = ("usage: backup_objects.py manifest KEY FILE CREATED_AT UPLOADED_AT APP ENV DATABASE"
         " | candidates LISTING PATTERN WANTED | check MANIFEST KEY SIZE STORED MANIFEST_STORED SKEW_SECONDS")


def when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def manifest(key, path, created, uploaded, app, env, database):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    print(json.dumps(dict(schemaVersion=1, key=key, bytes=os.path.getsize(path), sha256=digest.hexdigest(), createdAt=created,
                          uploadedAt=uploaded, app=app, environment=env, database=database)))
    return 0


def candidates(listing, pattern, wanted):
    with open(listing) as f:
        listed = json.load(f) or []
    pattern = re.compile(pattern)
    stored = {name: modified for name, modified, size in listed}
    backups = sorted(((when(m), n, m, s) for n, m, s in listed if pattern.search(n) and (not wanted or n == wanted)), reverse=True)
    for _, name, modified, size in backups:
        manifest_key = name[: -len(".tar.gz")] + ".manifest.json"
        print("\t".join([name, when(modified).strftime("%Y-%m-%dT%H:%M:%SZ"), str(size), manifest_key, stored.get(manifest_key, "")]))
    return 0


def check(path, key, size, stored, manifest_stored, skew):
    def at(text):
        return when(text).timestamp()
    try:
        with open(path) as f:
            m = json.load(f)
        created, uploaded = at(m["createdAt"]), at(m["uploadedAt"])
        if m["key"] != key:
            sys.exit("its manifest names another backup (%s)" % m["key"])
        if at(manifest_stored) < at(stored):
            sys.exit("stored after its manifest was written (overwritten?): archive stored %s, manifest %s" % (stored, manifest_stored))
        if m["bytes"] != int(size):
            sys.exit("%s bytes, its manifest says %s" % (size, m["bytes"]))
        if not created - int(skew) <= at(stored) <= uploaded + int(skew):
            sys.exit("stored at %s, outside the times its manifest gives (%s to %s)" % (stored, m["createdAt"], m["uploadedAt"]))
        if len(m["sha256"]) != 64:
            sys.exit("its manifest holds no sha256")
        print(m["sha256"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        sys.exit("its manifest is not readable (%s: %s)" % (type(error).__name__, error))
    return 0


if __name__ == "__main__":
    subcommands.run(USAGE, {"manifest": manifest, "candidates": candidates, "check": check}, "backup_objects: ")
