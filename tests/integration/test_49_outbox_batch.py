# SPDX-License-Identifier: Apache-2.0
"""The road upstream goes through the store: a pod's status (p/) and its
outbox record (x/pods/<ns>/<name>/status) are written in one batch. With
the apiserver cut off (the fault proxy stops listening) and pods changing
status (a crash loop, a readiness probe that flips), edgesite is SIGKILLed
many times at random moments; after each kill the store holds, for every
cluster pod, both a status and a record carrying that same status, or
neither. The same holds when the kill lands exactly at the seam: edgesite
run under gdb (gdb_seam.py) is SIGKILLed right after the LevelDB write
that stores a new status, where code that queued the record in a second
write would leave the status without it. Back online, the apiserver gets
the latest status and the outbox drains. Events recorded offline are
delivered after the reconnect exactly once, even when edgesite is killed
after the apiserver took them but before it heard the answer (the resend
meets 409 AlreadyExists). Waiting Event records are bounded, the oldest
dropped first. Standalone, nothing is recorded for upstream. All but the
last run only with EDGESITE_TEST_KUBE=1."""
import json
import os
import random
import shutil
import signal
import subprocess
import time
import uuid

import pytest

import storeio
from conftest import HERE, edgesite_bin
from fault_proxy import FaultProxy
from harness import cluster_pod, forget_node, missing, node_yaml, wait_for
from podutil import BUSYBOX, runtime_yaml, static_name, write_manifest

kube_test = pytest.mark.kube

KILLS = 15
SEAM_KILLS = 6
EVENTS = r"^/api/v1/namespaces/default/events$"


@pytest.fixture
def node(kube_cluster, containerd, edgesite_factory):
    """edgesite joined as a fresh node through a fault proxy; yields
    (proxy, es, node name). Pods, Node and Lease are deleted at the end."""
    name = "es-road-%s" % uuid.uuid4().hex[:8]
    proxy = FaultProxy.for_node(kube_cluster, name)
    es = edgesite_factory(node_yaml(kube_cluster, name, master=proxy.url) +
                          runtime_yaml(containerd))
    es.start()
    wait_for(lambda: kube_cluster.request("/api/v1/nodes/" + name)[0] ==
             200, what="the Node registered")
    try:
        yield proxy, es, name
    finally:
        proxy.unstall()
        proxy.up()
        es.stop()
        proxy.close()
        forget_node(kube_cluster, name)


def pod(name, node, command, extra=None):
    c = {"imagePullPolicy": "IfNotPresent"}
    c.update(extra or {})
    return cluster_pod(name, node, command, image=BUSYBOX, container=c,
                       spec={"terminationGracePeriodSeconds": 1})


def crashing(name, node):
    return pod(name, node, ["sh", "-c", "sleep 1; exit 1"])


def flipping(name, node):
    """Ready for two seconds, not ready for two, and so on."""
    return pod(name, node, ["sleep", "100000"], {"readinessProbe": {
        "exec": {"command": ["sh", "-c",
                             "test $(( $(date +%s) / 2 % 2 )) -eq 0"]},
        "periodSeconds": 1}})


def keys(es, prefix):
    status, _, body = es.get("/debug/store?prefix=" + prefix)
    assert status == 200, body
    return {i["key"] for i in json.loads(body)["items"]}


def read_store(es, prefix):
    """{key: payload} under prefix, read while edgesite is down."""
    db = storeio.open_store(es.state_dir)
    try:
        return {k.decode(): json.loads(storeio.unframe(v))
                for k, v in db.iterator(prefix=prefix.encode())}
    finally:
        db.close()


def check_both_or_neither(es, names):
    """For each pod: p/ and its x/ record with the same status and uid, or
    neither. Returns {name: status} of those stored."""
    st = read_store(es, "p/default/")
    ob = read_store(es, "x/pods/default/")
    seen = {}
    for n in names:
        p = st.get("p/default/" + n)
        x = ob.get("x/pods/default/%s/status" % n)
        assert (p is None) == (x is None), (n, p, x)
        if p is None:
            continue
        body = json.loads(x["body"])
        assert x["method"] == "PATCH", x
        assert x["path"] == "/api/v1/namespaces/default/pods/%s/status" % n
        assert body["metadata"]["uid"] == p["uid"], (body, p)
        assert body["status"] == p["status"], (n, body["status"], p)
        seen[n] = p["status"]
    return seen


def upstream_matches(kube_cluster, n, status):
    _, body = kube_cluster.request("/api/v1/namespaces/default/pods/" + n)
    up = json.loads(body).get("status", {})
    return all(up.get(k) == status.get(k)
               for k in ("phase", "conditions", "containerStatuses"))


def changing_offline(kube_cluster, proxy, es, name):
    """A crash-looping and a readiness-flipping pod on the node, each with
    a status stored and recorded while the apiserver is cut off; returns
    their names."""
    names = ["crash-%s" % name, "flip-%s" % name]
    kube_cluster.kubectl("create", "-f", "-",
                         input=json.dumps(crashing(names[0], name)))
    kube_cluster.kubectl("create", "-f", "-",
                         input=json.dumps(flipping(names[1], name)))
    want = {"o/pods/default/" + n for n in names}
    wait_for(lambda: keys(es, "o/pods/") == want, what="the pods stored")
    wait_for(lambda: keys(es, "p/default/") == {
        "p/default/" + n for n in names}, what="the statuses stored")
    proxy.down()
    # Once each pod wrote a status offline, nothing can be delivered any
    # more: from then on every stored status has its record.
    wait_for(lambda: keys(es, "x/pods/") >= {
        "x/pods/default/%s/status" % n for n in names}, timeout=60,
        what="a status of each pod recorded offline")
    return names


@kube_test
def test_status_and_outbox_in_one_batch(kube_cluster, node):
    proxy, es, name = node
    names = changing_offline(kube_cluster, proxy, es, name)
    history = {n: [] for n in names}
    rng = random.Random()
    for i in range(KILLS):
        time.sleep(rng.uniform(0.2, 2.5))
        es.kill()
        for n, s in check_both_or_neither(es, names).items():
            if not history[n] or history[n][-1] != s:
                history[n].append(s)
        es.start()
    # The kills fell between status changes, not on one frozen state.
    assert max(len(h) for h in history.values()) > 2, history

    proxy.up()
    wait_for(lambda: keys(es, "x/pods/") == set(), timeout=60,
             what="the status records drained")
    # Still changing: stop, then every status is upstream or recorded.
    assert es.stop() == 0
    st = read_store(es, "p/default/")
    ob = read_store(es, "x/pods/default/")
    for n in names:
        s = st["p/default/" + n]["status"]
        x = ob.get("x/pods/default/%s/status" % n)
        if x is not None:
            assert json.loads(x["body"])["status"] == s, n
        else:
            assert upstream_matches(kube_cluster, n, s), n


def gdb_path():
    """gdb, which the seam test needs: missing, a skip, or a failure when
    $CI is set (tests/run.sh installs it)."""
    path = shutil.which("gdb")
    if path is None:
        missing("gdb not found (apt-get install gdb)")
    return path


def children(pid):
    """The pids whose parent is pid."""
    out = []
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(d))
    return out


def kill_at_seam(es, gdb, timeout=40):
    """Runs es under gdb (gdb_seam.py) until gdb SIGKILLs it right after
    the write that stores a new pod status; returns gdb's report. Nothing
    of the run outlives the call, whatever happens."""
    path = os.path.join(str(es.tmp), "seam.json")
    if os.path.exists(path):
        os.unlink(path)
    with open(es.log_path, "ab") as logf:
        g = subprocess.Popen(
            [gdb, "-q", "-batch", "-nx", "-x",
             os.path.join(HERE, "gdb_seam.py"), "--args", edgesite_bin(),
             "-c", es.conf_path],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=dict(os.environ, SEAM_REPORT=path))
    try:
        g.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    finally:
        for pid in children(g.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        g.kill()
        g.wait()
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"state": "gdb wrote no report"}


@kube_test
def test_status_and_outbox_at_the_seam(kube_cluster, node):
    """Deterministic: each run ends by a SIGKILL right after the LevelDB
    write that stores a new status, the one moment where a status and its
    record written apart would be split. Each of those writes must have
    left a status the store did not hold before the run."""
    gdb = gdb_path()
    proxy, es, name = node
    names = changing_offline(kube_cluster, proxy, es, name)
    es.kill()
    runs = []
    for _ in range(SEAM_KILLS):
        before = check_both_or_neither(es, names)
        rep = kill_at_seam(es, gdb)
        assert rep["state"] == "killed", (rep, es.log()[-6000:])
        after = check_both_or_neither(es, names)
        runs.append(([n for n in names if after.get(n) != before.get(n)],
                     rep["passed"]))
    # Each caught write was the run's first status write, so it stored a
    # status new to the store: the kills fell on the seam, every time.
    assert all(changed for changed, _ in runs), runs


def events_of(kube_cluster, pod_name):
    _, body = kube_cluster.request(
        "/api/v1/namespaces/default/events?fieldSelector="
        "involvedObject.name%3D" + pod_name)
    return json.loads(body)["items"]


@kube_test
def test_offline_events_delivered_once(kube_cluster, node):
    proxy, es, name = node
    n = "ev-%s" % name
    kube_cluster.kubectl("create", "-f", "-",
                         input=json.dumps(crashing(n, name)))
    wait_for(lambda: any(e["reason"] == "Started"
                         for e in events_of(kube_cluster, n)),
             what="the first events upstream")
    proxy.down()
    wait_for(lambda: len(keys(es, "x/events/default/")) >= 3, timeout=90,
             what="events recorded offline")
    es.kill()
    recorded = read_store(es, "x/events/default/")
    names = {json.loads(r["body"])["metadata"]["name"]
             for r in recorded.values()}
    for r in recorded.values():
        assert r["method"] == "POST" and r["path"] == \
            "/api/v1/namespaces/default/events", r

    # The apiserver takes them, but its answers never reach edgesite.
    proxy.stall(EVENTS)
    proxy.up()
    es.start()
    taken = wait_for(lambda: names & {e["metadata"]["name"]
                                      for e in events_of(kube_cluster, n)},
                     timeout=60, what="offline events created upstream")
    es.send(signal.SIGKILL)
    es.proc.wait()
    left = read_store(es, "x/events/default/")
    assert set(recorded) <= set(left), "answers were held: none is done"

    proxy.unstall()
    mark = len(es.log())
    es.start()
    wait_for(lambda: not (set(recorded) & keys(es, "x/events/default/")),
             timeout=60, what="the offline events done")
    log = es.log()[mark:]
    # The resends met 409 AlreadyExists, taken as delivered.
    assert log.count("already posted") >= len(taken), log
    assert not [ln for ln in log.splitlines()
                if "outbox events/" in ln and "failed for good" in ln], log
    # Exactly once: one event upstream per record, no copy under another
    # name with the same content.
    items = events_of(kube_cluster, n)
    for r in recorded.values():
        b = json.loads(r["body"])
        same = [e for e in items if e["reason"] == b["reason"] and
                e["message"] == b["message"] and
                e.get("firstTimestamp") == b["firstTimestamp"] and
                e["involvedObject"].get("fieldPath") ==
                b["involvedObject"].get("fieldPath") and
                e["involvedObject"].get("uid") ==
                b["involvedObject"].get("uid")]
        assert len(same) == 1, (b, same)
        assert same[0]["metadata"]["name"] == b["metadata"]["name"]
        assert same[0].get("count", 1) == 1


@kube_test
def test_event_records_bounded(kube_cluster, node):
    """Past 1000 waiting Event records the oldest (by the revision that
    wrote them, not by key) are deleted, with one log line."""
    proxy, es, name = node
    proxy.down()
    assert es.stop() == 0
    db = storeio.open_store(es.state_dir)
    try:
        for i in range(1010):
            ev = "bound-%s.%04d" % (name, i)
            rec = {"method": "POST",
                   "path": "/api/v1/namespaces/default/events",
                   "contentType": "application/json",
                   "body": json.dumps({"metadata": {"name": ev}})}
            db.put(("x/events/default/" + ev).encode(),
                   storeio.frame(json.dumps(rec).encode(), rev=2000 - i))
    finally:
        db.close()
    mark = len(es.log())
    es.start()
    es.wait_log(r"outbox: more than 1000 events waiting, dropped 1 of the "
                r"oldest", start=mark)
    left = keys(es, "x/events/default/")
    assert len(left) == 1000
    gone = {"x/events/default/bound-%s.%04d" % (name, i)
            for i in range(1000, 1010)}
    assert not (gone & left)
    time.sleep(1)
    assert es.log()[mark:].count("events waiting, dropped") == 1
    # The kube room hands its counts to /metrics: every drop counted.
    assert es.metric("edgesite_kube_outbox_events_dropped_total") == 10
    assert es.metric("edgesite_kube_outbox_event_records") == 1000
    assert es.metric("edgesite_kube_outbox_sent_total") == 0
    # Not sent: the records go with the test, not to the apiserver.
    assert es.stop() == 0


def test_standalone_records_nothing(containerd, edgesite_factory):
    """A static pod that crashes has a status and events, but standalone
    no outbox record is written for them."""
    es = edgesite_factory(runtime_yaml(containerd))
    es.start()
    manifest = crashing("crash", None)  # no spec.nodeName
    write_manifest(es, "crash.json", json.dumps(manifest))
    n = static_name("crash")
    wait_for(lambda: "p/default/" + n in keys(es, "p/"), timeout=60,
             what="the static pod's status")
    es.wait_log(r"pod default/%s: .*(Started|BackOff)" % n, timeout=60)
    assert keys(es, "x/") == set()
