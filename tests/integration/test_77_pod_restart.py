# SPDX-License-Identifier: Apache-2.0
"""Restarts and probes against a real containerd: a crashing container
restarted with the kubelet's back-off (at once, then 10 s, then 20 s) and
shown as CrashLoopBackOff; restart policies Never and OnFailure finishing
a pod; a failing exec liveness probe restarting the container; a tcpSocket
startup probe, then an httpGet readiness probe flipping the Ready
condition both ways; the termination message of a crashed container."""
import re

from harness import log_events, stamp, wait_for
from podutil import (busybox_pod, condition, cri, cstatus, running,
                     runtime_yaml, sandboxes, static_name, statuses,
                     wait_status, write_manifest)


def decisions(es, name):
    """{attempt: (t, back-off s, exit t)}: each restart edgesite decided for
    container c, when it logged the decision, the back-off it waited (0: at
    once) and the exit (the runtime's finishedAt) it counted from."""
    out = {}
    for t, m in log_events(es, r"^pod default/%s: container c: starting "
                           r"attempt (\d+) (?:at once after|after back-off "
                           r"(\d+)s from) exit at (\S+)$" % re.escape(name)):
        out[int(m.group(1))] = (t, int(m.group(2) or 0), stamp(m.group(3)))
    return out


def creations(es, name):
    """{attempt: t} of the first creation of each instance of c."""
    out = {}
    for t, m in log_events(es, r"^pod default/%s: creating container c "
                           r"\(attempt (\d+)\)" % re.escape(name)):
        out.setdefault(int(m.group(1)), t)
    return out


def check_backoff(es, name, want):
    """Each restart in want ({attempt: back-off s}) was decided no sooner
    than its back-off after the exit it counted (a busy machine only makes
    it later), and no instance was created before its decision."""
    d, c = decisions(es, name), creations(es, name)
    for attempt, backoff in want.items():
        assert attempt in d, ("attempt %d started without a back-off "
                              "decision" % attempt, d, c)
        t, waited, exited = d[attempt]
        assert waited == backoff, (attempt, d)
        # both stamps are cut to the millisecond
        assert t - exited >= backoff - 0.002, (attempt, t - exited, d)
        assert t - exited < backoff + 15, (attempt, t - exited, d)
    for attempt, t in c.items():
        if attempt > 0:
            assert attempt in d and d[attempt][0] <= t, (attempt, d, c)


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
    wait_for(lambda: 3 in creations(es, name), timeout=90, es=es,
             what="four instances of the crashing container")
    check_backoff(es, name, {1: 0, 2: 10, 3: 20})
    st = wait_status(es, "default", name,
                     lambda s: waiting_reason(s) == "CrashLoopBackOff" and
                     cstatus(s, "c")["restartCount"] == 3)
    cs = cstatus(st, "c")
    assert "back-off 40s restarting failed container=c" in \
        cs["state"]["waiting"]["message"], cs
    assert cs["lastState"]["terminated"]["exitCode"] == 3
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    assert cs["lastState"]["terminated"]["message"] == "out of luck\n"
    assert st["phase"] == "Running"
    assert condition(st, "Ready") == "False"
    # the exit each decision counted from is the one the status shows
    exits = {stamp(s_cs["lastState"]["terminated"]["finishedAt"])
             for s_cs in (cstatus(s, "c") for s in
                          statuses(es, "default", name))
             if s_cs and "terminated" in s_cs.get("lastState", {})}
    for t, _, exited in decisions(es, name).values():
        assert int(exited) in exits, (exited, exits)
    es.wait_log(r"pod default/%s: BackOff: Back-off restarting failed "
                r"container c" % name)
    # dead instances beyond maximum-dead-containers-per-container go
    sbs = sandboxes(containerd, "default", name)
    assert len(sbs) == 1
    lines = cri(containerd, "list-containers")
    mine = [ln for ln in lines if ln.startswith("container ") and
            ln.split()[4] == sbs[0][0]]
    assert 1 <= len(mine) <= 2, mine


def test_back_off_outlives_the_sandbox(containerd, edgesite_factory):
    """A sandbox killed from outside during a crash loop's back-off (as a
    kubelet beside edgesite kills the processes of pod cgroups it does not
    know) is made again, but the container still waits for its back-off:
    it is keyed by the container, as a kubelet's, not by the sandbox."""
    es = edgesite_factory(runtime_yaml(containerd))
    write_manifest(es, "crash.yaml", busybox_pod(
        "crash2", ["sh", "-c", "exit 3"], grace=1))
    es.start()
    name = static_name("crash2")
    st = wait_status(es, "default", name,
                     lambda s: cstatus(s, "c")["restartCount"] == 2 and
                     waiting_reason(s) == "CrashLoopBackOff", timeout=90)
    assert "back-off 20s" in cstatus(st, "c")["state"]["waiting"]["message"]
    (sid, ready), = sandboxes(containerd, "default", name)
    out = cri(containerd, "stop-sandbox", "id=%s" % sid)
    assert not any("error" in ln.lower() for ln in out), out
    es.wait_log(r"pod default/%s: SandboxChanged" % name, timeout=30)
    wait_for(lambda: 3 in creations(es, name), timeout=60, es=es,
             what="the container in the new sandbox")
    check_backoff(es, name, {1: 0, 2: 10, 3: 20})
    sbs = sandboxes(containerd, "default", name)
    assert len([s for s in sbs if s[1]]) == 1 and sid not in \
        [s[0] for s in sbs if s[1]], sbs


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
    # an exec taking long on a busy machine is no failure: only the
    # command's exit status is
    probe = ("    livenessProbe:\n      exec:\n        command: [test, -f, "
             "/tmp/healthy]\n      periodSeconds: 1\n"
             "      timeoutSeconds: 10\n      failureThreshold: 2\n")
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
    # httpd may take seconds to listen on a busy machine: the startup
    # probe waits for it rather than restarting it
    probe = ("    startupProbe:\n      tcpSocket:\n        port: 8080\n"
             "      periodSeconds: 1\n      failureThreshold: 60\n"
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
    restarts = cstatus(st, "c")["restartCount"]
    es.wait_log(r"pod default/%s: Unhealthy: Readiness probe failed: HTTP "
                r"probe failed with statuscode: 404" % name)
    cri(containerd, "exec", "id=%s" % cid, "touch", "/var/www/ready.html")
    st = wait_status(es, "default", name,
                     lambda s: condition(s, "Ready") == "True", timeout=60)
    assert condition(st, "ContainersReady") == "True"
    assert cstatus(st, "c")["ready"]
    cri(containerd, "exec", "id=%s" % cid, "rm", "/var/www/ready.html")
    st = wait_status(es, "default", name,
                     lambda s: condition(s, "Ready") == "False", timeout=60)
    ready = [c for c in st["conditions"] if c["type"] == "Ready"][0]
    assert ready["reason"] == "ContainersNotReady"
    assert "[c]" in ready["message"]
    # readiness never restarts anything: the same instance all along
    assert cstatus(st, "c")["restartCount"] == restarts == 0
    assert cstatus(st, "c")["containerID"].split("//")[1] == cid
    assert "startup probe failed" not in es.log()
