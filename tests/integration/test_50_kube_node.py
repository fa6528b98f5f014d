# SPDX-License-Identifier: Apache-2.0
"""Node registration, node status, the Lease and the outbox against a real
kube-apiserver under Node,RBAC authorization and NodeRestriction (the
kube_cluster fixture), with edgesite holding a node's credentials exactly as
a kubelet would. Runs only with EDGESITE_TEST_KUBE=1."""
import calendar
import json
import os
import platform
import time
import uuid

import pytest

from harness import forget_node, node_yaml, wait_for


pytestmark = pytest.mark.kube

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(),
                                                    platform.machine())


def os_image():
    """PRETTY_NAME of os-release, as the node should report it."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("PRETTY_NAME="):
                        return line.split("=", 1)[1].strip().strip('"\'')
        except FileNotFoundError:
            continue
    return "Linux"


def rfc3339(s):
    """Seconds since the epoch of "2026-11-26T23:03:20[.123456]Z"."""
    base, _, frac = s.rstrip("Z").partition(".")
    t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return t + (float("0." + frac) if frac else 0.0)


def get(cluster, path):
    """GET as the admin: the object, or None for 404."""
    status, body = cluster.request(path)
    if status == 404:
        return None
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


def node(cluster, name):
    return get(cluster, "/api/v1/nodes/" + name)


def lease(cluster, name):
    return get(cluster, "/apis/coordination.k8s.io/v1/namespaces/"
               "kube-node-lease/leases/" + name)


def condition(n, ctype):
    for c in (n or {}).get("status", {}).get("conditions", []):
        if c["type"] == ctype:
            return c
    return None


def ready(cluster, name):
    """The Node when its Ready condition is True."""
    n = node(cluster, name)
    c = condition(n, "Ready")
    return n if c is not None and c["status"] == "True" else None


@pytest.fixture
def edge_node(kube_cluster, edgesite_factory, tmp_path):
    """Makes (not starts) an edgesite joined as a fresh node; returns
    (edgesite, node name). The Node and Lease are deleted afterwards."""
    made = []

    def make(extra="", name=None):
        name = name or "es-%s" % uuid.uuid4().hex[:8]
        # Never the machine's containerd, whatever extra says of edged.
        if extra.startswith("edged:\n"):
            extra = extra.replace("edged:\n", "edged:\n"
                                  "  remote-runtime-endpoint: unix://%s\n" %
                                  (tmp_path / "no-runtime.sock"), 1)
        es = edgesite_factory(node_yaml(kube_cluster, name, extra=extra))
        made.append(name)
        return es, name
    yield make
    for name in made:
        forget_node(kube_cluster, name)


def test_registers_ready_node(kube_cluster, edge_node):
    es, name = edge_node("edged:\n  node-ip: 192.0.2.7\n"
                         "  node-status-update-frequency: 2s\n")
    es.start()
    n = wait_for(lambda: ready(kube_cluster, name), what="node Ready",
                 ignore=(RuntimeError, KeyError, ValueError))
    es.wait_log(r"node %s: registered, uid " % name)

    labels = n["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == name
    assert labels["kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] == ARCH
    assert labels["beta.kubernetes.io/os"] == "linux"
    assert not [k for k in labels if k.startswith("node-role.kubernetes.io")]

    st = n["status"]
    info = st["nodeInfo"]
    assert info["osImage"] == os_image()
    assert info["kernelVersion"] == platform.release()
    assert info["kubeletVersion"].startswith("v1.37.0+edgesite-")
    assert info["operatingSystem"] == "linux"
    assert info["architecture"] == ARCH
    with open("/proc/sys/kernel/random/boot_id") as f:
        assert info["bootID"] == f.read().strip()
    assert {"type": "InternalIP", "address": "192.0.2.7"} in st["addresses"]
    assert {"type": "Hostname", "address": name} in st["addresses"]
    assert st["capacity"]["cpu"] == str(os.cpu_count())
    assert st["capacity"]["pods"] == "110"
    assert st["capacity"]["memory"].endswith("Ki")
    assert st["allocatable"]["memory"].endswith("Ki")
    assert "ephemeral-storage" in st["capacity"]
    for ctype, reason in (("MemoryPressure", "KubeletHasSufficientMemory"),
                          ("DiskPressure", "KubeletHasNoDiskPressure"),
                          ("PIDPressure", "KubeletHasSufficientPID")):
        c = condition(n, ctype)
        assert (c["status"], c["reason"]) == ("False", reason)
    assert condition(n, "Ready")["reason"] == "KubeletReady"

    # What kubectl prints for it, as an administrator sees it.
    out = kube_cluster.kubectl("get", "node", name, "-o", "wide",
                               "--no-headers").split()
    assert out[0] == name and out[1] == "Ready", out
    assert info["kubeletVersion"] in out
    assert "192.0.2.7" in out
    assert info["kernelVersion"] in out
    assert es.stop() == 0


def test_adopts_precreated_node(kube_cluster, edge_node):
    es, name = edge_node("edged:\n  node-status-update-frequency: 2s\n")
    kube_cluster.kubectl("create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name,
                     "labels": {"edgesite.test/owner": "admin",
                                "node-role.kubernetes.io/edge": ""}}}))
    uid = node(kube_cluster, name)["metadata"]["uid"]
    es.start()
    n = wait_for(lambda: ready(kube_cluster, name), what="node Ready",
                 ignore=(RuntimeError, KeyError, ValueError))
    es.wait_log(r"node %s: adopted existing node, uid %s" % (name, uid))
    assert n["metadata"]["uid"] == uid
    labels = n["metadata"]["labels"]
    assert labels["edgesite.test/owner"] == "admin"
    assert "node-role.kubernetes.io/edge" in labels
    assert labels["kubernetes.io/os"] == "linux"
    # With no node-ip: an address of this host's, never a loopback one.
    ips = [a["address"] for a in n["status"]["addresses"]
           if a["type"] == "InternalIP"]
    assert all(not ip.startswith("127.") for ip in ips), ips


def test_lease_created_and_renewed(kube_cluster, edge_node):
    es, name = edge_node()
    es.start()
    n = wait_for(lambda: ready(kube_cluster, name), what="node Ready",
                 ignore=(RuntimeError, KeyError, ValueError))
    first = wait_for(lambda: lease(kube_cluster, name), what="lease",
                     ignore=(RuntimeError, KeyError, ValueError))
    spec = first["spec"]
    assert spec["holderIdentity"] == name
    assert spec["leaseDurationSeconds"] == 40
    assert first["metadata"]["ownerReferences"] == [{
        "apiVersion": "v1", "kind": "Node", "name": name,
        "uid": n["metadata"]["uid"]}]
    # renewTime is a MicroTime: six decimals.
    assert len(spec["renewTime"].split(".")[1]) == 7, spec["renewTime"]

    t0 = rfc3339(spec["renewTime"])
    second = wait_for(lambda: (
        lambda x: x if rfc3339(x["spec"]["renewTime"]) > t0 else None)(
            lease(kube_cluster, name)), timeout=25, what="lease renewal",
                      ignore=(RuntimeError, KeyError, ValueError))
    assert 5 <= rfc3339(second["spec"]["renewTime"]) - t0 <= 15
    assert (int(second["metadata"]["resourceVersion"]) >
            int(first["metadata"]["resourceVersion"]))


def test_lease_conflict_reread(kube_cluster, edge_node):
    """Someone else writes the Lease: the next renewal gets 409, reads it
    again and renews."""
    es, name = edge_node()
    es.start()
    wait_for(lambda: lease(kube_cluster, name), what="lease",
             ignore=(RuntimeError, KeyError, ValueError))
    kube_cluster.kubectl("-n", "kube-node-lease", "annotate", "lease", name,
                         "edgesite.test/touched=1")
    t0 = time.time()
    wait_for(lambda: rfc3339(
        lease(kube_cluster, name)["spec"]["renewTime"]) > t0, timeout=25,
             what="lease renewal after a foreign write",
             ignore=(RuntimeError, KeyError, ValueError))
    # Renewed from a fresh read: the foreign change is kept.
    got = lease(kube_cluster, name)
    assert got["metadata"]["annotations"]["edgesite.test/touched"] == "1"
    assert got["spec"]["holderIdentity"] == name


def test_status_heartbeat_advances(kube_cluster, edge_node):
    es, name = edge_node("edged:\n  node-status-update-frequency: 2s\n")
    es.start()
    c0 = condition(wait_for(lambda: ready(kube_cluster, name),
                            what="node Ready",
                            ignore=(RuntimeError, KeyError, ValueError)),
                   "Ready")
    hb0 = rfc3339(c0["lastHeartbeatTime"])
    c1 = wait_for(lambda: (
        lambda c: c if rfc3339(c["lastHeartbeatTime"]) > hb0 else None)(
            condition(node(kube_cluster, name), "Ready")), timeout=10,
                  what="a newer heartbeat",
                  ignore=(RuntimeError, KeyError, ValueError))
    # The status did not change: the transition time stays.
    assert c1["lastTransitionTime"] == c0["lastTransitionTime"]
    assert c1["status"] == "True"
    # Heartbeats keep the period (2 s; times are in whole seconds).
    hb1 = rfc3339(c1["lastHeartbeatTime"])
    c2 = wait_for(lambda: (
        lambda c: c if rfc3339(c["lastHeartbeatTime"]) > hb1 else None)(
            condition(node(kube_cluster, name), "Ready")), timeout=10,
                  what="the heartbeat after",
                  ignore=(RuntimeError, KeyError, ValueError))
    assert rfc3339(c2["lastHeartbeatTime"]) - hb1 <= 3


def test_ready_again_after_apiserver_restart(kube_cluster, edge_node):
    period = 5
    es, name = edge_node("edged:\n  node-status-update-frequency: %ds\n" %
                         period)
    es.start()
    wait_for(lambda: ready(kube_cluster, name), what="node Ready",
             ignore=(RuntimeError, KeyError, ValueError))
    kube_cluster.stop_apiserver()
    try:
        es.wait_log(r"node %s: patch status: .*retrying|kube: disconnected"
                    % name, timeout=3 * period)
        time.sleep(2)
    finally:
        restart = time.time()
        kube_cluster.start_apiserver()
    # Within one status period of the apiserver answering again (plus the
    # second a heartbeat time is rounded to), a heartbeat newer than the
    # restart.
    n = wait_for(lambda: (
        lambda n: n if n and rfc3339(condition(n, "Ready")[
            "lastHeartbeatTime"]) >= int(restart) else None)(
                ready(kube_cluster, name)), timeout=period + 1,
                 what="node Ready with a fresh heartbeat",
                 ignore=(RuntimeError, KeyError, ValueError))
    assert condition(n, "Ready")["status"] == "True"
    assert es.proc.poll() is None


def test_node_deleted_upstream_registers_again(kube_cluster, edge_node):
    es, name = edge_node("edged:\n  node-status-update-frequency: 2s\n")
    es.start()
    uid = wait_for(lambda: ready(kube_cluster, name), what="node Ready",
                   ignore=(RuntimeError, KeyError,
                           ValueError))["metadata"]["uid"]
    kube_cluster.kubectl("delete", "node", name)
    n = wait_for(lambda: (
        lambda n: n if n and n["metadata"]["uid"] != uid else None)(
            ready(kube_cluster, name)), timeout=20,
                 what="node registered again",
                 ignore=(RuntimeError, KeyError, ValueError))
    es.wait_log(r"node %s: deleted upstream, registering again" % name)
    # The Lease follows its new owner.
    wait_for(lambda: lease(
        kube_cluster, name)["metadata"]["ownerReferences"][0]["uid"] ==
        n["metadata"]["uid"], timeout=25, what="lease owned by the new node",
             ignore=(RuntimeError, KeyError, ValueError))


def outbox_keys(es, prefix="x/"):
    """The outbox keys in edgesite's store, through /debug/store."""
    status, _, body = es.get("/debug/store?prefix=" + prefix)
    assert status == 200, body
    return sorted(i["key"] for i in json.loads(body)["items"])


def outbox_entry(path, body, content_type="application/merge-patch+json",
                 method="PATCH"):
    return json.dumps({"method": method, "path": path,
                       "contentType": content_type,
                       "body": json.dumps(body)}).encode()


def test_outbox_kept_offline_and_delivered(kube_cluster, edge_node):
    """Writes stored in x/ survive a restart made while the apiserver is
    down, wait, and go out once it is back: a pod status patch (with its
    uid precondition) lands, one with a stale uid and one for a pod that
    does not exist are dropped for good, and the outbox ends empty."""
    import storeio

    es, name = edge_node("edged:\n  node-status-update-frequency: 2s\n")
    es.start()
    wait_for(lambda: ready(kube_cluster, name), what="node Ready",
             ignore=(RuntimeError, KeyError, ValueError))
    pod = "outbox-%s" % uuid.uuid4().hex[:6]
    kube_cluster.kubectl("create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod, "namespace": "default"},
        "spec": {"nodeName": name, "automountServiceAccountToken": False,
                 "containers": [{"name": "c", "image": "busybox"}]}}))
    try:
        uid = get(kube_cluster, "/api/v1/namespaces/default/pods/" +
                  pod)["metadata"]["uid"]
        assert es.stop() == 0
        kube_cluster.stop_apiserver()
        try:
            base = "/api/v1/namespaces/default/pods/"
            db = storeio.open_store(es.state_dir)
            db.put(("x/pods/default/%s/status" % pod).encode(),
                   storeio.frame(outbox_entry(base + pod + "/status", {
                       "metadata": {"uid": uid},
                       "status": {"hostIP": "192.0.2.9",
                                  "message": "sent from the outbox"}})))
            db.put(b"x/pods/default/stale/status",
                   storeio.frame(outbox_entry(base + pod + "/status", {
                       "metadata": {"uid": str(uuid.uuid4())},
                       "status": {"message": "stale uid"}})))
            db.put(b"x/pods/default/missing/status",
                   storeio.frame(outbox_entry(base + "missing-pod/status", {
                       "metadata": {"uid": str(uuid.uuid4())},
                       "status": {"message": "no such pod"}})))
            db.close()
            start = len(es.log())
            es.start()
            # Events of the pod may wait beside the three writes.
            es.wait_log(r"outbox: \d+ writes kept from before", start=start)
            time.sleep(3)
            assert len(outbox_keys(es, "x/pods/")) == 3
        finally:
            kube_cluster.start_apiserver()
        p = wait_for(lambda: (
            lambda p: p if p["status"].get("hostIP") == "192.0.2.9" else None)(
                get(kube_cluster, base + pod)), timeout=40,
                     what="pod status from the outbox",
                     ignore=(RuntimeError, KeyError, ValueError))
        assert p["status"]["message"] == "sent from the outbox"
        wait_for(lambda: outbox_keys(es) == [], timeout=20,
                 what="outbox drained",
                 ignore=(RuntimeError, KeyError, ValueError))
        log = es.log()[start:]
        assert log.count("outbox pods/default/stale/status: PATCH") == 1, log
        assert log.count("outbox pods/default/missing/status: PATCH") == 1, log
        assert "failed for good: HTTP 404" in log
    finally:
        kube_cluster.kubectl("delete", "pod", pod, "--grace-period=0",
                             "--force", check=False)
