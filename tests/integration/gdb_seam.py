# SPDX-License-Identifier: Apache-2.0
"""Runs inside gdb, not pytest: kills edgesite exactly at the seam between
"a pod status is computed" and "it is queued upstream".

    SEAM_REPORT=FILE gdb -q -batch -nx -x gdb_seam.py --args edgesite ...

Each time pod_status_build returns (the status is computed), the next
LevelDB write (leveldb_write, from store.c) is caught. When that write
comes from pod_sync_status_put (the status changed and is being stored),
it is let complete (finish) and edgesite is SIGKILLed (gdb's kill) before
it runs one more instruction of its own. Any other write means the status
was unchanged: the watch goes back to pod_status_build. Code that stored
the status and its outbox record in two writes leaves the first without
the second; one batch leaves both or neither.

FILE gets a JSON object: {"pid"} once edgesite runs, then its final
state: "killed" (with "stack", the callers of the write, newest first, and
"passed", the writes let through first), "exited", "stopped" (an
unexpected stop, with "stack"), or why it could not start (a binary
without debug information), so the caller can tell and clean up."""
import json
import os

import gdb  # pylint: disable=import-error

STATUS_BUILD = "pod_status_build"
STATUS_PUT = "pod_sync_status_put"
WRITE = "leveldb_write"
# Signals edgesite handles or ignores itself: gdb must not stop on them.
PASSED = ("SIGPIPE", "SIGCHLD", "SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1",
          "SIGUSR2", "SIGALRM")


def report(**kw):
    tmp = os.environ["SEAM_REPORT"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(kw, f)
    os.rename(tmp, os.environ["SEAM_REPORT"])


def stack(limit=40):
    """Function names from the newest frame out (inlined ones included)."""
    out = []
    f = gdb.newest_frame()
    while f is not None and len(out) < limit:
        out.append(f.name() or "??")
        f = f.older()
    return out


def alive():
    return gdb.selected_inferior().pid != 0


def setup():
    for cmd in ("set pagination off", "set confirm off",
                "set breakpoint pending on", "set print thread-events off"):
        gdb.execute(cmd)
    for sig in PASSED:
        gdb.execute("handle %s nostop noprint pass" % sig)
    built = gdb.Breakpoint(STATUS_BUILD)
    write = gdb.Breakpoint(WRITE)
    write.enabled = False
    return built, write


def main():
    # Needs the debug information of --enable-debug (-g): STATUS_PUT is
    # static and inlined, only DWARF names it in a backtrace.
    if gdb.lookup_global_symbol(STATUS_BUILD) is None:
        report(pid=0, state="no debug information for %s: build with "
               "--enable-debug" % STATUS_BUILD)
        return
    built, write = setup()
    gdb.execute("run")
    pid = gdb.selected_inferior().pid
    report(pid=pid, state="running")
    passed = 0
    while alive():
        where = stack(1)[0]
        if where == STATUS_BUILD:
            gdb.execute("finish")  # the status is computed
            built.enabled, write.enabled = False, True
        elif where.startswith(WRITE):
            callers = stack()
            if STATUS_PUT in callers:
                gdb.execute("finish")  # that one write completes
                gdb.execute("kill")  # SIGKILL, nothing more runs
                report(pid=pid, state="killed", stack=callers,
                       passed=passed)
                return
            passed += 1  # the status was unchanged
            built.enabled, write.enabled = True, False
        else:
            report(pid=pid, state="stopped", stack=stack())
            gdb.execute("kill")
            return
        gdb.execute("continue")
    report(pid=pid, state="exited")


main()
