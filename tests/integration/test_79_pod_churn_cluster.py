# SPDX-License-Identifier: Apache-2.0
"""Cluster pods survive SIGKILL during churn, against a real kube-apiserver
(kube_cluster) and a real containerd: pods bound to the node are created,
relabelled, deleted (gracefully or forced) and created again under the
same names through the apiserver while edgesite is killed with SIGKILL at
random moments and started again; some run once and fail a few seconds
after they start, so their status changes while the kills go on. Once it
has settled, the runtime holds exactly one sandbox per live pod uid, ready
with one running container (a pod that ran once: its one exited
container), none for a deleted pod (no duplicate, no orphan), and the
apiserver shows each live pod Running (or Failed, exit code 3) with the
runtime's container and the status edgesite computed last (no lost
status); deleted pods are gone. Runs only with EDGESITE_TEST_KUBE=1; the
random seed is printed for a replay ($EDGESITE_TEST_SEED)."""
import json
import os
import random
import signal
import time
import uuid

import pytest

from harness import cluster_pod, forget_node, node_yaml, wait_for
from podutil import BUSYBOX, containers, cri, runtime_yaml, status

pytestmark = pytest.mark.kube

PODS = "/api/v1/namespaces/default/pods"
SLOTS = 6       # pod names in use, each created again after its deletion
ONCE = 2        # of them, the last ones run once and fail (exit 3)
KILLS = 14      # SIGKILLs during the churn


def call(cluster, method, path, obj=None, ctype="application/json"):
    """(status, decoded body) of one request as the admin."""
    st, body = cluster.request(
        path, method=method, body=json.dumps(obj).encode() if obj else None,
        content_type=ctype if obj else None)
    try:
        return st, json.loads(body)
    except ValueError:
        return st, body


class Churn:
    """The pods of one node as the test made them: live maps a name to the
    uid the apiserver gave it; count counts the changes made."""

    def __init__(self, cluster, node, rng):
        self.cluster, self.node, self.rng = cluster, node, rng
        self.prefix = node + "-p"
        self.live, self.ops = {}, 0
        self.count = {"create": 0, "delete": 0, "force-delete": 0,
                      "relabel": 0, "409": 0}

    def once(self, name):
        """True for a pod that runs once and fails: its status changes a
        few seconds after it started, when a kill may come."""
        return int(name[len(self.prefix):]) >= SLOTS - ONCE

    def create(self, name):
        cmd, spec = ["sleep", "1000"], {"terminationGracePeriodSeconds": 1}
        if self.once(name):
            cmd = ["sh", "-c", "sleep %.1f; exit 3" % self.rng.uniform(0.5,
                                                                      3)]
            spec["restartPolicy"] = "Never"
        obj = cluster_pod(name, self.node, cmd, image=BUSYBOX, spec=spec,
                          container={"imagePullPolicy": "IfNotPresent"})
        st, body = call(self.cluster, "POST", PODS, obj)
        if st == 409:   # its last incarnation is still terminating
            self.count["409"] += 1
            return
        assert st == 201, (st, body)
        self.count["create"] += 1
        self.live[name] = body["metadata"]["uid"]

    def delete(self, name, grace=1):
        """Deletes name gracefully (edgesite confirms it once the pod is
        stopped) or, with grace 0, at once: the object is gone and the
        runtime's objects of its uid are orphans."""
        st, body = call(self.cluster, "DELETE", "%s/%s" % (PODS, name), {
            "apiVersion": "v1", "kind": "DeleteOptions",
            "gracePeriodSeconds": grace})
        assert st in (200, 202), (st, body)
        self.count["delete" if grace else "force-delete"] += 1
        del self.live[name]

    def relabel(self, name):
        st, body = call(self.cluster, "PATCH", "%s/%s" % (PODS, name), {
            "metadata": {"labels": {"gen": str(self.ops)}}},
            ctype="application/merge-patch+json")
        assert st == 200, (st, body)
        self.count["relabel"] += 1

    def step(self):
        """One random change: a free name is created, a live pod is
        relabelled or deleted (a third of the deletions forced)."""
        self.ops += 1
        name = "%s%d" % (self.prefix, self.rng.randrange(SLOTS))
        if name not in self.live:
            self.create(name)
        elif self.rng.random() < 0.6:
            self.delete(name, self.rng.choice((0, 1, 1)))
        else:
            self.relabel(name)


def pods_of(churn):
    st, body = call(churn.cluster, "GET", "%s?fieldSelector=spec.nodeName%%3D"
                    "%s" % (PODS, churn.node))
    assert st == 200, (st, body)
    return {p["metadata"]["name"]: p for p in body["items"]}


def final_cid(p, once):
    """The containerd id of container c when the apiserver shows the pod
    in its final state, else None: Running and Ready with c running, or
    for a pod that runs once, Failed with c terminated with exit code 3."""
    st = p.get("status", {})
    ready = any(c["type"] == "Ready" and c["status"] == "True"
                for c in st.get("conditions", []))
    for cs in st.get("containerStatuses", []):
        if cs["name"] != "c" or not cs.get("containerID"):
            continue
        if once and not (st.get("phase") == "Failed" and cs["state"].get(
                "terminated", {}).get("exitCode") == 3):
            continue
        if not once and not (st.get("phase") == "Running" and ready and
                             "running" in cs["state"]):
            continue
        return cs["containerID"].split("//", 1)[1]
    return None


def runtime_pods(churn):
    """{uid: [(sandbox id, ready)]} of this node's pods in the runtime."""
    out = {}
    for line in cri(churn.ctd, "list-sandboxes"):
        f = line.split()
        if f[0] == "sandbox" and f[3].startswith("default/" + churn.prefix):
            out.setdefault(f[4], []).append((f[1], f[2] == "ready"))
    return out


def problems(churn):
    """What differs from the settled state, as a list of sentences."""
    out = []
    pods, rt = pods_of(churn), runtime_pods(churn)
    cts = containers(churn.ctd, [s[0] for sbs in rt.values() for s in sbs])
    for name in set(pods) - set(churn.live):
        out.append("%s deleted but in the apiserver" % name)
    for uid in set(rt) - set(churn.live.values()):
        out.append("orphan sandboxes of uid %s: %s" % (uid, rt[uid]))
    for name, uid in sorted(churn.live.items()):
        p = pods.get(name)
        if p is None or p["metadata"]["uid"] != uid:
            out.append("%s (%s) missing from the apiserver" % (name, uid))
            continue
        once = churn.once(name)
        sbs = rt.get(uid, [])
        # a pod that ran once may keep its sandbox stopped
        if len(sbs) != 1 or not (sbs[0][1] or once):
            out.append("%s: sandboxes %s" % (name, sbs))
            continue
        # the one container that runs, or (once) that ran and exited
        ran = [c for c in cts if c[3] == sbs[0][0] and c[1] != 0]
        want = 2 if once else 1
        cid = final_cid(p, once)
        if len(ran) != 1 or ran[0][1] != want or ran[0][0] != cid:
            out.append("%s: %s in the runtime, apiserver shows %s" % (
                name, ran, json.dumps(p.get("status"))))
    return out


def settle(churn, timeout, what):
    last = []

    def check():
        last[:] = problems(churn)
        return not last
    try:
        wait_for(check, timeout=timeout, interval=1, what=what)
    except AssertionError:
        raise AssertionError("%s: %s\n%s" % (what, last, churn.es.log()[
            -6000:])) from None


def summary(st):
    """What of a pod status must reach the apiserver as computed."""
    return {"phase": st.get("phase"), "podIP": st.get("podIP"),
            "conditions": sorted((c["type"], c["status"])
                                 for c in st.get("conditions", [])),
            "containers": sorted(
                (c["name"], c.get("containerID"), c.get("ready"),
                 c.get("restartCount"), sorted(c["state"]))
                for c in st.get("containerStatuses", []))}


def test_sigkill_during_cluster_pod_churn(kube_cluster, containerd,
                                          edgesite_factory):
    seed = int(os.environ.get("EDGESITE_TEST_SEED") or
               random.SystemRandom().randrange(1 << 30))
    print("seed", seed)
    node = "es-churn-%s" % uuid.uuid4().hex[:8]
    es = edgesite_factory(node_yaml(kube_cluster, node) +
                          runtime_yaml(containerd))
    churn = Churn(kube_cluster, node, random.Random(seed))
    churn.es, churn.ctd = es, containerd
    try:
        es.start()
        wait_for(lambda: kube_cluster.request("/api/v1/nodes/" +
                                              node)[0] == 200,
                 what="the Node registered", es=es)
        for i in range(SLOTS - 2):
            churn.create("%s%d" % (churn.prefix, i))
        for _ in range(KILLS):
            if es.proc.poll() is None:
                es.stop(signal.SIGKILL)
            if churn.rng.random() < 0.3:  # a change while it is down
                churn.step()
            es.start(wait=False)
            up = time.monotonic() + churn.rng.uniform(0.2, 4.0)
            while time.monotonic() < up:
                if churn.rng.random() < 0.5:
                    churn.step()
                time.sleep(churn.rng.uniform(0.05, 0.6))
            assert es.proc.poll() is None, es.log()[-6000:]
        es.stop(signal.SIGKILL)
        print("changes", churn.count)
        es.start()
        settle(churn, 150, "the pods settled after %d kills, %d changes" %
               (KILLS, churn.ops))
        # and nothing more changes once it has settled
        time.sleep(3)
        assert not problems(churn), problems(churn)
        pods = pods_of(churn)
        for name in churn.live:
            # a computed status that never reached the apiserver is lost
            last = status(es, "default", name)
            assert summary(last) == summary(pods[name]["status"]), \
                (name, last, pods[name]["status"])
        # the remaining pods deleted: nothing of them left anywhere
        for name in list(churn.live):
            churn.delete(name)
        settle(churn, 90, "every pod deleted")
        assert not runtime_pods(churn)
    finally:
        es.stop()
        forget_node(kube_cluster, node)
