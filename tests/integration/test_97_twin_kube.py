# SPDX-License-Identifier: Apache-2.0
"""The device twin against the real apiserver (kube_cluster): Devices and
DeviceModels come from the reflectors, a node's membership follows the
node selector, the cloud's desired values become deltas, and what devices
report (values and state) goes back as the Device status, through the
outbox while the apiserver is down. Devices are mosquitto_pub and
mosquitto_sub on Debian's mosquitto (mqtt.mode 2). The node's RBAC for the
KubeEdge resources is what an administrator grants system:nodes. Runs only
with EDGESITE_TEST_KUBE=1."""
import json
import os
import uuid

import pytest

from harness import forget_node, node_yaml, wait_for
from mqtt_devices import Broker, Sub, mqtt_yaml, pub

pytestmark = pytest.mark.kube

API = "/apis/devices.kubeedge.io/v1alpha1/namespaces/default/"
DEV = "$hw/events/device/"

RBAC = {"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
     "metadata": {"name": "edgesite-test-devices"},
     "rules": [
         {"apiGroups": ["devices.kubeedge.io"],
          "resources": ["devices", "devicemodels"],
          "verbs": ["get", "list", "watch"]},
         {"apiGroups": ["devices.kubeedge.io"],
          "resources": ["devices/status"],
          "verbs": ["get", "patch", "update"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1",
     "kind": "ClusterRoleBinding",
     "metadata": {"name": "edgesite-test-devices"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                 "kind": "ClusterRole", "name": "edgesite-test-devices"},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io",
                   "kind": "Group", "name": "system:nodes"}]}]}


def device(cluster, name):
    status, body = cluster.request(API + "devices/" + name)
    return json.loads(body) if status == 200 else None


def reported(cluster, name, prop):
    d = device(cluster, name) or {}
    for t in d.get("status", {}).get("twins", []):
        if t.get("propertyName") == prop:
            return t.get("reported", {}).get("value")
    return None


def set_desired(cluster, name, twins):
    """The cloud's side: status.twins as given (a merge patch replaces the
    list)."""
    status, body = cluster.request(
        API + "devices/%s/status" % name, method="PATCH",
        body=json.dumps({"status": {"twins": twins}}).encode(),
        content_type="application/merge-patch+json")
    assert status == 200, body


@pytest.fixture
def twin_env(kube_cluster, edgesite_factory, tmp_path):
    """A fresh node with one DeviceModel and one Device bound to it (desired
    temperature 25), mosquitto, and edgesite (not started)."""
    kube_cluster.kubectl("apply", "-f", "-", input=json.dumps(RBAC))
    tag = uuid.uuid4().hex[:8]
    node, model, dev = "tw-" + tag, "thermo-" + tag, "dev-" + tag
    kube_cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "devices.kubeedge.io/v1alpha1", "kind": "DeviceModel",
        "metadata": {"name": model, "namespace": "default"},
        "spec": {"properties": [
            {"name": "temperature", "type": {"int": {"accessMode":
                                                     "ReadWrite"}}},
            {"name": "enabled", "type": {"boolean": {}}}]}}))
    kube_cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "devices.kubeedge.io/v1alpha1", "kind": "Device",
        "metadata": {"name": dev, "namespace": "default"},
        "spec": {"deviceModelRef": {"name": model},
                 "nodeSelector": {"nodeSelectorTerms": [{
                     "matchExpressions": [{"key": "", "operator": "In",
                                           "values": [node]}]}]}}}))
    set_desired(kube_cluster, dev, [{"propertyName": "temperature",
                                     "desired": {"value": "25",
                                                 "metadata": {}}}])
    broker = Broker(tmp_path).start()
    es = edgesite_factory(node_yaml(kube_cluster, node) +
                          mqtt_yaml(2, server=broker.url))
    yield es, broker, node, dev
    es.kill()
    broker.stop()
    for kind, name in (("devices", dev), ("devicemodels", model)):
        kube_cluster.request(API + "%s/%s" % (kind, name), method="DELETE")
    forget_node(kube_cluster, node)


def ask(broker, sub, topic, payload):
    eid = payload["event_id"]
    pub(broker.port, topic, payload)
    return sub.get(topic + "/result", pred=lambda d: d.get("event_id") == eid)


def test_twin_follows_the_cluster(kube_cluster, twin_env):
    es, broker, node, dev = twin_env
    membership = "$hw/events/node/%s/membership/" % node
    sub = Sub(broker.port, DEV + dev + "/#", membership + "#").start()
    es.start()
    es.wait_log(r"twin: device %s \(namespace default\) joined" % dev,
                timeout=30)
    upd = sub.get(membership + "updated")
    assert [d["id"] for d in upd["added_devices"]] == [dev]
    got = ask(broker, sub, DEV + dev + "/twin/get", {"event_id": "g1"})
    assert got["twin"]["temperature"]["expected"]["value"] == "25"
    assert got["twin"]["temperature"]["metadata"]["type"] == "int"
    assert got["twin"]["enabled"]["metadata"]["type"] == "boolean"

    # Reported values and the state go upstream as the Device's status,
    # the cloud's desired value kept.
    res = ask(broker, sub, DEV + dev + "/twin/update", {
        "event_id": "u1", "twin": {"temperature": {"actual": {"value": "23"}},
                                   "enabled": {"actual": {"value": "true"}}}})
    assert "code" not in res
    ask(broker, sub, DEV + dev + "/state/update",
        {"event_id": "s1", "state": "online"})
    d = wait_for(lambda: (
        lambda d: d if d and d.get("status", {}).get("state") == "online"
        and reported(kube_cluster, dev, "enabled") == "true" else None)(
            device(kube_cluster, dev)), what="status reported upstream")
    twins = {t["propertyName"]: t for t in d["status"]["twins"]}
    assert twins["temperature"]["desired"]["value"] == "25"
    assert twins["temperature"]["reported"]["value"] == "23"
    assert twins["temperature"]["reported"]["metadata"]["type"] == "int"
    assert d["status"]["lastOnline"].endswith("Z")

    # The cloud wants 30: a delta for the device.
    set_desired(kube_cluster, dev, [
        dict(twins["temperature"], desired={"value": "30", "metadata": {}}),
        twins["enabled"]])
    delta = sub.get(DEV + dev + "/twin/update/delta",
                    pred=lambda d: d["delta"].get("temperature") == "30")
    assert delta["twin"]["temperature"]["actual"]["value"] == "23"
    assert delta["twin"]["temperature"]["expected_version"]["cloud"] == 2
    # The device gets there; the status follows with desired kept.
    ask(broker, sub, DEV + dev + "/twin/update", {
        "event_id": "u2", "twin": {"temperature": {"actual": {"value": "30"}}}})
    wait_for(lambda: reported(kube_cluster, dev, "temperature") == "30",
             what="reported 30")
    d = device(kube_cluster, dev)
    assert [t["desired"]["value"] for t in d["status"]["twins"]
            if t["propertyName"] == "temperature"] == ["30"]

    # The Device leaves the node.
    kube_cluster.request(API + "devices/" + dev, method="DELETE")
    upd = sub.get(membership + "updated",
                  pred=lambda d: d["removed_devices"] != [])
    assert [d["id"] for d in upd["removed_devices"]] == [dev]
    res = ask(broker, sub, DEV + dev + "/twin/get", {"event_id": "g2"})
    assert res["code"] == 404
    sub.stop()
    assert es.stop() == 0


def test_reports_wait_in_the_outbox_while_offline(kube_cluster, twin_env):
    es, broker, node, dev = twin_env
    sub = Sub(broker.port, DEV + dev + "/#").start()
    es.start()
    es.wait_log(r"twin: device %s .*joined" % dev, timeout=30)
    kube_cluster.stop_apiserver()
    try:
        ask(broker, sub, DEV + dev + "/twin/update", {
            "event_id": "off", "twin": {
                "temperature": {"actual": {"value": "41"}}}})
        es.wait_log(r"twin: device %s: status queued upstream" % dev)
        status, _, body = es.get("/debug/store?prefix=x/devices/")
        assert b"x/devices/default/%s/status" % dev.encode() in body, body
        # Offline, the twin keeps answering from the store.
        got = ask(broker, sub, DEV + dev + "/twin/get", {"event_id": "g"})
        assert got["twin"]["temperature"]["actual"]["value"] == "41"
    finally:
        kube_cluster.start_apiserver()
    wait_for(lambda: reported(
        kube_cluster, dev, "temperature") == "41", timeout=60,
             what="queued report delivered")
    wait_for(lambda: b'"count":0' in es.get(
        "/debug/store?prefix=x/devices/")[2], timeout=20,
             what="outbox drained")
    assert es.metric("edgesite_kube_outbox_sent_total") >= 1
    assert es.metric("edgesite_kube_outbox_damaged_total") == 0
    sub.stop()
    assert es.stop() == 0
