# SPDX-License-Identifier: Apache-2.0
"""The reflectors against a real apiserver: the node's pods (and only
those) land in the store and leave it when deleted; the configmaps and
secrets a pod references are followed, one object at a time, and dropped
with the last pod; an apiserver restart, an edgesite restart (which resumes
its watches without listing) and a compaction (410, then a relist that
deletes what is gone) all end with the store matching the cluster.
Runs only with EDGESITE_TEST_KUBE=1."""
import json
import os
import re

import pytest

from harness import cluster_pod_json, node_yaml, wait_for


pytestmark = pytest.mark.kube


def pod(name, node, spec_extra=None):
    return cluster_pod_json(name, node, spec=spec_extra)


def create(cluster, doc):
    cluster.kubectl("create", "-f", "-", input=doc)


def delete(cluster, kind, *names):
    """Deletes at once: no kubelet confirms a pod's graceful deletion."""
    cluster.kubectl("delete", kind, *names, "--grace-period=0", "--force",
                    "--wait=false", "--ignore-not-found")


def keys(es, prefix):
    status, _, body = es.get("/debug/store?prefix=" + prefix)
    assert status == 200, body
    return {item["key"] for item in json.loads(body)["items"]}


def wait_keys(es, prefix, cond, what, timeout=30):
    """Waits until the keys under prefix satisfy cond; returns them."""
    got = [set()]

    def check():
        got[0] = keys(es, prefix)
        return cond(got[0])
    try:
        wait_for(check, timeout=timeout, what=what)
    except AssertionError:
        raise AssertionError("store never had %s; keys under %s: %s\n%s" % (
            what, prefix, sorted(got[0]), es.log()[-6000:])) from None
    return got[0]


def has(*ks):
    return lambda got: all(k in got for k in ks)


def lacks(*ks):
    return lambda got: not any(k in got for k in ks)


@pytest.fixture
def node_es(kube_cluster, edgesite_factory, request):
    """An edgesite joined as its own node, named after the test."""
    node = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:50]
    node = "refl-" + node.strip("-")
    es = edgesite_factory(node_yaml(kube_cluster, node))
    es.node = node
    es.start()
    es.wait_log(r"pods: listing -> watching", timeout=30)
    yield es
    # A clean exit: under ASan a leak or a bad access fails it.
    assert es.stop() == 0, es.log()[-4000:]


def test_own_pods_land_and_leave(kube_cluster, node_es):
    es, node = node_es, node_es.node
    mine, theirs = node + "-mine", node + "-theirs"
    create(kube_cluster, pod(mine, node))
    create(kube_cluster, pod(theirs, node + "-other"))
    try:
        wait_keys(es, "o/pods/", has("o/pods/default/" + mine), mine)
        # The Node itself and the cluster-wide services are followed too.
        wait_keys(es, "o/nodes/", has("o/nodes//" + node), "the node")
        wait_keys(es, "o/services/", has("o/services/default/kubernetes"),
                  "the kubernetes service")
        assert "o/pods/default/" + theirs not in keys(es, "o/pods/")
        assert "v/pods" in keys(es, "v/")
        delete(kube_cluster, "pod", mine)
        wait_keys(es, "o/pods/", lacks("o/pods/default/" + mine),
                  "no " + mine)
        assert "o/pods/default/" + theirs not in keys(es, "o/pods/")
        # No other node's pod was ever written.
        assert "default/" + theirs not in es.log()
    finally:
        delete(kube_cluster, "pod", mine, theirs)


def test_referenced_configmaps_and_secrets(kube_cluster, node_es):
    es, node = node_es, node_es.node
    cm, cm_env, other, sec = (node + s for s in ("-cm", "-cmenv", "-other",
                                                 "-sec"))
    kube_cluster.kubectl("create", "configmap", cm, "--from-literal=a=1")
    kube_cluster.kubectl("create", "configmap", cm_env, "--from-literal=b=2")
    kube_cluster.kubectl("create", "configmap", other, "--from-literal=c=3")
    kube_cluster.kubectl("create", "secret", "generic", sec,
                         "--from-literal=d=4")
    name = node + "-p"
    extra = {
        "volumes": [{"name": "v", "configMap": {"name": cm}},
                    {"name": "s", "secret": {"secretName": sec}}],
        "containers": [{"name": "c", "image": "busybox", "env": [{
            "name": "B", "valueFrom": {"configMapKeyRef": {
                "name": cm_env, "key": "b"}}}]}],
    }
    create(kube_cluster, pod(name, node, extra))
    try:
        wait_keys(es, "o/configmaps/", has("o/configmaps/default/" + cm,
                                           "o/configmaps/default/" + cm_env),
                  "the referenced configmaps")
        wait_keys(es, "o/secrets/", has("o/secrets/default/" + sec),
                  "the referenced secret")
        assert "o/configmaps/default/" + other not in keys(
            es, "o/configmaps/")
        v = "v/configmaps/default/" + cm
        before = keys(es, "v/")
        assert v in before
        delete(kube_cluster, "pod", name)
        wait_keys(es, "o/", lacks("o/configmaps/default/" + cm,
                                  "o/configmaps/default/" + cm_env,
                                  "o/secrets/default/" + sec),
                  "the configmaps and secret dropped")
        assert v not in keys(es, "v/")
        assert "o/configmaps/default/" + other not in keys(es, "o/")
    finally:
        delete(kube_cluster, "pod", name)
        delete(kube_cluster, "configmap", cm, cm_env, other)
        delete(kube_cluster, "secret", sec)


def test_apiserver_restart_mid_watch(kube_cluster, node_es):
    es, node = node_es, node_es.node
    a, b, c = (node + s for s in ("-a", "-b", "-c"))
    create(kube_cluster, pod(a, node))
    create(kube_cluster, pod(b, node))
    try:
        wait_keys(es, "o/pods/", has("o/pods/default/" + a,
                                     "o/pods/default/" + b), "a and b")
        mark = len(es.log())
        kube_cluster.stop_apiserver()
        es.wait_log(r"kube: disconnected from", timeout=30, start=mark)
        kube_cluster.start_apiserver()
        delete(kube_cluster, "pod", a)
        create(kube_cluster, pod(c, node))
        wait_keys(es, "o/pods/", lambda got: (
            "o/pods/default/" + c in got and "o/pods/default/" + a not in got
            and "o/pods/default/" + b in got), "b and c without a",
            timeout=60)
        es.wait_log(r"kube: connected to", timeout=30, start=mark)
    finally:
        delete(kube_cluster, "pod", a, b, c)


def test_restart_resumes_without_relist(kube_cluster, node_es):
    es, node = node_es, node_es.node
    a, b = node + "-a", node + "-b"
    create(kube_cluster, pod(a, node))
    try:
        wait_keys(es, "o/pods/", has("o/pods/default/" + a), a)
        assert es.stop() == 0
        # Changes while edgesite is down arrive through the resumed watch.
        delete(kube_cluster, "pod", a)
        create(kube_cluster, pod(b, node))
        mark = len(es.log())
        es.start()
        es.wait_log(r"pods: idle -> watching \(resuming from "
                    r"resourceVersion \d+\)", start=mark)
        wait_keys(es, "o/pods/", lambda got: (
            "o/pods/default/" + b in got and
            "o/pods/default/" + a not in got), "b without a")
        assert not re.search(r"pods: \w+ -> listing", es.log()[mark:])
    finally:
        delete(kube_cluster, "pod", a, b)


def test_compaction_410_relists(kube_cluster, node_es):
    es, node = node_es, node_es.node
    a, b = node + "-a", node + "-b"
    create(kube_cluster, pod(a, node))
    try:
        wait_keys(es, "o/pods/", has("o/pods/default/" + a), a)
        assert es.stop() == 0
        delete(kube_cluster, "pod", a)
        create(kube_cluster, pod(b, node))
        kube_cluster.compact_etcd()
        # A fresh watch cache starts past the compacted versions.
        kube_cluster.stop_apiserver()
        kube_cluster.start_apiserver()
        mark = len(es.log())
        es.start()
        es.wait_log(r"pods: watching -> listing \(410 gone", start=mark,
                    timeout=30)
        got = wait_keys(es, "o/pods/", lambda got: (
            "o/pods/default/" + b in got and
            "o/pods/default/" + a not in got), "b without a")
        assert "o/pods/default/" + b in got
        es.wait_log(r"pods: listed \d+ objects, [1-9]\d* gone", start=mark)
    finally:
        delete(kube_cluster, "pod", a, b)
