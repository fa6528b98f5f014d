# SPDX-License-Identifier: Apache-2.0
"""Pods survive what happens around them, against a real containerd:
containerd restarted mid-run (the pods keep their containers, a pod added
meanwhile starts once it is back) and edgesite killed with SIGKILL at
several points of a sync and started again, which leaves exactly one
sandbox and one running container per pod."""
import signal
import time

from harness import wait_for
from podutil import (busybox_pod, containers, cstatus, running,
                     runtime_yaml, sandboxes, static_name, wait_status,
                     write_manifest)


def test_containerd_restarted_mid_run(containerd, edgesite_factory):
    es = edgesite_factory(runtime_yaml(containerd))
    for n in ("one", "two"):
        write_manifest(es, n + ".yaml", busybox_pod(n, ["sleep", "1000"],
                                                    grace=1))
    es.start()
    before = {}
    for n in ("one", "two"):
        st = wait_status(es, "default", static_name(n), running)
        before[n] = cstatus(st, "c")["containerID"]

    containerd.stop_containerd()
    es.wait_log(r"pods: runtime \w+, waiting for it", timeout=20)
    write_manifest(es, "three.yaml", busybox_pod("three", ["sleep", "1000"],
                                                 grace=1))
    time.sleep(2)
    containerd.restart()
    es.wait_log(r"pods: runtime ready, reconciling", timeout=30,
                start=es.log().rfind("waiting for it"))
    st = wait_status(es, "default", static_name("three"), running)
    for n in ("one", "two"):
        st = wait_status(es, "default", static_name(n), running)
        assert cstatus(st, "c")["containerID"] == before[n]
        assert cstatus(st, "c")["restartCount"] == 0
        assert len(sandboxes(containerd, "default", static_name(n))) == 1


def test_sigkill_mid_sync_never_doubles_a_sandbox(containerd,
                                                  edgesite_factory):
    es = edgesite_factory(runtime_yaml(containerd))
    names = ["k%d" % i for i in range(6)]
    for n in names:
        write_manifest(es, n + ".yaml", busybox_pod(n, ["sleep", "1000"],
                                                    grace=1))
    # killed at points spread over the first second of syncing
    for delay in (0.05, 0.15, 0.3, 0.5, 0.8, 1.3, 2.0):
        es.start(wait=False)
        time.sleep(delay)
        es.stop(signal.SIGKILL)
    es.start()
    for n in names:
        wait_status(es, "default", static_name(n), running, timeout=90)
    # and nothing more appears once it has settled
    time.sleep(3)
    for n in names:
        sbs = sandboxes(containerd, "default", static_name(n))
        assert len(sbs) == 1 and sbs[0][1], (n, sbs)
        # a start cut short by the kill may leave one exited instance
        cts = containers(containerd, [sbs[0][0]])
        assert len([c for c in cts if c[1] == 1]) == 1, (n, cts)
        assert all(c[1] in (1, 2) for c in cts) and len(cts) <= 2, \
            (n, cts)
