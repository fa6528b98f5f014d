"""Offline is a normal state: a wrong CA is refused with one clear log line
and /readyz?verbose tells why kube is disconnected; an edgesite restarted
while the apiserver is down (the fault proxy stops listening) serves its
store and forgets no pod, then resumes its watch without a relist; status
writes queued while offline are all delivered after the reconnect, through
503s with Retry-After. Runs only with EDGESITE_TEST_KUBE=1."""
import base64
import json
import os
import re
import subprocess
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_proxy import FaultProxy  # noqa: E402
from kube_cluster import kube_cluster  # noqa: E402,F401
import storeio  # noqa: E402

pytestmark = [
    pytest.mark.kube,
    pytest.mark.skipif(os.environ.get("EDGESITE_TEST_KUBE") != "1",
                       reason="set EDGESITE_TEST_KUBE=1 to run the kube tests"),
]

PODS_LIST = r"^/api/v1/pods\?limit="
STATUS = r"^/api/v1/namespaces/default/pods/[^/]+/status$"


def pod(name, node):
    return json.dumps({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node, "automountServiceAccountToken": False,
                 "containers": [{"name": "c", "image": "busybox"}]}})


def keys(es, prefix):
    status, _, body = es.get("/debug/store?prefix=" + prefix)
    assert status == 200, body
    return {item["key"] for item in json.loads(body)["items"]}


def wait_for(what, fn, es, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError("%s: not within %ds (last %r)\n%s" % (
        what, timeout, last, es.log()[-6000:]))


def readyz_kube(es):
    """/readyz?verbose: (status, the kube line)."""
    status, _, body = es.get("/readyz?verbose")
    lines = [ln for ln in body.decode().splitlines()
             if ln[3:].startswith("kube ")]
    return status, lines[0] if lines else None


@pytest.fixture
def cleanup(kube_cluster):
    """Names of pods and nodes to delete at the end."""
    made = {"pods": [], "nodes": []}
    yield made
    if made["pods"]:
        kube_cluster.kubectl("delete", "pod", *made["pods"],
                             "--grace-period=0", "--force", "--wait=false",
                             "--ignore-not-found")
    for n in made["nodes"]:
        kube_cluster.request("/api/v1/nodes/" + n, method="DELETE")
        kube_cluster.request("/apis/coordination.k8s.io/v1/namespaces/"
                             "kube-node-lease/leases/" + n, method="DELETE")


def through_proxy(kube_cluster, edgesite_factory, node, extra=""):
    proxy = FaultProxy.for_node(kube_cluster, node)
    es = edgesite_factory(
        "controller:\n"
        "  kube:\n"
        "    master: %s\n"
        "    kubeconfig: %s\n"
        "    node-name: %s\n%s" % (proxy.url,
                                   kube_cluster.node_kubeconfig(node), node,
                                   extra))
    return proxy, es


def test_wrong_ca_refused_clearly(kube_cluster, edgesite_factory, tmp_path):
    node = "offline-wrong-ca"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", str(tmp_path / "other.key"),
                    "-out", str(tmp_path / "other.crt"), "-days", "2",
                    "-subj", "/CN=some-other-ca"], check=True,
                   capture_output=True)
    with open(kube_cluster.node_kubeconfig(node)) as f:
        kc = json.load(f)
    kc["clusters"][0]["cluster"]["certificate-authority-data"] = \
        base64.b64encode((tmp_path / "other.crt").read_bytes()).decode()
    path = tmp_path / "wrong-ca.kubeconfig"
    path.write_text(json.dumps(kc))
    es = edgesite_factory("controller:\n  kube:\n    kubeconfig: %s\n"
                          "    node-name: %s\n" % (path, node))
    es.start()
    line = ("kube %s: TLS handshake failed: certificate verify failed "
            "(unable to get local issuer certificate)" % kube_cluster.url)
    es.wait_log(re.escape(line))
    # Every part retries meanwhile; the reason is told once.
    time.sleep(3)
    assert es.log().count(line) == 1, es.log()
    status, kube = readyz_kube(es)
    assert status == 200
    assert kube.startswith("[+]kube degraded: disconnected: "), kube
    assert "certificate verify failed" in kube, kube
    assert es.get("/healthz")[0] == 200
    assert kube_cluster.request("/api/v1/nodes/" + node)[0] == 404
    assert keys(es, "o/") == set()
    assert es.stop() == 0, es.log()[-4000:]


def test_restart_while_apiserver_down(kube_cluster, edgesite_factory,
                                      cleanup):
    node = "offline-restart"
    a, b, c = (node + s for s in ("-a", "-b", "-c"))
    cleanup["pods"] += [a, b, c]
    cleanup["nodes"].append(node)
    proxy, es = through_proxy(kube_cluster, edgesite_factory, node)
    try:
        es.start()
        for name in (a, b):
            kube_cluster.kubectl("create", "-f", "-", input=pod(name, node))
        want = {"o/pods/default/" + a, "o/pods/default/" + b}
        wait_for("a and b", lambda: keys(es, "o/pods/") == want, es)
        assert es.stop() == 0
        proxy.down()
        kube_cluster.kubectl("delete", "pod", b, "--grace-period=0",
                             "--force", "--wait=false")
        kube_cluster.kubectl("create", "-f", "-", input=pod(c, node))
        lists = len(proxy.seen(PODS_LIST))
        mark = len(es.log())
        es.start()
        es.wait_log(r"pods: idle -> watching \(resuming from "
                    r"resourceVersion \d+\)", start=mark)
        es.wait_log(r"kube: disconnected from %s: .*Connection refused" %
                    re.escape(proxy.url), start=mark)
        # The store is served and keeps every pod while offline.
        for _ in range(10):
            assert keys(es, "o/pods/") == want
            time.sleep(0.2)
        status, kube = readyz_kube(es)
        assert status == 200
        assert kube.startswith("[+]kube degraded: disconnected: "), kube
        assert "Connection refused" in kube, kube

        proxy.up()
        es.wait_log(r"kube: connected to %s" % re.escape(proxy.url),
                    start=mark, timeout=20)
        wait_for("a and c", lambda: keys(es, "o/pods/") == {
            "o/pods/default/" + a, "o/pods/default/" + c}, es)
        # Resumed from the stored resourceVersion: no list.
        assert len(proxy.seen(PODS_LIST)) == lists
        assert readyz_kube(es)[1] == "[+]kube ok"
        assert es.stop() == 0, es.log()[-4000:]
    finally:
        proxy.close()


def outbox_entry(name, uid, message):
    body = {"metadata": {"uid": uid},
            "status": {"hostIP": "192.0.2.10", "message": message}}
    return json.dumps({
        "method": "PATCH",
        "path": "/api/v1/namespaces/default/pods/%s/status" % name,
        "contentType": "application/merge-patch+json",
        "body": json.dumps(body)}).encode()


def test_queued_status_delivered_after_reconnect(kube_cluster,
                                                 edgesite_factory, cleanup):
    node = "offline-outbox"
    names = ["%s-%d-%s" % (node, i, uuid.uuid4().hex[:4]) for i in range(5)]
    cleanup["pods"] += names
    cleanup["nodes"].append(node)
    proxy, es = through_proxy(kube_cluster, edgesite_factory, node)
    try:
        es.start()
        uids = {}
        for n in names:
            out = kube_cluster.kubectl("create", "-f", "-", "-o", "json",
                                       input=pod(n, node))
            uids[n] = json.loads(out)["metadata"]["uid"]
        wait_for("the pods", lambda: len(keys(es, "o/pods/")) == 5, es)
        assert es.stop() == 0
        proxy.down()
        db = storeio.open_store(es.state_dir)
        try:
            for n in names:
                db.put(("x/pods/default/%s/status" % n).encode(),
                       storeio.frame(outbox_entry(n, uids[n],
                                                  "queued for " + n)))
        finally:
            db.close()
        mark = len(es.log())
        es.start()
        # Events recorded while offline may wait beside the statuses.
        es.wait_log(r"outbox: \d+ writes kept from before", start=mark)
        time.sleep(2)
        assert len(keys(es, "x/pods/")) == 5
        # The first two deliveries get a 503 with Retry-After: 1.
        proxy.fail(503, STATUS, count=2, method="PATCH", retry_after=1)
        proxy.up()

        def delivered():
            for n in names:
                s, body = kube_cluster.request(
                    "/api/v1/namespaces/default/pods/" + n)
                if json.loads(body)["status"].get("message") != \
                        "queued for " + n:
                    return False
            return True
        wait_for("every queued status delivered", delivered, es, timeout=40)
        wait_for("the outbox drained", lambda: keys(es, "x/") == set(), es)
        patches = proxy.seen(STATUS, method="PATCH")
        refused = [p for p in patches if p["status"] == 503]
        assert len(refused) == 2, patches
        for r in refused:
            again = [p for p in patches if p["target"] == r["target"] and
                     p["t"] > r["t"]]
            assert again and again[0]["status"] == 200, patches
            gap = again[0]["t"] - r["t"]
            print("outbox retry after a 503 with Retry-After 1: %.2f s" % gap)
            assert gap >= 0.95, patches
        assert sorted({p["target"] for p in patches if p["status"] == 200}) \
            == sorted("/api/v1/namespaces/default/pods/%s/status" % n
                      for n in names)
        assert es.stop() == 0, es.log()[-4000:]
    finally:
        proxy.close()
