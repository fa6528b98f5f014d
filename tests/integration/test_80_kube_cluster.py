# SPDX-License-Identifier: Apache-2.0
"""The real control plane the kube tests run against (kube_cluster.py):
its version, Node authorization with NodeRestriction for a node's
credentials, the KubeEdge CRDs, an apiserver restart, and etcd compaction.
Runs only with EDGESITE_TEST_KUBE=1: the first run builds kube-apiserver
and etcd from source."""
import json
import os

import pytest

from harness import cluster_pod_json


pytestmark = pytest.mark.kube


def node_json(name):
    return json.dumps({"apiVersion": "v1", "kind": "Node",
                       "metadata": {"name": name,
                                    "labels": {"edgesite.test/node": name}}})


def pod_json(name, node):
    return cluster_pod_json(name, node)


def test_version_is_pinned(kube_cluster):
    v = kube_cluster.get_json("/version")
    with open(os.path.join(os.path.dirname(__file__), "..", "kube",
                           "go.mod")) as f:
        pinned = [ln.split()[1] for ln in f
                  if ln.split()[:1] == ["k8s.io/kubernetes"]]
    assert v["gitVersion"] == pinned[0], v
    assert v["gitTreeState"] == "clean"
    assert v["major"] == "1" and pinned[0].startswith("v1.%s." % v["minor"])


def test_node_sees_itself_only_after_creating_itself(kube_cluster, tmp_path):
    name = "smoke-node-a"
    kc = kube_cluster.node_kubeconfig(name)
    assert kc == kube_cluster.node_kubeconfig(name)
    r = kube_cluster.kubectl("get", "node", name, kubeconfig=kc, check=False)
    assert r.returncode != 0 and "NotFound" in r.stderr, r.stderr

    path = tmp_path / "node.json"
    path.write_text(node_json(name))
    kube_cluster.kubectl("create", "-f", str(path), kubeconfig=kc)
    try:
        out = kube_cluster.kubectl("get", "node", name, "-o", "json",
                                   kubeconfig=kc)
        assert json.loads(out)["metadata"]["name"] == name
        # NodeRestriction: a node may not create another node.
        path.write_text(node_json("smoke-node-b"))
        r = kube_cluster.kubectl("create", "-f", str(path), kubeconfig=kc,
                                 check=False)
        assert r.returncode != 0 and "forbidden" in r.stderr.lower(), \
            r.stderr
    finally:
        kube_cluster.kubectl("delete", "node", name, "--ignore-not-found")


def test_node_reads_only_its_own_pods(kube_cluster):
    kube_cluster.kubectl("create", "-f", "-",
                         input=pod_json("smoke-mine", "smoke-node-c"))
    kube_cluster.kubectl("create", "-f", "-",
                         input=pod_json("smoke-theirs", "smoke-node-d"))
    kc = kube_cluster.node_kubeconfig("smoke-node-c")
    try:
        out = kube_cluster.kubectl("get", "pod", "smoke-mine", "-o", "json",
                                   kubeconfig=kc)
        assert json.loads(out)["spec"]["nodeName"] == "smoke-node-c"
        r = kube_cluster.kubectl("get", "pod", "smoke-theirs",
                                 kubeconfig=kc, check=False)
        assert r.returncode != 0 and "forbidden" in r.stderr.lower(), \
            r.stderr
        r = kube_cluster.kubectl("get", "pods", "--all-namespaces",
                                 "--field-selector",
                                 "spec.nodeName=smoke-node-d",
                                 kubeconfig=kc, check=False)
        assert r.returncode != 0 and "forbidden" in r.stderr.lower(), \
            r.stderr
    finally:
        kube_cluster.kubectl("delete", "pod", "smoke-mine", "smoke-theirs",
                             "--force", "--grace-period=0",
                             "--ignore-not-found")


def test_kubeedge_crds_are_served(kube_cluster):
    for crd in ("devices.devices.kubeedge.io",
                "devicemodels.devices.kubeedge.io"):
        out = kube_cluster.kubectl("get", "crd", crd, "-o", "json")
        spec = json.loads(out)["spec"]
        assert spec["scope"] == "Namespaced"
        assert spec["versions"][0]["name"] == "v1alpha1"
        assert "status" in spec["versions"][0]["subresources"]
    dev = {"apiVersion": "devices.kubeedge.io/v1alpha1", "kind": "Device",
           "metadata": {"name": "smoke-dev", "namespace": "default"},
           "spec": {"deviceModelRef": {"name": "m"}, "anything": [1, 2]}}
    kube_cluster.kubectl("create", "-f", "-", input=json.dumps(dev))
    try:
        out = kube_cluster.kubectl("get", "device", "smoke-dev", "-o", "json")
        assert json.loads(out)["spec"]["anything"] == [1, 2]
    finally:
        kube_cluster.kubectl("delete", "device", "smoke-dev")


def test_apiserver_restarts_on_same_port(kube_cluster):
    kube_cluster.kubectl("create", "configmap", "smoke-restart",
                         "--from-literal=k=v")
    url = kube_cluster.url
    kube_cluster.stop_apiserver()
    try:
        r = kube_cluster.kubectl("get", "configmap", "smoke-restart",
                                 check=False, timeout=30)
        assert r.returncode != 0
    finally:
        kube_cluster.start_apiserver()
    assert kube_cluster.url == url
    out = kube_cluster.kubectl("get", "configmap", "smoke-restart", "-o",
                               "jsonpath={.data.k}")
    assert out == "v"
    kube_cluster.kubectl("delete", "configmap", "smoke-restart")


def test_compaction_gives_410(kube_cluster):
    out = kube_cluster.kubectl("create", "configmap", "smoke-compact",
                               "-o", "json")
    old_rv = json.loads(out)["metadata"]["resourceVersion"]
    kube_cluster.kubectl("label", "configmap", "smoke-compact", "x=y")
    rev = kube_cluster.compact_etcd()
    assert rev > int(old_rv)
    base = "/api/v1/namespaces/default/configmaps?resourceVersion=" + old_rv
    status, body = kube_cluster.request(base + "&resourceVersionMatch=Exact")
    assert status == 410, body
    assert json.loads(body)["reason"] == "Expired"
    status, body = kube_cluster.request(base + "&watch=1&timeoutSeconds=5")
    assert status == 200, body
    event = json.loads(body.splitlines()[0])
    assert event["type"] == "ERROR", event
    assert event["object"]["code"] == 410, event
    kube_cluster.kubectl("delete", "configmap", "smoke-compact")
