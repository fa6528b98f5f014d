# SPDX-License-Identifier: Apache-2.0
"""Durability across a power loss: powerloss.c keeps only what was fsync'ed
under the store, edgesite is killed and the disk put back to its synced
image. Every QoS 1 message the embedded broker acknowledged, retained or
queued for a persistent session, is there after the restart; the synced
batches of a loop turn share one sync."""
import socket

from conftest import free_port
from mqtt_raw import PUBACK, PUBLISH, RawClient, publish_packet, wait_clients
from powerloss import PowerLoss

BURSTS = 8
PER_BURST = 25


def conf(port):
    return ("mqtt:\n  internal-server: tcp://127.0.0.1:%d\n"
            "  session-queue-size: 1000\n  max-inflight: 1000\n" % port)


def publish_bursts(port):
    """Pipelined bursts of QoS 1 publishes, half retained, half for the
    persistent session; returns the (topic, payload) pairs acknowledged."""
    c = RawClient(port)
    c.connect("writer")
    acked, pid = [], 0
    for burst in range(BURSTS):
        sent = {}
        for i in range(PER_BURST):
            pid += 1
            n = burst * PER_BURST + i
            if n % 2:
                topic, retain = "dur/r/%d" % n, True
            else:
                topic, retain = "dur/q/%d" % n, False
            sent[pid] = (topic, "v%d" % n)
            c.send(publish_packet(topic, "v%d" % n, qos=1, retain=retain,
                                  pid=pid))
        for _ in range(PER_BURST):
            p = c.expect(PUBACK)
            acked.append(sent.pop(p.pid))
        assert not sent
    c.close()
    return acked


def received(c, timeout=3):
    """(topic, payload) of the PUBLISHes c gets until it is quiet; QoS 1
    ones are acknowledged."""
    out = []
    while True:
        try:
            p = c.recv(timeout)
        except socket.timeout:
            return out
        assert p.type == PUBLISH, p
        out.append((p.topic, p.payload.decode()))
        if p.qos:
            c.ack(PUBACK, p.pid)


def test_acknowledged_survives_power_loss(edgesite_factory, tmp_path,
                                          monkeypatch):
    port = free_port()
    es = edgesite_factory(conf(port))
    es.mqtt_port = port
    pl = PowerLoss(es.tmp, es.state_dir)
    pl.env(monkeypatch)
    es.start()
    keeper = RawClient(port)
    assert not keeper.connect("keeper", clean=False).session_present
    assert keeper.subscribe(1, ("dur/q/#", 1)) == [1]
    keeper.disconnect()
    wait_clients(es, 0)

    syncs = es.metric("edgesite_store_syncs_total")
    acked = publish_bursts(port)
    assert len(acked) == BURSTS * PER_BURST
    held = es.metric("edgesite_mqtt_broker_acks_held_total")
    synced = es.metric("edgesite_store_syncs_total") - syncs
    # every ack waited for a sync, and syncs were shared
    assert held == len(acked)
    assert 0 < synced < len(acked) / 2, synced

    restored, _ = pl.crash(es, monkeypatch)
    assert restored > 0
    es.start()
    assert "opened" in es.log()

    retained = [a for a in acked if a[0].startswith("dur/r/")]
    queued = [a for a in acked if a[0].startswith("dur/q/")]
    c = RawClient(port)
    c.connect("reader")
    c.subscribe(1, ("dur/r/#", 0))
    got = received(c)
    missing = set(retained) - set(got)
    assert not missing, "acknowledged retained messages lost: %r" % sorted(
        missing)
    c.close()

    keeper = RawClient(port)
    assert keeper.connect("keeper", clean=False).session_present
    got = received(keeper)
    missing = set(queued) - set(got)
    assert not missing, "acknowledged queued messages lost: %r" % sorted(
        missing)
    keeper.close()
