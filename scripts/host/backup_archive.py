#!/usr/bin/env python3
# backup_archive.py: the manifest inside a backup archive (manifest.json beside postgres.dump and
# redis-aof.tar), written by backup.sh, checked by restore.sh and restore-drill.sh.
#
#   backup_archive.py manifest WORK APP ENV DATABASE CREATED_AT REDIS_SOURCE
#       write WORK/manifest.json from the files backup.sh left in WORK: database.bytes (the
#       database's size), tables.tsv (schema.table<TAB>rows), postgres.dump and redis-aof.tar (each
#       recorded by its sha256; a missing one as null).
#   backup_archive.py verify ROOT
#       check every file the manifest in ROOT (an unpacked archive) records against its sha256;
#       print the manifest's createdAt as seconds since the epoch.
#   backup_archive.py verify-counts ROOT WORK
#       as verify, and the manifest must record the row counts (tableRowsAtBackup): written to
#       WORK/recorded.tsv (sorted, name<TAB>rows), the database's size to WORK/database.bytes.
#   backup_archive.py compare RECORDED RESTORED KEY
#       the drill's table: each table's recorded and restored row count and the result; exit 0
#       when every recorded table came back with its count, 3 when any is missing or differs.
#
# A check that fails is one line on stderr, exit 1, never a traceback. Exit 2: usage.
# Comments, not docstrings: the SSM documents carry this file (64 KB at most each).
import calendar
import hashlib
import json
import os
import sys

import subcommands
import time

USAGE = ("usage: backup_archive.py manifest WORK APP ENV DATABASE CREATED_AT REDIS_SOURCE | verify ROOT"
         " | verify-counts ROOT WORK | compare RECORDED RESTORED KEY")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_counts(path):
    rows = {}
    with open(path) as f:
        for line in f:
            name, count = line.rstrip("\n").split("\t")
            rows[name] = int(count)
    return rows


def manifest(work, app, env, database, created, redis_source):
    with open(os.path.join(work, "database.bytes")) as f:
        database_bytes = int(f.read())
    files = {}
    for name in ("postgres.dump", "redis-aof.tar"):
        path = os.path.join(work, name)
        files[name] = sha256(path) if os.path.exists(path) else None
    written = dict(schemaVersion=2, app=app, environment=env, createdAt=created, database=database,
                   databaseBytes=database_bytes, files=files, redisSource=redis_source,
                   tableRowsAtBackup=read_counts(os.path.join(work, "tables.tsv")))
    with open(os.path.join(work, "manifest.json"), "w") as f:
        json.dump(written, f, indent=2)
    return 0


# The manifest in ROOT, once every file it records matches its sha256.
def verified(root):
    with open(os.path.join(root, "manifest.json")) as f:
        recorded = json.load(f)
    for name, expected in recorded["files"].items():
        if expected is None:
            continue
        actual = sha256(os.path.join(root, name))
        if actual != expected:
            sys.exit("%s: sha256 %s, manifest says %s" % (name, actual, expected))
    return recorded


def verify(root):
    print(calendar.timegm(time.strptime(verified(root)["createdAt"], "%Y-%m-%dT%H:%M:%SZ")))
    return 0


def verify_counts(root, work):
    recorded = verified(root)
    tables = recorded.get("tableRowsAtBackup")
    if not isinstance(tables, dict) or not all(isinstance(v, int) for v in tables.values()):
        sys.exit("the manifest records no row counts (tableRowsAtBackup): nothing to compare the restore with")
    with open(os.path.join(work, "recorded.tsv"), "w") as f:
        for name in sorted(tables):
            f.write("%s\t%d\n" % (name, tables[name]))
    with open(os.path.join(work, "database.bytes"), "w") as f:
        f.write("%d\n" % int(recorded.get("databaseBytes") or 0))
    return 0


def compare(recorded_path, restored_path, key):
    recorded, restored = read_counts(recorded_path), read_counts(restored_path)
    bad = 0
    print("restore drill of %s" % key)
    print("%-40s %12s %12s  %s" % ("table", "recorded", "restored", "result"))
    for name in sorted(set(recorded) | set(restored)):
        s, r = recorded.get(name), restored.get(name)
        if r is None:
            result, bad = "MISSING", bad + 1
        elif s is None:
            result = "not recorded"
        elif r < s:
            result, bad = "LOST %d" % (s - r), bad + 1
        elif r > s:
            result, bad = "EXTRA %d" % (r - s), bad + 1
        else:
            result = "ok"
        print("%-40s %12s %12s  %s" % (name, "-" if s is None else s, "-" if r is None else r, result))
    print("tables: %d recorded, %d restored, %d missing or with other row counts than recorded" % (len(recorded), len(restored), bad))
    return 3 if bad else 0


if __name__ == "__main__":
    subcommands.run(USAGE, {"manifest": manifest, "verify": verify, "verify-counts": verify_counts, "compare": compare})
