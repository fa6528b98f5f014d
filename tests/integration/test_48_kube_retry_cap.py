# SPDX-License-Identifier: Apache-2.0
"""Retries of an unreachable apiserver back off but are never more than
30 s apart: the fault proxy hangs up on every request for a minute, and the
gaps between the attempts of each request (each reflector's list, the Node
registration) are measured where they arrive. Meanwhile /readyz says kube
is disconnected, and once the apiserver answers again edgesite connects
within one retry of its fastest part. Slow by nature (about 65 s): the
reflectors' back-off reaches its 30 s cap after 1 + 2 + 4 + 8 + 16 s.
Runs only with EDGESITE_TEST_KUBE=1."""
import os
import re
import time

import pytest

from fault_proxy import FaultProxy
from harness import forget_node, node_yaml

pytestmark = pytest.mark.kube

NODE = "retry-cap"
CAP = 30.0
# Timer and scheduling slack allowed beyond the cap.
SLACK = 1.0


def series(proxy):
    """Request times by path (the query left out)."""
    out = {}
    for r in proxy.seen("."):
        out.setdefault(r["target"].split("?")[0], []).append(r["t"])
    return out


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def test_retries_never_over_30s_apart(kube_cluster, edgesite_factory):
    proxy = FaultProxy.for_node(kube_cluster, NODE)
    proxy.hang_up()
    es = edgesite_factory(node_yaml(kube_cluster, NODE, master=proxy.url))
    try:
        es.start()
        es.wait_log(r"kube: disconnected from %s" % re.escape(proxy.url))
        status, _, body = es.get("/readyz?verbose")
        assert status == 200
        assert b"[+]kube degraded: disconnected: " in body, body
        # Until the pods list has been tried seven times: at about 0, 1,
        # 3, 7, 15, 31 and 61 s (with 20% jitter), the last gap capped.
        proxy.wait_seen(r"^/api/v1/pods\?", 7, timeout=90)
        got = series(proxy)
        for path, times in sorted(got.items()):
            print("%s: %s" % (path, " ".join("%.1f" % g
                                             for g in gaps(times))))
        for path, times in got.items():
            assert max(gaps(times) or [0]) <= CAP + SLACK, (path, times)
        pods = gaps(got["/api/v1/pods"])
        # It did back off, up to the cap.
        assert pods[0] < 2 and max(pods) >= CAP * 0.8 - SLACK, pods
        assert max(gaps(got["/api/v1/nodes/" + NODE])) <= 10 + SLACK
        assert es.get("/healthz")[0] == 200

        mark = len(es.log())
        proxy.clear()
        # The Node part retries at least every 10 s; its answer kicks every
        # reflector waiting on the unreachable apiserver.
        es.wait_log(r"kube: connected to", start=mark, timeout=15)
        es.wait_log(r"pods: \w+ -> watching", start=mark, timeout=10)
        status, _, body = es.get("/readyz?verbose")
        assert status == 200 and b"[+]kube ok\n" in body, body
        assert es.stop() == 0, es.log()[-4000:]
    finally:
        proxy.close()
        forget_node(kube_cluster, NODE)
