# SPDX-License-Identifier: Apache-2.0
"""The runtime version CRI reports reaches the Node: with a real
kube-apiserver (kube_cluster) and a real containerd (containerd),
node.status.nodeInfo.containerRuntimeVersion becomes what Version said,
"containerd://1.6.x", as a kubelet reports it. Runs only with
EDGESITE_TEST_KUBE=1."""
import os
import re
import subprocess
import uuid

import pytest

from harness import forget_node, node_yaml, wait_for


pytestmark = pytest.mark.kube


def runtime_version(containerd):
    """What containerd itself says it is, as "containerd://<version>"."""
    r = containerd.ctr("version")
    m = re.search(r"Server:\s+Version:\s+(\S+)", r.stdout)
    assert m, r.stdout
    return "containerd://" + m.group(1)


def node_runtime(cluster, name):
    try:
        n = cluster.get_json("/api/v1/nodes/" + name)
    except RuntimeError:
        return None
    return n.get("status", {}).get("nodeInfo", {}).get(
        "containerRuntimeVersion")


def test_node_reports_the_runtime_version(kube_cluster, containerd,
                                          edgesite_factory):
    name = "es-cri-%s" % uuid.uuid4().hex[:8]
    es = edgesite_factory(
        node_yaml(kube_cluster, name) + containerd.edgesite_yaml() +
        "  node-status-update-frequency: 2s\n")
    try:
        es.start()
        want = runtime_version(containerd)
        assert re.fullmatch(r"containerd://1\.6\.\S+", want)
        wait_for(lambda: node_runtime(kube_cluster, name) == want,
                 what="the runtime version %s upstream" % want, es=es)
        assert es.stop() == 0
    finally:
        forget_node(kube_cluster, name)
