# SPDX-License-Identifier: Apache-2.0
"""Cluster pods against a real kube-apiserver (kube_cluster) and a real
containerd: a pod created with kubectl for the node runs and its status
(phase, conditions, container statuses, IPs) and events reach the
apiserver; env from a secret and a configmap, a missing secret shown as
CreateContainerConfigError until it is created; a configmap change
reaching the mounted file; a graceful delete honouring the grace period,
then confirmed with a grace-0 delete; a static pod's mirror pod created,
given the status, and deleted with the manifest. Runs only with
EDGESITE_TEST_KUBE=1."""
import json
import os
import time
import uuid

import pytest

from fault_proxy import FaultProxy
from harness import cluster_pod, forget_node, log_events, node_yaml, wait_for
from podutil import (BUSYBOX, cri, remove_manifest, runtime_yaml,
                     sandboxes, write_manifest)

pytestmark = pytest.mark.kube


def fresh_name():
    return "es-pod-%s" % uuid.uuid4().hex[:8]


def join(cluster, ctd, edgesite_factory, name=None, proxy=None):
    """An edgesite joined as node name (a fresh one by default; through
    proxy when given) with the containerd fixture, started; returns (es,
    node name)."""
    name = name or fresh_name()
    es = edgesite_factory(node_yaml(
        cluster, name, master=proxy.url if proxy else None) +
        runtime_yaml(ctd))
    es.start()
    wait_for(lambda: cluster.request("/api/v1/nodes/" + name)[0] == 200,
             what="the Node registered", es=es)
    return es, name


@pytest.fixture
def node(kube_cluster, containerd, edgesite_factory):
    """A started edgesite joined as a fresh node; yields (es, node name).
    Its pods, Node and Lease are deleted at the end."""
    es, name = join(kube_cluster, containerd, edgesite_factory)
    try:
        yield es, name
    finally:
        es.stop()
        forget_node(kube_cluster, name)


def create(cluster, obj):
    cluster.kubectl("create", "-f", "-", input=json.dumps(obj))


def pod(name, node, command, containers_extra=None, spec_extra=None):
    c = {"imagePullPolicy": "IfNotPresent"}
    c.update(containers_extra or {})
    spec = {"terminationGracePeriodSeconds": 2}
    spec.update(spec_extra or {})
    return cluster_pod(name, node, command, image=BUSYBOX, container=c,
                       spec=spec)


def get_pod(cluster, name):
    status, body = cluster.request("/api/v1/namespaces/default/pods/" +
                                   name)
    return json.loads(body) if status == 200 else None


def wait_pod(cluster, name, pred, timeout=60, what="pod state"):
    last = [None]

    def check():
        last[0] = get_pod(cluster, name)
        return last[0] is not None and pred(last[0]) and last[0]
    try:
        return wait_for(check, timeout=timeout, what=what)
    except AssertionError:
        raise AssertionError("%s: %s" % (what, json.dumps(
            last[0] and last[0].get("status"), indent=1)))


def ready(p):
    st = p.get("status", {})
    return st.get("phase") == "Running" and any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in st.get("conditions", []))


def cid(p, c="c"):
    for cs in p["status"]["containerStatuses"]:
        if cs["name"] == c:
            return cs["containerID"].split("//")[1]
    return None


def exec_out(ctd, container, *cmd):
    for line in cri(ctd, "exec", "id=%s" % container, *cmd):
        if line.startswith("exec OK "):
            return line.split("stdout=", 1)[1]
    return None


def test_pod_runs_and_reports(kube_cluster, containerd, node):
    es, name = node
    create(kube_cluster, pod("run", name, ["sleep", "1000"]))
    p = wait_pod(kube_cluster, "run", ready, what="Running and Ready")
    st = p["status"]
    cs = st["containerStatuses"][0]
    assert cs["ready"] and cs["started"] and cs["restartCount"] == 0
    assert cs["containerID"].startswith("containerd://")
    assert st["podIP"] and st["hostIP"] and st["qosClass"] == "BestEffort"
    assert {c["type"] for c in st["conditions"]} >= {
        "PodScheduled", "Initialized", "ContainersReady", "Ready"}
    assert len(sandboxes(containerd, "default", "run")) == 1

    def reasons():
        items = json.loads(kube_cluster.kubectl(
            "get", "events", "-o", "json", "--field-selector",
            "involvedObject.name=run"))["items"]
        return {e["reason"] for e in items}
    wait_for(lambda: {"Pulled", "Created", "Started"} <= reasons(),
             what="the Pulled, Created and Started events")


def test_env_from_secret_and_configmap(kube_cluster, containerd, node):
    es, name = node
    sec, cm = "sec-" + name, "cm-" + name
    create(kube_cluster, pod("env", name, ["sleep", "1000"], {
        "env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {
            "name": sec, "key": "password"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {
                "fieldPath": "spec.nodeName"}}}],
        "envFrom": [{"configMapRef": {"name": cm}, "prefix": "CM_"}]}))
    create(kube_cluster, {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": cm, "namespace": "default"},
                          "data": {"color": "blue"}})
    # the secret is missing: the container cannot be made yet (a first
    # try may have found no configmap either, when it came after the pod)
    p = wait_pod(kube_cluster, "env", lambda p: any(
        cs["state"].get("waiting", {}).get("reason") ==
        "CreateContainerConfigError" and
        "secret" in cs["state"]["waiting"].get("message", "")
        for cs in p.get("status", {}).get("containerStatuses", [])),
        what="CreateContainerConfigError for the secret")
    msg = p["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
    assert msg == 'secret "%s" not found' % sec
    create(kube_cluster, {"apiVersion": "v1", "kind": "Secret",
                          "metadata": {"name": sec, "namespace": "default"},
                          "stringData": {"password": "s3cr3t"}})
    p = wait_pod(kube_cluster, "env", ready, timeout=60,
                 what="Running once the secret exists")
    c = cid(p)
    assert exec_out(containerd, c, "sh", "-c", "echo $PASSWORD") == "s3cr3t"
    assert exec_out(containerd, c, "sh", "-c", "echo $NODE") == name
    assert exec_out(containerd, c, "sh", "-c", "echo $CM_color") == "blue"


def test_configmap_change_reaches_the_file(kube_cluster, containerd, node):
    es, name = node
    cm = "vol-" + name
    create(kube_cluster, {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": cm, "namespace": "default"},
                          "data": {"greeting": "hello"}})
    create(kube_cluster, pod("vol", name, ["sleep", "1000"], {
        "volumeMounts": [{"name": "cfg", "mountPath": "/cfg"}]}, {
        "volumes": [{"name": "cfg", "configMap": {"name": cm}}]}))
    p = wait_pod(kube_cluster, "vol", ready, what="Running")
    c = cid(p)
    assert exec_out(containerd, c, "cat", "/cfg/greeting") == "hello"
    kube_cluster.kubectl("patch", "configmap", cm, "--type=merge", "-p",
                         json.dumps({"data": {"greeting": "bonjour"}}))
    wait_for(lambda: exec_out(containerd, c, "cat", "/cfg/greeting") ==
             "bonjour", timeout=30, what="the new value in the file")
    # swapped in place: the same container, a link to a new directory
    assert exec_out(containerd, c, "readlink", "/cfg/greeting") == \
        "..data/greeting"
    assert get_pod(kube_cluster, "vol")["status"]["containerStatuses"][0][
        "restartCount"] == 0


def test_graceful_delete(kube_cluster, containerd, node):
    es, name = node
    create(kube_cluster, pod("grace", name, [
        "sh", "-c", "trap 'echo ignoring TERM' TERM; "
        "while true; do sleep 1; done"], spec_extra={
        "terminationGracePeriodSeconds": 30}))
    wait_pod(kube_cluster, "grace", ready, what="Running")
    t0 = time.monotonic()
    kube_cluster.kubectl("delete", "pod", "grace", "--grace-period=5",
                         "--wait=false")
    wait_for(lambda: get_pod(kube_cluster, "grace") is None, timeout=60,
             interval=0.1, what="the pod deleted")
    took = time.monotonic() - t0
    assert took >= 4.5, took
    assert not sandboxes(containerd, "default", "grace")
    es.wait_log(r"pod default/grace: stopping container c \w+, grace [45]s")
    es.wait_log(r"pod default/grace: terminated, confirming the deletion")


def test_static_pod_mirror(kube_cluster, containerd, node):
    es, name = node
    write_manifest(es, "m.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n"
                   "  name: mir\nspec:\n  terminationGracePeriodSeconds: 1\n"
                   "  containers:\n  - name: c\n    image: %s\n"
                   "    imagePullPolicy: IfNotPresent\n"
                   "    command: [sleep, \"1000\"]\n" % BUSYBOX)
    mname = "mir-" + name
    p = wait_pod(kube_cluster, mname, ready, timeout=60,
                 what="the mirror pod Running")
    ann = p["metadata"]["annotations"]
    assert ann["kubernetes.io/config.source"] == "file"
    assert ann["kubernetes.io/config.mirror"] == \
        ann["kubernetes.io/config.hash"]
    assert p["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert p["spec"]["nodeName"] == name
    remove_manifest(es, "m.yaml")
    wait_for(lambda: get_pod(kube_cluster, mname) is None, timeout=60,
             what="the mirror pod deleted")
    wait_for(lambda: not sandboxes(containerd, "default", mname),
             what="the static pod removed")


PODS_WATCH = r"^/api/v1/pods\?.*watch"


def test_confirmed_deletion_terminates_once(kube_cluster, containerd,
                                            edgesite_factory):
    """Regression of 93f5eec: a pod whose deletion edgesite confirmed
    keeps its finished machine until the object leaves the store, so an
    update arriving after the confirmation (the apiserver's last ones) does
    not start a second termination; a new pod under the same name then
    retires that machine and runs."""
    name = fresh_name()
    proxy = FaultProxy.for_node(kube_cluster, name)
    es, name = join(kube_cluster, containerd, edgesite_factory, name, proxy)
    path = "/api/v1/namespaces/default/pods/once"
    try:
        create(kube_cluster, pod("once", name, ["sleep", "1000"]))
        uid = wait_pod(kube_cluster, "once", ready)["metadata"]["uid"]
        # The object's DELETED event never reaches edgesite: it stays in
        # the store after the deletion is confirmed.
        proxy.hide(PODS_WATCH, rb'"type":"DELETED"')
        kube_cluster.kubectl("delete", "pod", "once", "--wait=false")
        wait_for(lambda: get_pod(kube_cluster, "once") is None, timeout=60,
                 what="the deletion confirmed", es=es)
        es.wait_log(r"pod default/once: terminated, confirming the deletion")
        es.wait_log(r"pod default/once: removed")
        st, _, body = es.get(path)
        assert st == 200, body
        last = json.loads(body)
        assert last["metadata"]["deletionTimestamp"], last
        # A late update of the object, as the apiserver sends them.
        last["metadata"]["resourceVersion"] = str(
            int(last["metadata"]["resourceVersion"]) + 1)
        last["metadata"].setdefault("labels", {})["late"] = "update"
        proxy.insert(PODS_WATCH, json.dumps({"type": "MODIFIED",
                                             "object": last}).encode())
        wait_for(lambda: json.loads(es.get(path)[2])["metadata"].get(
            "labels", {}).get("late") == "update", what="the late update "
            "stored", es=es)
        time.sleep(3)
        assert len(log_events(es, r"^pod default/once: uid %s" % uid)) == 1
        assert len(log_events(es, r"^pod default/once: terminated, "
                              r"confirming the deletion")) == 1, es.log()
        deletes = proxy.seen(r"^%s(\?|$)" % path, method="DELETE")
        assert len(deletes) == 1, deletes
        # A new pod of that name retires the finished machine and runs.
        create(kube_cluster, pod("once", name, ["sleep", "1000"]))
        p = wait_pod(kube_cluster, "once", ready, what="the new pod Ready")
        assert p["metadata"]["uid"] != uid
        proxy.clear()
    finally:
        es.stop()
        proxy.close()
        forget_node(kube_cluster, name)
