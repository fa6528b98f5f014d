# SPDX-License-Identifier: Apache-2.0
"""Restarts and probes against a real containerd: a crashing container
restarted with the kubelet's back-off (at once, then 10 s, then 20 s) and
shown as CrashLoopBackOff; restart policies Never and OnFailure finishing
a pod; a failing exec liveness probe restarting the container; a tcpSocket
startup probe, then an httpGet readiness probe flipping the Ready
condition both ways; the termination message of a crashed container."""
import re
from datetime import datetime

from containerd import containerd  # noqa: F401
from podutil import (busybox_pod, condition, cri, cstatus, running,
                     runtime_yaml, sandboxes, static_name, wait_for,
                     wait_status, write_manifest)


def creations(es, name):
    """Wall-clock times edgesite created each instance of container c."""
    rx = re.compile(r"^(\S+)Z info: pod default/%s: creating container c "
                    r"\(attempt (\d+)\)" % re.escape(name))
    out = []
    for line in es.log().splitlines():
        m = rx.match(line)
        if m:
            out.append(datetime.fromisoformat(m.group(1)).timestamp())
    return out


def waiting_reason(st, c="c"):
    return cstatus(st, c)["state"].get("waiting", {}).get("reason")


def test_crash_loop_back_off(containerd, edgesite_factory):
    es = edgesite_factory(runtime_yaml(containerd))
    write_manifest(es, "crash.yaml", busybox_pod(
        "crash", ["sh", "-c", "echo out of luck > /dev/termination-log; "
                  "exit 3"], grace=1))
    es.start()
    name = static_name("crash")
    # four instances: at once, then a restart at once, then 10 s, 20 s
    wait_for(lambda: len(creations(es, name)) >= 4, timeout=60,
             what="four instances of the crashing container")
    t = creations(es, name)
    gaps = [t[i + 1] - t[i] for i in range(3)]
    assert gaps[0] < 5, gaps
    assert 9 <= gaps[1] <= 15, gaps
    assert 19 <= gaps[2] <= 26, gaps
    st = wait_status(es, "default", name,
                     lambda s: waiting_reason(s) == "CrashLoopBackOff")
    cs = cstatus(st, "c")
    assert "back-off 40s restarting failed container=c" in \
        cs["state"]["waiting"]["message"], cs
    assert cs["lastState"]["terminated"]["exitCode"] == 3
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    assert cs["lastState"]["terminated"]["message"] == "out of luck\n"
    assert cs["restartCount"] == 3
    assert st["phase"] == "Running"
    assert condition(st, "Ready") == "False"
    es.wait_log(r"pod default/%s: BackOff: Back-off restarting failed "
                r"container c" % name)
    # dead instances beyond maximum-dead-containers-per-container go
    sbs = sandboxes(containerd, "default", name)
    assert len(sbs) == 1
    lines = cri(containerd, "list-containers")
    mine = [ln for ln in lines if ln.startswith("container ") and
            ln.split()[4] == sbs[0][0]]
    assert 1 <= len(mine) <= 2, mine


def test_restart_policies_finish_pods(containerd, edgesite_factory):
    es = edgesite_factory(runtime_yaml(containerd))
    write_manifest(es, "ok.yaml", busybox_pod(
        "done-ok", ["sh", "-c", "exit 0"],
        extra_spec="  restartPolicy: Never\n"))
    write_manifest(es, "bad.yaml", busybox_pod(
        "done-bad", ["sh", "-c", "exit 2"],
        extra_spec="  restartPolicy: Never\n"))
    write_manifest(es, "retry.yaml", busybox_pod(
        "retry", ["sh", "-c", "test -f /tmp/x && exit 0; exit 1"],
        extra_spec="  restartPolicy: OnFailure\n"))
    es.start()
    st = wait_status(es, "default", static_name("done-ok"),
                     lambda s: s["phase"] == "Succeeded")
    assert cstatus(st, "c")["state"]["terminated"]["reason"] == "Completed"
    assert condition(st, "Ready") == "False"
    st = wait_status(es, "default", static_name("done-bad"),
                     lambda s: s["phase"] == "Failed")
    assert cstatus(st, "c")["state"]["terminated"]["exitCode"] == 2
    # a finished pod keeps its container but its sandbox stops
    wait_for(lambda: sandboxes(containerd, "default",
                               static_name("done-ok")) ==
             [(sandboxes(containerd, "default",
                         static_name("done-ok"))[0][0], False)],
             what="the finished pod's sandbox stopped")
    # OnFailure restarts a failure (never a success): it stays Running
    st = wait_status(es, "default", static_name("retry"),
                     lambda s: cstatus(s, "c")["restartCount"] >= 1)
    assert st["phase"] == "Running"


def test_liveness_failure_restarts(containerd, edgesite_factory):
    es = edgesite_factory(runtime_yaml(containerd))
    probe = ("    livenessProbe:\n      exec:\n        command: [test, -f, "
             "/tmp/healthy]\n      periodSeconds: 1\n"
             "      failureThreshold: 2\n")
    write_manifest(es, "live.yaml", busybox_pod(
        "live", ["sh", "-c", "touch /tmp/healthy; exec sleep 1000"],
        extra_container=probe, grace=1))
    es.start()
    name = static_name("live")
    st = wait_status(es, "default", name, running)
    cid = cstatus(st, "c")["containerID"].split("//")[1]
    # healthy for a while: no restart
    es.wait_log(r"pod default/%s: status .*\"ready\":true" % name)
    out = cri(containerd, "exec", "id=%s" % cid, "rm", "/tmp/healthy")
    assert any(ln.startswith("exec OK exit=0") for ln in out), out
    st = wait_status(es, "default", name,
                     lambda s: cstatus(s, "c")["restartCount"] == 1 and
                     running(s), timeout=40)
    cs = cstatus(st, "c")
    assert cs["containerID"].split("//")[1] != cid
    assert cs["lastState"]["terminated"]["exitCode"] == 137
    es.wait_log(r"pod default/%s: Unhealthy: Liveness probe failed: "
                r"command exited 1" % name)
    es.wait_log(r"pod default/%s: container c: liveness probe failed" % name)


def test_readiness_flips_ready(containerd, edgesite_factory):
    es = edgesite_factory(runtime_yaml(containerd))
    probe = ("    startupProbe:\n      tcpSocket:\n        port: 8080\n"
             "      periodSeconds: 1\n"
             "    readinessProbe:\n      httpGet:\n        path: /ready.html"
             "\n        port: web\n      periodSeconds: 1\n"
             "      failureThreshold: 1\n"
             "    ports:\n    - name: web\n      containerPort: 8080\n")
    write_manifest(es, "ready.yaml", busybox_pod(
        "ready", ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
        extra_container=probe, grace=1))
    es.start()
    name = static_name("ready")
    # the startup probe (tcpSocket) lets the readiness probe start
    st = wait_status(es, "default", name, lambda s: running(s) and
                     cstatus(s, "c")["started"])
    assert condition(st, "Ready") == "False"
    assert not cstatus(st, "c")["ready"]
    es.wait_log(r"pod default/%s: container c: startup probe succeeded" %
                name)
    cid = cstatus(st, "c")["containerID"].split("//")[1]
    es.wait_log(r"pod default/%s: Unhealthy: Readiness probe failed: HTTP "
                r"probe failed with statuscode: 404" % name)
    cri(containerd, "exec", "id=%s" % cid, "touch", "/var/www/ready.html")
    st = wait_status(es, "default", name,
                     lambda s: condition(s, "Ready") == "True", timeout=20)
    assert condition(st, "ContainersReady") == "True"
    assert cstatus(st, "c")["ready"]
    cri(containerd, "exec", "id=%s" % cid, "rm", "/var/www/ready.html")
    st = wait_status(es, "default", name,
                     lambda s: condition(s, "Ready") == "False", timeout=20)
    ready = [c for c in st["conditions"] if c["type"] == "Ready"][0]
    assert ready["reason"] == "ContainersNotReady"
    assert "[c]" in ready["message"]
    # readiness never restarts anything
    assert cstatus(st, "c")["restartCount"] == 0
