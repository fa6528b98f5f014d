# SPDX-License-Identifier: Apache-2.0
"""Failover between two kube-apiservers on the same etcd: edgesite is given
both URLs in controller.kube.master (and the node's kubeconfig for its
credentials), joins through the first, and when that one stops carries on
with the second: the watches resume there without a relist, pods created
meanwhile land in the store, and the node's status and Lease keep being
renewed. Runs only with EDGESITE_TEST_KUBE=1."""
import calendar
import json
import os
import re
import time

import pytest

from harness import cluster_pod_json, forget_node, wait_for


pytestmark = pytest.mark.kube

NODE = "failover-node"


def rfc3339(s):
    """Seconds since the epoch of "2026-11-26T23:03:20[.123456]Z"."""
    base, _, frac = s.rstrip("Z").partition(".")
    t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return t + (float("0." + frac) if frac else 0.0)


def pod(name):
    return cluster_pod_json(name, NODE)


def store_pods(es):
    status, _, body = es.get("/debug/store?prefix=o/pods/")
    assert status == 200, body
    return {i["key"].rsplit("/", 1)[1] for i in json.loads(body)["items"]}


def heartbeat(cluster):
    status, body = cluster.request("/api/v1/nodes/" + NODE)
    if status != 200:
        return 0
    for c in json.loads(body)["status"].get("conditions", []):
        if c["type"] == "Ready" and c["status"] == "True":
            return rfc3339(c["lastHeartbeatTime"])
    return 0


def renewed(cluster):
    status, body = cluster.request("/apis/coordination.k8s.io/v1/namespaces/"
                                   "kube-node-lease/leases/" + NODE)
    if status != 200:
        return 0
    return rfc3339(json.loads(body)["spec"]["renewTime"])


@pytest.fixture
def second(kube_cluster):
    """A second apiserver on the cluster's etcd; stopped at the end."""
    url = kube_cluster.start_extra_apiserver()
    try:
        yield url
    finally:
        kube_cluster.stop_extra_apiserver(url)
        forget_node(kube_cluster, NODE, pods=(NODE + "-a", NODE + "-b"))


def test_failover_to_the_other_apiserver(kube_cluster, second,
                                         edgesite_factory, tmp_path):
    first = second  # edgesite starts on the extra one, which then stops
    es = edgesite_factory(
        "controller:\n"
        "  kube:\n"
        "    master: \"%s, %s\"\n"
        "    kubeconfig: %s\n"
        "    node-name: %s\n"
        "edged:\n"
        "  node-status-update-frequency: 2s\n"
        # Never the machine's containerd.
        "  remote-runtime-endpoint: unix://%s\n" % (
            first, kube_cluster.url, kube_cluster.node_kubeconfig(NODE),
            NODE, tmp_path / "no-runtime.sock"))
    es.start()
    es.wait_log(r"kube: node %s, apiserver %s" % (NODE, re.escape(first)))
    es.wait_log(r"pods: listing -> watching", timeout=30)
    a, b = NODE + "-a", NODE + "-b"
    kube_cluster.kubectl("create", "-f", "-", input=pod(a))
    wait_for(lambda: store_pods(es) == {a}, what="a in the store", es=es)
    wait_for(lambda: heartbeat(kube_cluster), what="node Ready", es=es)
    wait_for(lambda: renewed(kube_cluster), what="lease", es=es)

    mark = len(es.log())
    # A graceful stop: the listener closes at once (new requests fail over
    # to the second apiserver), the open watches end when the process
    # exits, which this waits for.
    kube_cluster.stop_extra_apiserver(first)
    stopped = time.time()
    es.wait_log(r"kube: failover from %s to %s" % (
        re.escape(first), re.escape(kube_cluster.url)), start=mark,
        timeout=30)
    kube_cluster.kubectl("create", "-f", "-", input=pod(b))
    wait_for(lambda: store_pods(es) == {a, b}, what="a and b in the store",
             es=es)
    # Status and Lease go on, through the second one.
    wait_for(lambda: heartbeat(kube_cluster) >= int(stopped) + 1,
             what="a heartbeat after the failover", es=es)
    wait_for(lambda: renewed(kube_cluster) > stopped, timeout=25,
             what="a renewal after the failover", es=es)
    es.wait_log(r"kube: connected to %s" % re.escape(kube_cluster.url),
                start=mark)
    status, _, body = es.get("/readyz?verbose")
    assert status == 200 and b"[+]kube ok\n" in body, body
    # The watches resumed on the second apiserver from their
    # resourceVersions: no list.
    after = es.log()[mark:]
    assert re.search(r"pods: watching -> backoff", after), after
    assert not re.search(r"pods: \w+ -> listing", after), after
    assert es.proc.poll() is None
    assert es.stop() == 0, es.log()[-4000:]
