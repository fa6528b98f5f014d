# SPDX-License-Identifier: Apache-2.0
"""Every fault of the fault proxy (fault_proxy.py) between edgesite and the
real kube-apiserver, survived with the store intact: all connections
dropped (the watch resumes, no relist), a stall (the loop keeps serving),
500 and 429 answers (back-off; Retry-After obeyed, the gap measured at the
proxy), a truncated chunk (reconnect, the event comes again), a garbage
line and an oversized object (each skipped with a log line, the same watch
goes on), and a watch ERROR with a 410 Status (a relist, which deletes what
a missed event would have). After each, edgesite runs, /healthz answers,
and the store holds exactly the node's pods, every value intact.
Runs only with EDGESITE_TEST_KUBE=1."""
import json
import os
import re
import time

import pytest

from fault_proxy import FaultProxy
from harness import cluster_pod_json, forget_node, node_yaml, wait_for

pytestmark = pytest.mark.kube

# The node's pods: its list and its watch, as the proxy sees them.
PODS = r"^/api/v1/pods\?"
PODS_WATCH = r"^/api/v1/pods\?watch=1"
PODS_LIST = r"^/api/v1/pods\?limit="


def pod(name, node):
    return cluster_pod_json(name, node)


def keys(es, prefix):
    status, _, body = es.get("/debug/store?prefix=" + prefix)
    assert status == 200, body
    return {item["key"] for item in json.loads(body)["items"]}


def wait_pods(es, want, timeout=30):
    """Waits until the store's pods are exactly want (names)."""
    want = {"o/pods/default/" + n for n in want}
    wait_for(lambda: keys(es, "o/pods/") == want, timeout=timeout,
             what="store pods %s" % sorted(want), es=es)


def cluster_pods(cluster, node):
    out = cluster.kubectl("get", "pods", "-n", "default", "-o", "json",
                          "--field-selector", "spec.nodeName=" + node)
    return {p["metadata"]["name"] for p in json.loads(out)["items"]}


class Faulty:
    """An edgesite joined as node through a fault proxy."""

    def __init__(self, cluster, es, proxy, node):
        self.cluster, self.es, self.proxy, self.node = (cluster, es, proxy,
                                                        node)
        self.made = []

    def create(self, name):
        name = "%s-%s" % (self.node, name)
        self.cluster.kubectl("create", "-f", "-", input=pod(name, self.node))
        self.made.append(name)
        return name

    def delete(self, name):
        self.cluster.kubectl("delete", "pod", name, "--grace-period=0",
                             "--force", "--wait=false", "--ignore-not-found")

    def intact(self):
        """Running and healthy, the store's pods are the cluster's."""
        assert self.es.proc.poll() is None, self.es.log()[-4000:]
        assert self.es.get("/healthz", timeout=5)[0] == 200
        wait_pods(self.es, cluster_pods(self.cluster, self.node))


@pytest.fixture
def faulty(kube_cluster, edgesite_factory, request):
    node = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())
    node = "flt-" + node[5:40].strip("-")
    proxy = FaultProxy.for_node(kube_cluster, node)
    es = edgesite_factory(node_yaml(kube_cluster, node, master=proxy.url))
    f = Faulty(kube_cluster, es, proxy, node)
    es.start()
    es.wait_log(r"pods: listing -> watching", timeout=30)
    # The watch has reached the proxy: counts of requests start here.
    proxy.wait_seen(PODS_WATCH)
    try:
        yield f
    finally:
        proxy.clear()
        try:
            assert es.stop() == 0, es.log()[-4000:]
            check_store(es)
        finally:
            proxy.close()
            for name in f.made:
                f.delete(name)
            forget_node(kube_cluster, node)


def check_store(es):
    """Every object and resume point in the store reads back whole."""
    import storeio

    db = storeio.open_store(es.state_dir)
    try:
        n = 0
        for k, v in db.iterator():
            if k.startswith(b"o/"):
                json.loads(storeio.unframe(v))
                n += 1
            elif k.startswith(b"v/"):
                assert int(storeio.unframe(v)) > 0, k
        assert n > 0
    finally:
        db.close()


def test_all_connections_dropped(faulty):
    f = faulty
    a = f.create("a")
    wait_pods(f.es, {a})
    lists = len(f.proxy.seen(PODS_LIST))
    watches = len(f.proxy.seen(PODS_WATCH))
    mark = len(f.es.log())
    assert f.proxy.drop_all() > 0
    b = f.create("b")
    wait_pods(f.es, {a, b})
    # The watch resumed from its resourceVersion: no list.
    assert len(f.proxy.seen(PODS_WATCH)) > watches
    assert len(f.proxy.seen(PODS_LIST)) == lists
    f.es.wait_log(r"pods: watching -> backoff \(watch: ", start=mark)
    f.intact()


def test_stall(faulty):
    f = faulty
    f.proxy.stall()
    a = f.create("a")
    # The loop never waits for the apiserver: the endpoint answers.
    for _ in range(10):
        assert f.es.get("/healthz", timeout=5)[0] == 200
        time.sleep(0.2)
    assert "o/pods/default/" + a not in keys(f.es, "o/pods/")
    f.proxy.unstall()
    wait_pods(f.es, {a})
    f.intact()


def test_500_backs_off_and_resumes(faulty):
    f = faulty
    lists = len(f.proxy.seen(PODS_LIST))
    before = len(f.proxy.seen(PODS_WATCH))
    mark = len(f.es.log())
    f.proxy.fail(500, PODS, count=2)
    f.proxy.drop_all(PODS_WATCH)
    a = f.create("a")
    wait_pods(f.es, {a})
    seen = f.proxy.seen(PODS_WATCH)[before:]
    assert [r["status"] for r in seen[:3]] == [500, 500, 200], seen
    f.es.wait_log(r"pods: watching -> backoff \(watch 500: injected by the "
                  r"fault proxy, retrying in", start=mark)
    assert len(f.proxy.seen(PODS_LIST)) == lists
    f.intact()


def test_429_retry_after_obeyed(faulty):
    f = faulty
    before = len(f.proxy.seen(PODS_WATCH))
    mark = len(f.es.log())
    f.proxy.fail(429, PODS, count=1, retry_after=3)
    f.proxy.drop_all(PODS_WATCH)
    seen = f.proxy.wait_seen(PODS_WATCH, before + 2)[before:]
    assert [r["status"] for r in seen[:2]] == [429, 200], seen
    gap = seen[1]["t"] - seen[0]["t"]
    print("retry after a 429 with Retry-After 3: %.2f s" % gap)
    assert gap >= 2.9, seen
    f.es.wait_log(r"pods: watching -> backoff \(watch 429: injected by the "
                  r"fault proxy, retrying in 3\.0 s\)", start=mark)
    a = f.create("a")
    wait_pods(f.es, {a})
    f.intact()


def test_truncated_chunk(faulty):
    f = faulty
    lists = len(f.proxy.seen(PODS_LIST))
    before = len(f.proxy.seen(PODS_WATCH))
    mark = len(f.es.log())
    f.proxy.truncate(PODS_WATCH)
    a = f.create("a")
    # The event that was cut comes again on the resumed watch.
    wait_pods(f.es, {a})
    assert len(f.proxy.seen(PODS_WATCH)) > before
    assert len(f.proxy.seen(PODS_LIST)) == lists
    # TLS says "unexpected eof while reading": the cut was not clean.
    f.es.wait_log(r"pods: watching -> backoff \(watch: unexpected eof",
                  start=mark)
    f.intact()


def test_garbage_line_skipped(faulty):
    f = faulty
    a = f.create("a")
    wait_pods(f.es, {a})
    watches = len(f.proxy.seen(PODS_WATCH))
    mark = len(f.es.log())
    f.proxy.garbage(PODS_WATCH)
    f.es.wait_log(r"pods: watch: skipping a line of 18 bytes: ", start=mark)
    b = f.create("b")
    wait_pods(f.es, {a, b})
    # The same watch went on.
    assert len(f.proxy.seen(PODS_WATCH)) == watches
    f.intact()


def test_oversized_object_skipped(faulty):
    f = faulty
    watches = len(f.proxy.seen(PODS_WATCH))
    mark = len(f.es.log())
    f.proxy.oversized(PODS_WATCH, f.node, name=f.node + "-huge")
    m = f.es.wait_log(r"pods: watch: skipping an event of (\d+) bytes: "
                      r"larger than 16777216 bytes", start=mark)
    assert int(m.group(1)) > 17 << 20
    a = f.create("a")
    wait_pods(f.es, {a})
    assert len(f.proxy.seen(PODS_WATCH)) == watches
    assert "huge" not in "".join(keys(f.es, "o/pods/"))
    f.intact()


def test_watch_error_410_relists(faulty):
    f = faulty
    a, b = f.create("a"), f.create("b")
    wait_pods(f.es, {a, b})
    # b's deletion never reaches edgesite: a missed event.
    f.proxy.hide(PODS_WATCH, re.escape(b.encode()))
    f.delete(b)
    time.sleep(1)
    assert "o/pods/default/" + b in keys(f.es, "o/pods/")
    lists = len(f.proxy.seen(PODS_LIST))
    mark = len(f.es.log())
    f.proxy.watch_error_410(PODS_WATCH)
    f.es.wait_log(r"pods: watching -> listing \(410 gone: too old resource "
                  r"version", start=mark)
    f.es.wait_log(r"pods: listed 1 objects, 1 gone", start=mark)
    wait_pods(f.es, {a})
    assert len(f.proxy.seen(PODS_LIST)) == lists + 1
    f.proxy.clear()
    f.intact()
