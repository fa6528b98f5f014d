# SPDX-License-Identifier: Apache-2.0
"""The embedded MQTT broker with real clients (mosquitto_pub and
mosquitto_sub): QoS 0, 1 and 2 both ways, wildcards and the '$' rule,
overlapping subscriptions delivered once at the highest QoS, retained
messages, unsubscribe, ping, will and keep-alive."""
import socket
import time

import pytest

from conftest import free_port
from mqtt_raw import (CONNACK, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC,
                      PUBREL, RawClient, Sub, kill_subs, pub, wait_subscribed)


@pytest.fixture(autouse=True)
def _kill_subs():
    yield
    kill_subs()


@pytest.fixture
def broker(edgesite_factory):
    port = free_port()
    es = edgesite_factory("mqtt:\n  internal-server: tcp://127.0.0.1:%d\n"
                          % port)
    es.mqtt_port = port
    return es.start()


def test_qos_levels_both_ways(broker):
    """The subscriber gets min(publish QoS, subscription QoS)."""
    port = broker.mqtt_port
    s2 = Sub(port, "q/#", qos=2, count=3)
    s1 = Sub(port, "q/#", qos=1, count=3)
    wait_subscribed(broker, 2)
    for q in (0, 1, 2):
        assert pub(port, "q/%d" % q, "m%d" % q, qos=q).returncode == 0
    assert s2.lines() == ["q/0 0 0 m0", "q/1 1 0 m1", "q/2 2 0 m2"]
    assert s1.lines() == ["q/0 0 0 m0", "q/1 1 0 m1", "q/2 1 0 m2"]


def test_wildcards_and_dollar_topics(broker):
    port = broker.mqtt_port
    plus = Sub(port, "a/+/c", count=2)
    hash_ = Sub(port, "#", count=3)
    sys_ = Sub(port, "$SYS/#", count=1)
    wait_subscribed(broker, 3)
    pub(port, "a/b/c", "1")
    pub(port, "a/b/d", "2")
    pub(port, "$SYS/x", "3")
    pub(port, "a//c", "4")
    assert plus.lines() == ["a/b/c 0 0 1", "a//c 0 0 4"]
    # '#' does not match the topic starting with '$'
    assert hash_.lines() == ["a/b/c 0 0 1", "a/b/d 0 0 2", "a//c 0 0 4"]
    assert sys_.lines() == ["$SYS/x 0 0 3"]


def test_overlapping_subscriptions_once_at_highest_qos(broker):
    port = broker.mqtt_port
    s = Sub(port, "o/#", "o/+", "o/x", qos=0, count=2)
    # mosquitto_sub asks one QoS for all its filters: a raw client asks
    # a different one per filter.
    raw = RawClient(port)
    raw.connect("overlap")
    assert raw.subscribe(1, ("o/#", 0), ("o/+", 2), ("o/x", 1)) == [0, 2, 1]
    wait_subscribed(broker, 6)
    pub(port, "o/x", "hi", qos=2)
    pub(port, "o/y/z", "deep", qos=2)
    assert s.lines() == ["o/x 0 0 hi", "o/y/z 0 0 deep"]
    p = raw.expect(PUBLISH)
    assert (p.topic, p.qos, p.payload) == ("o/x", 2, b"hi")
    q = raw.expect(PUBLISH)
    assert (q.topic, q.qos, q.payload) == ("o/y/z", 0, b"deep")
    raw.ack(PUBREC, p.pid)
    assert raw.expect(PUBREL).pid == p.pid
    raw.ack(PUBCOMP, p.pid)
    raw.nothing()
    raw.disconnect()


def test_retained(broker):
    port = broker.mqtt_port
    pub(port, "r/a", "old", qos=1, retain=True)
    pub(port, "r/a", "new", qos=1, retain=True)
    pub(port, "r/b", "bee", qos=0, retain=True)
    pub(port, "r/c", "gone", retain=True)
    pub(port, "r/c", None, retain=True)     # an empty payload clears it
    s = Sub(port, "r/#", qos=1, extra=["-W", "1"])
    assert sorted(s.lines()) == ["r/a 1 1 new", "r/b 0 1 bee"]
    # a live message is not flagged as retained
    s = Sub(port, "r/a", qos=1, count=2)
    wait_subscribed(broker, 1)
    pub(port, "r/a", "live", qos=1)
    assert s.lines() == ["r/a 1 1 new", "r/a 1 0 live"]
    # the retained copy keeps its own QoS; the subscription caps it
    s = Sub(port, "r/a", qos=0, count=1)
    assert s.lines() == ["r/a 0 1 new"]


def test_unsubscribe_and_ping(broker):
    port = broker.mqtt_port
    c = RawClient(port)
    assert c.connect("u1").rc == 0
    assert c.subscribe(1, ("u/#", 1), ("v", 0)) == [1, 0]
    pub(port, "u/1", "one", qos=1)
    p = c.expect(PUBLISH)
    assert p.payload == b"one" and p.qos == 1
    c.ack(PUBACK, p.pid)
    c.unsubscribe(2, "u/#")
    pub(port, "u/1", "two", qos=1)
    pub(port, "v", "vee")
    p = c.expect(PUBLISH)
    assert p.topic == "v"
    c.nothing()
    c.send(b"\xc0\x00")
    c.expect(PINGRESP)
    c.disconnect()


def test_will_on_abrupt_close_not_on_disconnect(broker):
    port = broker.mqtt_port
    s = Sub(port, "will/#", qos=1, count=1)
    wait_subscribed(broker, 1)
    polite = RawClient(port)
    polite.connect("polite", will=("will/polite", b"bye", 1, False))
    polite.disconnect()
    rude = RawClient(port)
    rude.connect("rude", will=("will/rude", b"gone", 1, False))
    rude.close()
    assert s.lines() == ["will/rude 1 0 gone"]


def test_will_of_a_killed_mosquitto_sub(broker):
    """mosquitto_sub --will-*: SIGKILL leaves no DISCONNECT, so the will
    (retained here) goes out."""
    port = broker.mqtt_port
    s = Sub(port, "lwt/#", qos=1, count=1)
    wait_subscribed(broker, 1)
    dying = Sub(port, "x", extra=["-i", "dying", "--will-topic", "lwt/dying",
                                  "--will-payload", "offline", "--will-qos",
                                  "1", "--will-retain"])
    wait_subscribed(broker, 2)
    dying.proc.kill()
    assert s.lines() == ["lwt/dying 1 0 offline"]
    later = Sub(port, "lwt/#", count=1)
    assert later.lines() == ["lwt/dying 0 1 offline"]


def test_keepalive_expiry_publishes_will(broker):
    """Keep-alive 1 s: silence for 1.5 s closes the client."""
    port = broker.mqtt_port
    s = Sub(port, "ka/#", count=1)
    wait_subscribed(broker, 1)
    quiet = RawClient(port)
    quiet.connect("quiet", keepalive=1, will=("ka/quiet", b"lost", 0, False))
    # a ping within the period keeps it open
    time.sleep(0.8)
    quiet.send(b"\xc0\x00")
    quiet.expect(PINGRESP)
    t0 = time.time()
    assert quiet.closed(timeout=5)
    assert time.time() - t0 > 1.0
    assert s.lines() == ["ka/quiet 0 0 lost"]
    broker.wait_log(r"mqtt client quiet: active -> closed "
                    r"\(keep-alive expired\)")


def test_connect_refusals(broker):
    port = broker.mqtt_port
    c = RawClient(port)
    ack = c.connect("", clean=False)
    assert ack.rc == 2
    assert c.closed()
    c = RawClient(port)
    assert c.connect("", clean=True).rc == 0
    c.close()
    c = RawClient(port)
    c.send(b"\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x01a")
    assert c.expect(CONNACK).rc == 1
    assert c.closed()
    broker.wait_log(r"connection refused: protocol level 5")


def test_takeover(broker):
    port = broker.mqtt_port
    old = RawClient(port)
    old.connect("twin", will=("tk/will", b"old gone", 0, False))
    s = Sub(port, "tk/#", count=1)
    wait_subscribed(broker, 1)
    new = RawClient(port)
    assert new.connect("twin").rc == 0
    assert old.closed()
    assert s.lines() == ["tk/will 0 0 old gone"]
    broker.wait_log(r"mqtt client twin: active -> closed \(taken over")
    new.disconnect()


def test_clients_do_not_share_failures(broker):
    """A client that vanishes mid-packet harms nobody else."""
    port = broker.mqtt_port
    s = Sub(port, "ok", count=1)
    wait_subscribed(broker, 1)
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(b"\x10\x20\x00\x04MQ")
    half.close()
    pub(port, "ok", "fine")
    assert s.lines() == ["ok 0 0 fine"]


def test_metrics(broker):
    """/metrics carries the broker's counts."""
    port = broker.mqtt_port
    s = Sub(port, "m/#", qos=1, count=2)
    wait_subscribed(broker, 1)
    pub(port, "m/a", "1", qos=1, retain=True)
    pub(port, "m/b", "2", qos=1)
    assert len(s.lines()) == 2
    status, _, body = broker.get("/metrics")
    assert status == 200
    values = dict(line.rsplit(" ", 1) for line in body.decode().splitlines()
                  if line.startswith("edgesite_mqtt_broker_"))
    assert values["edgesite_mqtt_broker_retained_messages"] == "1"
    assert values["edgesite_mqtt_broker_messages_received_total"] == "2"
    assert int(values["edgesite_mqtt_broker_messages_sent_total"]) >= 2
    assert values["edgesite_mqtt_broker_messages_dropped_total"] == "0"
    assert "edgesite_mqtt_broker_clients" in values
