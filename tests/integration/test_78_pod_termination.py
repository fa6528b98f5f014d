# SPDX-License-Identifier: Apache-2.0
"""Termination against a real containerd: a container that ignores SIGTERM
is killed when the pod's grace period ends (not before), one that exits on
SIGTERM goes at once, a preStop hook runs before the stop; an orphan (a
pod removed while edgesite was down) is found by the relist and removed,
and edgesite stopped with SIGTERM leaves its pods running."""
import glob
import os
import re

from harness import log_events, wait_for
from podutil import (busybox_pod, remove_manifest, running, runtime_yaml,
                     sandboxes, static_name, wait_status, write_manifest)

STUBBORN = ["sh", "-c", "trap 'echo ignoring TERM' TERM; "
            "while true; do sleep 1; done"]


def stop_took(es, name):
    """Seconds from edgesite's StopContainer of pod name's container c
    (logged with the grace it gave) to the runtime's answer, and that
    grace."""
    asked = log_events(es, r"^pod default/%s: stopping container c (\w+), "
                       r"grace (\d+)s$" % re.escape(name))
    assert len(asked) == 1, asked
    t0, m = asked[0]
    done = log_events(es, r"^pod default/%s: container c %s stopped$" % (
        re.escape(name), m.group(1)))
    assert len(done) == 1, done
    return done[0][0] - t0, int(m.group(2))


def test_grace_period_is_honoured(containerd, edgesite_factory):
    es = edgesite_factory(runtime_yaml(containerd))
    write_manifest(es, "slow.yaml", busybox_pod("slow", STUBBORN, grace=6))
    write_manifest(es, "quick.yaml", busybox_pod(
        "quick", ["sh", "-c", "trap 'exit 0' TERM; "
                  "while true; do sleep 0.2; done"], grace=30))
    es.start()
    slow, quick = static_name("slow"), static_name("quick")
    wait_status(es, "default", slow, running)
    wait_status(es, "default", quick, running)

    remove_manifest(es, "slow.yaml")
    remove_manifest(es, "quick.yaml")
    es.wait_log(r"pod default/%s: terminating, grace period 6s" % slow)
    wait_for(lambda: not sandboxes(containerd, "default", quick),
             timeout=60, what="the quick pod removed")
    wait_for(lambda: not sandboxes(containerd, "default", slow),
             timeout=60, what="the slow pod removed")
    # Measured from edgesite's StopContainer to the runtime's answer: the
    # stubborn one is killed only once its 6 s are over (a busy machine
    # makes it later, never sooner); SIGTERM is enough for the other.
    took, grace = stop_took(es, slow)
    assert grace == 6 and took >= 5.9, (took, grace)
    took, grace = stop_took(es, quick)
    assert grace == 30 and took < 15, (took, grace)


def test_prestop_hook_runs_first(containerd, edgesite_factory):
    es = edgesite_factory(runtime_yaml(containerd))
    out = es.tmp / "hook-out"
    hook = ("    lifecycle:\n      preStop:\n        exec:\n          "
            "command: [sh, -c, \"echo stopping > /out/hook\"]\n"
            "    volumeMounts:\n    - {name: out, mountPath: /out}\n")
    vol = ("  volumes:\n  - name: out\n    hostPath:\n      path: %s\n"
           "      type: DirectoryOrCreate\n" % out)
    write_manifest(es, "hook.yaml", busybox_pod(
        "hook", ["sleep", "1000"], extra_container=hook, extra_spec=vol,
        grace=3))
    es.start()
    name = static_name("hook")
    wait_status(es, "default", name, running)
    assert not (out / "hook").exists()
    remove_manifest(es, "hook.yaml")
    wait_for(lambda: not sandboxes(containerd, "default", name),
             timeout=30, what="the pod removed")
    assert (out / "hook").read_text() == "stopping\n"
    assert os.path.isdir(out)		# a hostPath is never removed


def test_orphans_are_removed(containerd, edgesite_factory):
    es = edgesite_factory(runtime_yaml(containerd))
    write_manifest(es, "keep.yaml", busybox_pod("keep", ["sleep", "1000"],
                                                grace=1))
    write_manifest(es, "gone.yaml", busybox_pod("gone", ["sleep", "1000"],
                                                grace=1))
    es.start()
    keep, gone = static_name("keep"), static_name("gone")
    st = wait_status(es, "default", keep, running)
    wait_status(es, "default", gone, running)
    cid = st["containerStatuses"][0]["containerID"]
    # SIGTERM leaves the pods running
    assert es.stop() == 0
    assert sandboxes(containerd, "default", keep)[0][1]
    remove_manifest(es, "gone.yaml")
    start = len(es.log())
    es.start()
    es.wait_log(r"pod default/%s: runtime objects of uid \w+ belong to no "
                r"pod, removing them" % gone, start=start, timeout=20)
    wait_for(lambda: not sandboxes(containerd, "default", gone),
             timeout=30, what="the orphan removed")
    # the pod still there was adopted, not restarted
    st = wait_status(es, "default", keep, running)
    assert st["containerStatuses"][0]["containerID"] == cid
    assert len(sandboxes(containerd, "default", keep)) == 1


def test_large_empty_dir_goes_in_steps(containerd, edgesite_factory):
    """A deleted pod's folders are removed a few hundred entries per loop
    turn, not at once inside the planner: 20000 files of an emptyDir take
    many steps, the loop answers meanwhile, and the pod is "removed" only
    once its folder is gone."""
    es = edgesite_factory(runtime_yaml(containerd))
    fill = ("mkdir -p /data/d && cd /data/d && i=0; "
            "while [ $i -lt 20000 ]; do : > f$i; i=$((i+1)); done; "
            "touch /data/done; sleep 1000")
    mount = "    volumeMounts:\n    - {name: data, mountPath: /data}\n"
    vol = "  volumes:\n  - name: data\n    emptyDir: {}\n"
    write_manifest(es, "big.yaml", busybox_pod(
        "big", ["sh", "-c", fill], extra_container=mount, extra_spec=vol,
        grace=1))
    es.start()
    name = static_name("big")
    wait_status(es, "default", name, running)
    done = wait_for(lambda: glob.glob(os.path.join(
        es.state_dir, "pods", "*", "volumes", "kubernetes.io~empty-dir",
        "data", "done")), timeout=120, what="20000 files written")
    poddir = done[0].split("/volumes/")[0]
    remove_manifest(es, "big.yaml")
    m = es.wait_log(r"pod default/%s: removed %s in (\d+) steps" % (
        name, re.escape(poddir)), timeout=60)
    assert int(m.group(1)) > 20000 // 256, m.group(1)
    es.wait_log(r"pod default/%s: removed\n" % name, timeout=10)
    assert not os.path.exists(poddir)
    assert es.get("/healthz")[0] == 200
