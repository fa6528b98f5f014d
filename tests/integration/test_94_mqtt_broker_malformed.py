# SPDX-License-Identifier: Apache-2.0
"""The strict decoder of the embedded broker: a malformed packet, a bad
remaining length, a packet over mqtt.max-packet-size, an invalid UTF-8 or
wildcard topic, or a protocol violation closes that client alone, with
one log line saying why, and publishes its will; a mosquitto_sub
connected all along keeps getting its messages."""
import pytest

from conftest import free_port
from mqtt_raw import (PINGRESP, PUBACK, PUBLISH, RawClient, Sub, broker_stats,
                      kill_subs, mstr, packet, pub, publish_packet,
                      wait_subscribed)

CASES = [
    # (name, bytes sent after a good CONNECT, expected log text)
    ("remaining length of five bytes", b"\x30\xff\xff\xff\xff\x7f",
     r"PUBLISH packet: malformed remaining length"),
    ("over max-packet-size", b"\x30\xd0\x0f",
     r"PUBLISH packet: packet over the size limit"),
    ("invalid UTF-8 topic", publish_packet(b"bad\xc0\xafutf8", b"x"),
     r"malformed PUBLISH packet: string is not valid UTF-8"),
    ("U+0000 in the topic", publish_packet(b"a\x00b", b"x"),
     r"malformed PUBLISH packet: string is not valid UTF-8"),
    ("wildcard in a topic name", publish_packet("a/+/c", b"x"),
     r"malformed PUBLISH packet: invalid topic name"),
    ("QoS 3", b"\x36\x05\x00\x01a\x00\x01",
     r"malformed PUBLISH packet: PUBLISH with QoS 3"),
    ("SUBSCRIBE with flags 0", packet(0x80, b"\x00\x01" + mstr("a") + b"\x00"),
     r"malformed SUBSCRIBE packet: wrong fixed header flags"),
    ("bad filter", packet(0x82, b"\x00\x01" + mstr("a/#/b") + b"\x00"),
     r"malformed SUBSCRIBE packet: invalid topic filter"),
    ("truncated string", packet(0x82, b"\x00\x01\x00\x09ab"),
     r"malformed SUBSCRIBE packet: truncated string"),
    ("second CONNECT", packet(0x10, mstr("MQTT") + b"\x04\x02\x00\x00" +
                              mstr("again")),
     r"unexpected CONNECT from a client"),
    ("CONNACK from a client", b"\x20\x02\x00\x00",
     r"unexpected CONNACK from a client"),
    ("reserved type 15", b"\xf0\x00",
     r"malformed \? packet: reserved packet type"),
    ("PINGREQ with a body", b"\xc0\x01\x00",
     r"malformed PINGREQ packet: packet has a body where none is allowed"),
]


@pytest.fixture(autouse=True)
def _kill_subs():
    yield
    kill_subs()


@pytest.fixture
def broker(edgesite_factory):
    port = free_port()
    es = edgesite_factory("mqtt:\n  internal-server: tcp://127.0.0.1:%d\n"
                          "  max-packet-size: 2000\n" % port)
    es.mqtt_port = port
    return es.start()


@pytest.mark.parametrize("name,data,log", CASES, ids=[c[0] for c in CASES])
def test_bad_packet_closes_only_that_client(broker, name, data, log):
    port = broker.mqtt_port
    s = Sub(port, "ok/#", "will/#", count=2)
    wait_subscribed(broker, 2)
    c = RawClient(port)
    assert c.connect("bad-%d" % abs(hash(name)),
                     will=("will/bad", b"went wrong", 0, False)).rc == 0
    start = len(broker.log())
    c.send(data)
    assert c.closed()
    broker.wait_log(r"mqtt client bad-\d+: " + log +
                    r", closing the connection", start=start)
    pub(port, "ok/still", "fine")
    assert sorted(s.lines()) == ["ok/still 0 0 fine",
                                 "will/bad 0 0 went wrong"]
    assert broker_stats(broker)["clients"] == 0


def test_packets_before_connect(broker):
    port = broker.mqtt_port
    c = RawClient(port)
    c.send(publish_packet("a", b"x"))
    assert c.closed()
    broker.wait_log(r"PUBLISH before CONNECT, closing the connection")
    c = RawClient(port)
    c.send(packet(0x10, mstr("MQTX") + b"\x04\x02\x00\x00" + mstr("x")))
    assert c.closed()
    broker.wait_log(r"malformed CONNECT packet: unknown protocol name")


def test_big_packet_within_the_limit(broker):
    """A packet just under the limit goes through, byte for byte."""
    port = broker.mqtt_port
    c = RawClient(port)
    c.connect("big")
    c.subscribe(1, ("big", 1))
    body = bytes(range(256)) * 7          # 1792 bytes + header < 2000
    c.publish("big", body, qos=1, pid=3, ack=False)
    got = {p.type: p for p in (c.recv(), c.recv())}
    assert got[PUBACK].pid == 3
    assert got[PUBLISH].payload == body and got[PUBLISH].qos == 1
    c.disconnect()


def test_stalled_subscriber_loses_qos0_only(broker):
    """A subscriber that stops reading: QoS 0 beyond its buffer (1 MiB
    here) is dropped and counted; a reading subscriber gets every one."""
    port = broker.mqtt_port
    stalled = RawClient(port)
    stalled.connect("stalled")
    stalled.subscribe(1, ("flood", 0))
    reader = RawClient(port)
    reader.connect("reader")
    reader.subscribe(1, ("flood", 0))
    pubr = RawClient(port)
    pubr.connect("flooder")
    chunk = b"z" * 1900
    n = 10000                                   # 19 MB
    for i in range(n):
        pubr.send(publish_packet("flood", chunk))
        if i % 100 == 99:
            for _ in range(100):
                assert reader.recv().payload == chunk
    pubr.send(b"\xc0\x00")
    pubr.expect(PINGRESP)                       # all routed by now
    stats = broker_stats(broker)
    assert stats["dropped"] > 0
    assert stats["out"] == n + (n - stats["dropped"])
    stalled.close()
    pubr.disconnect()
    reader.disconnect()
