# SPDX-License-Identifier: Apache-2.0
"""The external broker (mqtt.mode 2): Debian's mosquitto on a free loopback
port. edgesite connects in the background, restores its subscriptions
after the broker restarts, and never blocks its loop on the broker: with
the port refused, with a listener that never accepts (the TCP handshake
completes, no CONNACK ever comes) and with a listener whose backlog is
full (SYNs dropped), /healthz keeps answering while the client retries."""
import os
import socket
import time

from mqtt_devices import Broker, Sub, free_port, mqtt_yaml, pub

NODE = "edge-mqtt"


def conf(server):
    return ("controller:\n  kube:\n    node-name: %s\n" % NODE +
            mqtt_yaml(2, server=server))


def ready_detail(es):
    status, _, body = es.get("/readyz?verbose")
    return body.decode()


def membership_roundtrip(port, event_id, timeout=10):
    topic = "$hw/events/node/%s/membership/get" % NODE
    sub = Sub(port, topic + "/result").start()
    try:
        deadline = time.time() + timeout
        while True:
            pub(port, topic, {"event_id": event_id})
            try:
                return sub.get(topic + "/result", timeout=1,
                               pred=lambda d: d.get("event_id") == event_id)
            except AssertionError:
                if time.time() > deadline:
                    raise
    finally:
        sub.stop()


def healthz_while(es, seconds):
    """Asks /healthz every 100 ms for seconds; every answer must come (a
    blocked loop would time the 2 s requests out)."""
    n = 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        status, _, body = es.get("/healthz", timeout=2)
        assert status == 200, body
        n += 1
        time.sleep(0.1)
    return n


def test_connects_and_resubscribes_after_broker_restart(edgesite_factory,
                                                        tmp_path):
    broker = Broker(tmp_path).start()
    try:
        es = edgesite_factory(conf(broker.url)).start()
        es.wait_log(r"mqtt external tcp://127\.0\.0\.1:%d: connecting -> "
                    r"connected" % broker.port)
        assert "[+]mqtt ok" in ready_detail(es)
        doc = membership_roundtrip(broker.port, "before")
        assert doc["devices"] == []

        broker.stop()
        es.wait_log(r"mqtt external .*: connection lost, retrying")
        assert "mqtt degraded" in ready_detail(es)
        assert healthz_while(es, 1) > 0

        mark = len(es.log())
        broker.start()
        es.wait_log(r"connecting -> connected", timeout=40, start=mark)
        # The twin's subscriptions came back with the new session.
        doc = membership_roundtrip(broker.port, "after")
        assert doc["event_id"] == "after" and doc["devices"] == []
        assert es.stop() == 0
    finally:
        broker.stop()


def test_refused_port_then_broker_appears(edgesite_factory, tmp_path):
    port = free_port()
    es = edgesite_factory(conf("tcp://127.0.0.1:%d" % port)).start()
    es.wait_log(r"mqtt external .*: Connection refused, retrying")
    healthz_while(es, 1)
    detail = ready_detail(es)
    assert "mqtt degraded" in detail and "refused" in detail, detail
    # Readiness does not wait for an external broker.
    assert es.get("/readyz")[0] == 200

    broker = Broker(tmp_path, port=port).start()
    try:
        es.wait_log(r"connecting -> connected", timeout=40)
        assert membership_roundtrip(port, "late")["devices"] == []
        assert es.stop() == 0
    finally:
        broker.stop()


def test_black_holes_never_block_the_loop(edgesite_factory):
    # Accepts the handshake (the kernel does), never reads, never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    # Backlog full: one connection waits unaccepted, later SYNs are
    # dropped, so a connect stays in progress.
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    fillers = []
    for _ in range(2):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(full.getsockname())
        fillers.append(c)
    try:
        a = edgesite_factory(conf("tcp://127.0.0.1:%d" %
                                  silent.getsockname()[1])).start()
        b = edgesite_factory(conf("tcp://localhost:%d" %
                                  full.getsockname()[1])).start()

        healthz_while(a, 2)
        healthz_while(b, 2)
        a.wait_log(r"mqtt external .*: no answer from the broker, "
                   r"retrying", timeout=20)
        b.wait_log(r"mqtt external .*: no answer from the broker, "
                   r"retrying", timeout=20)
        # Everything else went on meanwhile.
        assert a.get("/healthz", timeout=2)[0] == 200
        assert b.get("/healthz", timeout=2)[0] == 200
        assert "no answer" in ready_detail(a)
        assert a.stop() == 0 and b.stop() == 0
    finally:
        for s in fillers + [silent, full]:
            s.close()
