# SPDX-License-Identifier: Apache-2.0
"""The store as seen from outside: content survives restarts and a clean
stop, damaged values are reported and skipped, the revision persists."""
import json
import signal

from storeio import frame, open_store, unframe


def store_keys(es, prefix=""):
    status, _, body = es.get("/debug/store?prefix=" + prefix)
    assert status == 200
    return {e["key"]: e["size"] for e in json.loads(body)["items"]}


def metric(es, name):
    _, _, body = es.get("/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no metric " + name)


def test_content_survives_restart_and_sigterm(edgesite):
    assert edgesite.stop(signal.SIGTERM) == 0
    db = open_store(edgesite.state_dir)
    pod = json.dumps({"metadata": {"name": "p1", "namespace": "ns"}}).encode()
    db.put(b"o/pods/ns/p1", frame(pod))
    db.close()

    edgesite.start()
    keys = store_keys(edgesite, "o/")
    assert keys == {"o/pods/ns/p1": len(pod)}
    assert edgesite.stop(signal.SIGTERM) == 0

    # the clean stop left the store readable and the value intact
    db = open_store(edgesite.state_dir)
    assert unframe(db.get(b"o/pods/ns/p1")) == pod
    db.close()

    edgesite.start()
    assert "o/pods/ns/p1" in store_keys(edgesite, "o/pods/")


def test_damaged_value_is_reported_and_skipped(edgesite):
    assert edgesite.stop(signal.SIGTERM) == 0
    db = open_store(edgesite.state_dir)
    good = frame(b'{"ok":1}')
    bad = bytearray(frame(b'{"ok":2}'))
    bad[12] ^= 0x40           # flip a payload bit: the checksum must catch it
    db.put(b"o/configmaps/ns/good", good)
    db.put(b"o/configmaps/ns/bad", bytes(bad))
    db.close()

    edgesite.start()
    keys = store_keys(edgesite, "o/configmaps/")
    assert list(keys) == ["o/configmaps/ns/good"]
    assert "o/configmaps/ns/bad: damaged value" in edgesite.log()
    assert metric(edgesite, "edgesite_store_damaged_values_total") >= 1
    assert edgesite.get("/healthz")[0] == 200


def test_prefix_filter(edgesite):
    assert edgesite.stop(signal.SIGTERM) == 0
    db = open_store(edgesite.state_dir)
    for k in (b"o/pods/a/x", b"o/pods/b/y", b"o/services/a/z"):
        db.put(k, frame(b"{}"))
    db.close()
    edgesite.start()
    assert sorted(store_keys(edgesite, "o/pods/")) == [
        "o/pods/a/x", "o/pods/b/y"]
    assert list(store_keys(edgesite, "o/services/")) == ["o/services/a/z"]
