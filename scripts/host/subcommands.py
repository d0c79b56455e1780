# subcommands.py: the command line of the host's Python programs that take a subcommand
# (state_file.py, backup_objects.py, backup_archive.py), imported from beside them: the documents
# ship it with each (lib/host-runtime/scripts.ts follows the import).
#
# run(USAGE, COMMANDS, PREFIX): COMMANDS maps a subcommand to the function taking its arguments, one
# argument a parameter; the function's return value is the exit code. A subcommand that is not
# there, or the wrong number of arguments: USAGE on stderr, exit 2. Any error the function does not
# handle itself: one line on stderr (PREFIX, the kind of error and its message), exit 1, never a
# traceback.
# Comments, not docstrings: the SSM documents carry this file (64 KB at most each).
import sys


def run(usage, commands, prefix=""):
    function = commands.get(sys.argv[1] if len(sys.argv) > 1 else "")
    if function is None or len(sys.argv) != 2 + function.__code__.co_argcount:
        sys.stderr.write(usage + "\n")
        sys.exit(2)
    sys.excepthook = lambda kind, error, tb: sys.stderr.write("%s%s: %s\n" % (prefix, kind.__name__, error))
    sys.exit(function(*sys.argv[2:]))
