# SPDX-License-Identifier: Apache-2.0
"""Offline is a normal state: a wrong CA is refused with one clear log line
and /readyz?verbose tells why kube is disconnected; an edgesite restarted
while the apiserver is down (the fault proxy stops listening) serves its
store and forgets no pod, then resumes its watch without a relist; status
writes queued while offline are all delivered after the reconnect, through
503s with Retry-After; coming back online does not cut short the
Retry-After of a status write or a node status answered with a 503.
Runs only with EDGESITE_TEST_KUBE=1."""
import base64
import json
import os
import re
import subprocess
import time
import uuid

import pytest

from fault_proxy import FaultProxy
from harness import (cluster_pod_json, forget_node, log_events, node_yaml,
                     wait_for)
import storeio

pytestmark = pytest.mark.kube

PODS_LIST = r"^/api/v1/pods\?limit="
STATUS = r"^/api/v1/namespaces/default/pods/[^/]+/status$"


def pod(name, node):
    return cluster_pod_json(name, node)


def keys(es, prefix):
    status, _, body = es.get("/debug/store?prefix=" + prefix)
    assert status == 200, body
    return {item["key"] for item in json.loads(body)["items"]}


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
    for n in made["nodes"]:
        forget_node(kube_cluster, n, pods=made["pods"])


def through_proxy(kube_cluster, edgesite_factory, node, extra=""):
    proxy = FaultProxy.for_node(kube_cluster, node)
    es = edgesite_factory(node_yaml(kube_cluster, node, master=proxy.url,
                                    extra=extra))
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
        wait_for(lambda: keys(es, "o/pods/") == want, what="a and b", es=es)
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
        wait_for(lambda: keys(es, "o/pods/") == {
            "o/pods/default/" + a, "o/pods/default/" + c}, what="a and c",
                 es=es)
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
        wait_for(lambda: len(keys(es, "o/pods/")) == 5, what="the pods", es=es)
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
        wait_for(delivered, timeout=40, what="every queued status delivered",
                 es=es)
        wait_for(lambda: keys(es, "x/") == set(), what="the outbox drained",
                 es=es)
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


def test_online_again_keeps_retry_after(kube_cluster, edgesite_factory,
                                        cleanup):
    """Regression of a570a1e: a status write and a node status answered
    503 with Retry-After wait that long, even when edgesite comes back
    online meanwhile (only waits after a transport failure end early)."""
    node = "offline-retry-after"
    name = "%s-%s" % (node, uuid.uuid4().hex[:4])
    node_status = r"^/api/v1/nodes/%s/status$" % node
    cleanup["pods"].append(name)
    cleanup["nodes"].append(node)
    # the node's back-off, capped by its status period (10 s by default),
    # caps the Retry-After it obeys
    proxy, es = through_proxy(kube_cluster, edgesite_factory, node)
    try:
        es.start()
        out = kube_cluster.kubectl("create", "-f", "-", "-o", "json",
                                   input=pod(name, node))
        uid = json.loads(out)["metadata"]["uid"]
        wait_for(lambda: keys(es, "o/pods/") == {"o/pods/default/" + name},
                 what="the pod", es=es)
        proxy.wait_seen(node_status, method="PATCH")
        assert es.stop() == 0
        proxy.down()
        db = storeio.open_store(es.state_dir)
        try:
            db.put(("x/pods/default/%s/status" % name).encode(),
                   storeio.frame(outbox_entry(name, uid, "after a 503")))
        finally:
            db.close()
        # Both refused with a Retry-After both obey in full.
        proxy.fail(503, STATUS, count=1, method="PATCH", retry_after=10)
        proxy.fail(503, node_status, count=1, method="PATCH", retry_after=10)
        seen = len(proxy.seen("."))
        es.start()
        proxy.up()

        def refused():
            got = [r for r in proxy.seen(".")[seen:] if r["status"] == 503]
            return len(got) == 2 and got
        refusals = wait_for(refused, timeout=30, what="the two 503s", es=es)
        # Offline, then online again while both wait.
        mark = len(es.log())
        proxy.down()
        es.wait_log(r"kube: disconnected from", start=mark, timeout=20)
        # the port is free once the old listener's accept returns
        wait_for(lambda: proxy.up() or True, timeout=10, ignore=(OSError,),
                 what="the proxy listening again")
        es.wait_log(r"kube: connected to", start=mark, timeout=20)
        online = log_events(es, r"^kube: connected to", start=mark)[0][0]
        early = []
        for r in refusals:
            def again(r=r):
                later = [p for p in proxy.seen(re.escape(r["target"]) + "$",
                                               method="PATCH")
                         if p["t"] > r["t"] and p["status"] is not None]
                return later and later[0]
            nxt = wait_for(again, timeout=40, what="a retry of " +
                           r["target"], es=es)
            print("%s: retried %.2f s after a 503 with Retry-After 10, "
                  "online again after %.2f s" % (
                      r["target"], nxt["t"] - r["t"], online - r["t"]))
            # the test means something only if the kick came in the wait
            assert online < r["t"] + 9, (online - r["t"], r)
            if nxt["t"] - r["t"] < 9.9:
                early.append((r["target"], nxt["t"] - r["t"]))
        assert not early, early
        assert es.stop() == 0, es.log()[-4000:]
    finally:
        proxy.close()
