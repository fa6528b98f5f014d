# SPDX-License-Identifier: Apache-2.0
"""The device twin on the external broker (mqtt.mode 2), standalone: the
Device and DeviceModel objects are written into the store while edgesite
is stopped (as the reflectors would have), devices are mosquitto_pub and
mosquitto_sub. Membership, twin updates with their result, document and
delta, twin gets, state updates, every kind of bad request (answered with
a code and a reason, changing nothing), desired values changed while
stopped, and devices joining and leaving across a restart."""
import json
import os

import pytest

from mqtt_devices import Broker, Sub, mqtt_yaml, pub
from storeio import frame, open_store, unframe

NODE = "edge-twin"
DEV = "$hw/events/device/"
MEMBERSHIP = "$hw/events/node/%s/membership/" % NODE
DEVICES = "o/devices.devices.kubeedge.io/"
MODELS = "o/devicemodels.devices.kubeedge.io/"


def device(name, node=NODE, desired=None, ns="default", labels=None):
    twins = [{"propertyName": k,
              "desired": {"value": v, "metadata": {"type": "int"}}}
             for k, v in (desired or {}).items()]
    return {
        "apiVersion": "devices.kubeedge.io/v1alpha1", "kind": "Device",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": "7",
                     "labels": labels or {}},
        "spec": {
            "deviceModelRef": {"name": "thermo"},
            "nodeSelector": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "", "operator": "In", "values": [node]}]}]}},
        "status": {"twins": twins}}


MODEL = {
    "apiVersion": "devices.kubeedge.io/v1alpha1", "kind": "DeviceModel",
    "metadata": {"name": "thermo", "namespace": "default"},
    "spec": {"properties": [
        {"name": "temperature", "type": {"int": {"accessMode": "ReadWrite"}}},
        {"name": "mode", "type": {"string": {"accessMode": "ReadWrite"}}},
        {"name": "enabled", "type": {"boolean": {}}}]}}


def write_store(es, put=(), delete=()):
    db = open_store(es.state_dir)
    try:
        for key, obj in put:
            db.put(key.encode(), frame(json.dumps(obj).encode(), rev=1))
        for key in delete:
            db.delete(key.encode())
    finally:
        db.close()


def stored_keys(es):
    """The twin's keys in the running edgesite's store (/debug/store)."""
    status, _, body = es.get("/debug/store?prefix=t/")
    assert status == 200, body
    doc = json.loads(body)
    items = doc.get("items", doc.get("keys", []))
    return {i["key"] if isinstance(i, dict) else i for i in items}


def twin_keys(es):
    """The twin's keys and values; edgesite must be stopped."""
    db = open_store(es.state_dir)
    try:
        return {k.decode(): json.loads(unframe(v))
                for k, v in db.iterator(prefix=b"t/")}
    finally:
        db.close()


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


def start_twin(edgesite_factory, broker, objs):
    """edgesite with objs in its store, connected to broker."""
    es = edgesite_factory("controller:\n  kube:\n    node-name: %s\n" % NODE +
                          mqtt_yaml(2, server=broker.url))
    es.start()
    assert es.stop() == 0
    write_store(es, put=[(MODELS + "default/thermo", MODEL)] + objs)
    mark = len(es.log())
    es.start()
    es.wait_log(r"connecting -> connected", start=mark)
    return es


def request(broker, sub, topic, payload, pred=None, timeout=10):
    """Publishes payload on topic and returns the answer on topic/result
    (matching pred, by default the event_id)."""
    if pred is None and isinstance(payload, dict) and "event_id" in payload:
        eid = payload["event_id"]
        pred = lambda d: isinstance(d, dict) and d.get("event_id") == eid
    pub(broker.port, topic, payload)
    return sub.get(topic + "/result", pred=pred, timeout=timeout)


def test_membership_lists_bound_devices_with_twins(edgesite_factory, broker):
    sub = Sub(broker.port, MEMBERSHIP + "#").start()
    es = start_twin(edgesite_factory, broker, [
        (DEVICES + "default/thermo-1",
         device("thermo-1", desired={"temperature": "25"},
                labels={"site": "hall"})),
        (DEVICES + "default/elsewhere", device("elsewhere", node="other")),
    ])
    es.wait_log(r"twin: device thermo-1 \(namespace default\) joined")
    # The first sync told devices who joined.
    upd = sub.get(MEMBERSHIP + "updated")
    assert [d["id"] for d in upd["added_devices"]] == ["thermo-1"]
    assert upd["removed_devices"] == []

    doc = request(broker, sub, MEMBERSHIP + "get", {"event_id": "m1"})
    assert isinstance(doc["timestamp"], int)
    assert [d["id"] for d in doc["devices"]] == ["thermo-1"]
    d = doc["devices"][0]
    assert d["name"] == "thermo-1" and d["state"] == "unknown"
    assert d["attributes"]["site"]["value"] == "hall"
    t = d["twin"]
    assert t["temperature"]["expected"]["value"] == "25"
    assert t["temperature"]["metadata"]["type"] == "int"
    assert t["temperature"]["expected_version"] == {"cloud": 1, "edge": 0}
    assert "actual" not in t["temperature"]
    assert t["enabled"]["metadata"]["type"] == "boolean"
    assert t["mode"]["metadata"]["type"] == "string"
    # Another node's membership topic is not ours.
    pub(broker.port, "$hw/events/node/other/membership/get",
        {"event_id": "x"})
    assert all(t != "$hw/events/node/other/membership/get/result"
               for t, _ in sub.drain(0.5))
    sub.stop()
    assert es.stop() == 0


def test_twin_update_result_document_delta_and_get(edgesite_factory,
                                                    broker):
    sub = Sub(broker.port, DEV + "thermo-1/#").start()
    es = start_twin(edgesite_factory, broker, [
        (DEVICES + "default/thermo-1",
         device("thermo-1", desired={"temperature": "25"}))])
    es.wait_log(r"twin: device thermo-1 .*joined")
    topic = DEV + "thermo-1/twin/update"
    res = request(broker, sub, topic, {
        "event_id": "u1", "timestamp": 1,
        "twin": {"temperature": {"actual": {"value": "23"},
                                 "metadata": {"type": "Updated"}}}})
    assert "code" not in res
    t = res["twin"]["temperature"]
    assert t["actual"]["value"] == "23"
    assert isinstance(t["actual"]["metadata"]["timestamp"], int)
    assert t["actual_version"] == {"cloud": 0, "edge": 1}
    assert t["expected"]["value"] == "25"

    doc = sub.get(topic + "/document",
                  pred=lambda d: d["event_id"] == "u1")
    last, cur = (doc["twin"]["temperature"]["last"],
                 doc["twin"]["temperature"]["current"])
    assert "actual" not in last and cur["actual"]["value"] == "23"
    delta = sub.get(topic + "/delta", pred=lambda d: d["event_id"] == "u1")
    assert delta["delta"] == {"temperature": "25"}
    assert delta["twin"]["temperature"]["actual"]["value"] == "23"

    # A new property from the edge; the reported value meets the desired.
    res = request(broker, sub, topic, {
        "event_id": "u2", "twin": {
            "temperature": {"actual": {"value": "25"}},
            "humidity": {"actual": {"value": "40"},
                         "metadata": {"type": "int"}, "optional": True}}})
    assert res["twin"]["humidity"]["optional"] is True
    assert res["twin"]["temperature"]["actual_version"]["edge"] == 2
    sub.get(topic + "/document", pred=lambda d: d["event_id"] == "u2")
    assert not [p for t, p in sub.drain(0.5) if t.endswith("/delta")]

    got = request(broker, sub, DEV + "thermo-1/twin/get", {"event_id": "g1"})
    assert got["twin"]["temperature"]["actual"]["value"] == "25"
    assert got["twin"]["humidity"]["metadata"]["type"] == "int"
    assert {"t/thermo-1/", "t/thermo-1/humidity",
            "t/thermo-1/temperature"} <= stored_keys(es)

    # The twin is kept across a restart.
    assert es.stop() == 0
    keys = twin_keys(es)
    assert keys["t/thermo-1/temperature"]["actual"]["value"] == "25"
    assert keys["t/thermo-1/"]["namespace"] == "default"
    es.start()
    es.wait_log(r"connecting -> connected")
    got = request(broker, sub, DEV + "thermo-1/twin/get", {"event_id": "g2"})
    assert got["twin"]["humidity"]["actual"]["value"] == "40"
    sub.stop()
    assert es.stop() == 0


@pytest.mark.parametrize("payload,code,words", [
    ("not json", 400, "not JSON"),
    ("[1, 2]", 400, "not a JSON object"),
    ({"event_id": "b", "twin": "x"}, 400, "not an object"),
    ({"event_id": "b", "twin": {}}, 400, "no property"),
    ({"event_id": "b", "twin": {"temperature": {"actual": {"value": 23}}}},
     400, "not a string"),
    ({"event_id": "b", "twin": {"temperature": {"actual": {"value": "hot"}}}},
     400, "not of type int"),
    ({"event_id": "b", "twin": {"enabled": {"actual": {"value": "yes"}}}},
     400, "not of type boolean"),
    ({"event_id": "b", "twin": {"temperature": {"optional": True}}},
     400, "neither actual nor expected"),
    ({"event_id": "b", "twin": {"temperature": {
        "actual": {"value": "1"}, "metadata": {"type": "string"}}}},
     400, "different type"),
    ({"event_id": "b", "twin": {"temperature": {
        "actual": {"value": "1"},
        "actual_version": {"cloud": 0, "edge": 0}}}}, 409,
     "version conflict"),
    ({"event_id": "b", "twin": {"temperature": {
        "actual": {"value": "1"}, "actual_version": {"cloud": "x"}}}},
     400, "actual_version"),
])
def test_bad_twin_updates_change_nothing(edgesite_factory, broker, payload,
                                         code, words):
    sub = Sub(broker.port, DEV + "#").start()
    es = start_twin(edgesite_factory, broker, [
        (DEVICES + "default/thermo-1", device("thermo-1"))])
    es.wait_log(r"twin: device thermo-1 .*joined")
    topic = DEV + "thermo-1/twin/update"
    request(broker, sub, topic, {"event_id": "ok", "twin": {
        "temperature": {"actual": {"value": "20"}}}})
    before = request(broker, sub, DEV + "thermo-1/twin/get",
                     {"event_id": "g0"})["twin"]
    keys = stored_keys(es)

    res = request(broker, sub, topic, payload,
                  pred=lambda d: isinstance(d, dict) and "code" in d)
    assert res["code"] == code, res
    assert words in res["reason"], res
    assert res["event_id"] == (payload.get("event_id", "")
                               if isinstance(payload, dict) else "")
    got = request(broker, sub, DEV + "thermo-1/twin/get", {"event_id": "g"})
    assert got["twin"] == before
    assert got["twin"]["temperature"]["actual"]["value"] == "20"
    assert stored_keys(es) == keys
    # every refusal is counted, not only answered
    assert es.metric("edgesite_twin_requests_refused_total") == 1
    sub.stop()
    assert es.stop() == 0


def test_unknown_device_and_states(edgesite_factory, broker):
    sub = Sub(broker.port, DEV + "#", MEMBERSHIP + "#").start()
    es = start_twin(edgesite_factory, broker, [
        (DEVICES + "default/thermo-1", device("thermo-1")),
        (DEVICES + "default/elsewhere", device("elsewhere", node="other"))])
    es.wait_log(r"twin: device thermo-1 .*joined")
    for dev in ("nosuch", "elsewhere"):
        for what in ("twin/update", "twin/get", "state/update"):
            res = request(broker, sub, DEV + dev + "/" + what, {
                "event_id": "n", "state": "online",
                "twin": {"a": {"actual": {"value": "1"}}}})
            assert res["code"] == 404, res

    res = request(broker, sub, DEV + "thermo-1/state/update",
                  {"event_id": "s1", "state": "online"})
    assert res["device"]["state"] == "online"
    assert res["device"]["last_online"].endswith("Z")
    res = request(broker, sub, DEV + "thermo-1/state/update",
                  {"event_id": "s2", "state": "sleepy"})
    assert res["code"] == 400
    res = request(broker, sub, DEV + "thermo-1/state/update",
                  {"event_id": "s3", "state": "offline"})
    assert res["device"]["state"] == "offline"
    doc = request(broker, sub, MEMBERSHIP + "get", {"event_id": "m"})
    d = doc["devices"][0]
    assert d["state"] == "offline" and d["last_online"].endswith("Z")
    assert not [k for k in stored_keys(es) if "nosuch" in k]
    sub.stop()
    assert es.stop() == 0


def test_changes_while_stopped(edgesite_factory, broker):
    es = start_twin(edgesite_factory, broker, [
        (DEVICES + "default/thermo-1",
         device("thermo-1", desired={"temperature": "25"})),
        (DEVICES + "default/thermo-2", device("thermo-2"))])
    es.wait_log(r"twin: device thermo-2 .*joined")
    sub = Sub(broker.port, DEV + "#", MEMBERSHIP + "#").start()
    request(broker, sub, DEV + "thermo-1/twin/update", {
        "event_id": "u", "twin": {"temperature": {"actual": {"value": "25"}}}})
    assert es.stop() == 0

    # While stopped: thermo-1's desired value changes, thermo-2 goes to
    # another node, thermo-3 arrives.
    write_store(es, put=[
        (DEVICES + "default/thermo-1",
         device("thermo-1", desired={"temperature": "30"})),
        (DEVICES + "default/thermo-2", device("thermo-2", node="other")),
        (DEVICES + "default/thermo-3", device("thermo-3"))])
    es.start()
    upd = sub.get(MEMBERSHIP + "updated")
    assert [d["id"] for d in upd["added_devices"]] == ["thermo-3"]
    assert [d["id"] for d in upd["removed_devices"]] == ["thermo-2"]
    delta = sub.get(DEV + "thermo-1/twin/update/delta")
    assert delta["delta"] == {"temperature": "30"}
    t = delta["twin"]["temperature"]
    assert t["expected"]["value"] == "30" and t["actual"]["value"] == "25"
    assert t["expected_version"]["cloud"] == 2
    sub.stop()
    assert es.stop() == 0
    keys = twin_keys(es)
    assert not [k for k in keys if k.startswith("t/thermo-2/")]
    assert "t/thermo-3/" in keys


def test_model_type_wins_when_it_comes_late(edgesite_factory, broker):
    es = edgesite_factory("controller:\n  kube:\n    node-name: %s\n" % NODE +
                          mqtt_yaml(2, server=broker.url))
    es.start()
    assert es.stop() == 0
    # The Device before its DeviceModel, as the reflectors may store them.
    d = device("thermo-1", desired={"temperature": "1"})
    d["status"]["twins"][0]["desired"]["metadata"] = {}
    write_store(es, put=[(DEVICES + "default/thermo-1", d)])
    es.start()
    es.wait_log(r"twin: device thermo-1 .*joined")
    sub = Sub(broker.port, DEV + "#").start()
    got = request(broker, sub, DEV + "thermo-1/twin/get", {"event_id": "a"})
    assert got["twin"]["temperature"]["metadata"]["type"] == "string"
    assert es.stop() == 0
    write_store(es, put=[(MODELS + "default/thermo", MODEL)])
    es.start()
    got = request(broker, sub, DEV + "thermo-1/twin/get", {"event_id": "b"},
                  timeout=20)
    assert got["twin"]["temperature"]["metadata"]["type"] == "int"
    assert got["twin"]["temperature"]["expected"]["value"] == "1"
    res = request(broker, sub, DEV + "thermo-1/twin/update", {
        "event_id": "c", "twin": {"temperature": {"actual": {"value": "x"}}}})
    assert res["code"] == 400
    sub.stop()
    assert es.stop() == 0
