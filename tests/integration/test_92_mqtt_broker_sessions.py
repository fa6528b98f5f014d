# SPDX-License-Identifier: Apache-2.0
"""Sessions of the embedded broker: session present, persistent sessions
queueing QoS 1 and 2 for clients that are away (bounded by
session-queue-size), the in-flight limit, redelivery with DUP (and PUBREL)
on reconnect, exactly-once QoS 2 from a client, and retained messages,
subscriptions and queued messages surviving an edgesite restart."""
import signal

import pytest

from conftest import free_port
from mqtt_raw import (PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, RawClient, Sub,
                      broker_stats, kill_subs, pub, wait_clients,
                      wait_subscribed)


@pytest.fixture(autouse=True)
def _kill_subs():
    yield
    kill_subs()


def conf(port, extra=""):
    return ("mqtt:\n  internal-server: tcp://127.0.0.1:%d\n" % port) + extra


@pytest.fixture
def broker(edgesite_factory):
    port = free_port()
    es = edgesite_factory(conf(port, "  session-queue-size: 5\n"
                                     "  max-inflight: 2\n"))
    es.mqtt_port = port
    return es.start()


def test_session_present(broker):
    port = broker.mqtt_port
    c = RawClient(port)
    assert not c.connect("sp", clean=False).session_present
    c.disconnect()
    c = RawClient(port)
    assert c.connect("sp", clean=False).session_present
    c.disconnect()
    # a clean session throws the stored one away
    c = RawClient(port)
    assert not c.connect("sp", clean=True).session_present
    c.disconnect()
    c = RawClient(port)
    assert not c.connect("sp", clean=False).session_present
    c.disconnect()


def test_queue_while_away_with_mosquitto_sub(broker):
    """mosquitto_sub -c: QoS 1 and 2 wait for it, QoS 0 does not, and at
    most session-queue-size (5) are kept. (-W, not -C: mosquitto_sub may
    leave after the last message before its acknowledgement is out.)"""
    port = broker.mqtt_port
    s = Sub(port, "away/#", qos=2, extra=["-c", "-i", "away-sub", "-W", "2"])
    wait_subscribed(broker, 1)
    pub(port, "away/first", "0", qos=1)
    assert s.lines() == ["away/first 1 0 0"]
    wait_clients(broker, 0)
    pub(port, "away/q0", "lost", qos=0)
    for i in range(1, 8):
        pub(port, "away/%d" % i, "m%d" % i, qos=1 + i % 2)
    assert broker_stats(broker)["dropped"] == 2
    s = Sub(port, "away/#", qos=2, extra=["-c", "-i", "away-sub", "-W", "2"])
    # the client hands a QoS 2 message over at PUBREL: order may differ
    assert sorted(s.lines()) == ["away/1 2 0 m1", "away/2 1 0 m2",
                                 "away/3 2 0 m3", "away/4 1 0 m4",
                                 "away/5 2 0 m5"]


def test_unsubscribe_with_mosquitto_sub(broker):
    """mosquitto_sub -U drops a persistent subscription: nothing more is
    queued for it."""
    port = broker.mqtt_port
    s = Sub(port, "un/a", "un/b", qos=1, extra=["-c", "-i", "unsub", "-E"])
    assert s.lines() == []
    wait_subscribed(broker, 2)
    s = Sub(port, "un/b", qos=1, extra=["-c", "-i", "unsub", "-U", "un/a",
                                        "-E"])
    assert s.lines() == []
    pub(port, "un/a", "gone", qos=1)
    pub(port, "un/b", "kept", qos=1)
    s = Sub(port, "un/b", qos=1, extra=["-c", "-i", "unsub", "-W", "2"])
    assert s.lines() == ["un/b 1 0 kept"]


def test_inflight_limit_and_redelivery(broker):
    """max-inflight 2: the third waits for an ack; what was in flight
    comes again with DUP after a reconnect, then the rest."""
    port = broker.mqtt_port
    c = RawClient(port)
    c.connect("slow", clean=False)
    assert c.subscribe(1, ("if/#", 1)) == [1]
    for i in range(4):
        pub(port, "if/%d" % i, "m%d" % i, qos=1)
    a = c.expect(PUBLISH)
    b = c.expect(PUBLISH)
    assert (a.payload, b.payload) == (b"m0", b"m1")
    assert not a.dup and a.pid != b.pid
    c.nothing()
    c.ack(PUBACK, a.pid)
    n = c.expect(PUBLISH)
    assert n.payload == b"m2"
    c.nothing()
    c.close()                  # m1 and m2 unacknowledged, m3 queued
    c = RawClient(port)
    assert c.connect("slow", clean=False).session_present
    got = [c.expect(PUBLISH) for _ in range(2)]
    assert [(p.payload, p.dup, p.pid) for p in got] == [
        (b"m1", True, b.pid), (b"m2", True, n.pid)]
    c.nothing()
    c.ack(PUBACK, got[0].pid)
    p = c.expect(PUBLISH)
    assert (p.payload, p.dup) == (b"m3", False)
    c.ack(PUBACK, got[1].pid)
    c.ack(PUBACK, p.pid)
    c.nothing()
    c.disconnect()


def test_qos2_outbound_resumes_with_pubrel(broker):
    port = broker.mqtt_port
    c = RawClient(port)
    c.connect("q2out", clean=False)
    c.subscribe(1, ("q2/out", 2))
    pub(port, "q2/out", "once", qos=2)
    p = c.expect(PUBLISH)
    assert p.qos == 2
    c.ack(PUBREC, p.pid)
    assert c.expect(PUBREL).pid == p.pid
    c.close()                  # PUBCOMP never sent
    c = RawClient(port)
    c.connect("q2out", clean=False)
    assert c.expect(PUBREL).pid == p.pid
    c.ack(PUBCOMP, p.pid)
    c.nothing()
    c.disconnect()


def test_qos2_inbound_exactly_once(broker):
    """A resent QoS 2 PUBLISH (same id, DUP) before PUBREL is not
    delivered twice."""
    port = broker.mqtt_port
    s = Sub(port, "q2/in", qos=2, extra=["-W", "2"])
    wait_subscribed(broker, 1)
    c = RawClient(port)
    c.connect("q2in")
    c.publish("q2/in", b"one", qos=2, pid=7, ack=False)
    assert c.expect(PUBREC).pid == 7
    c.publish("q2/in", b"one", qos=2, pid=7, dup=True, ack=False)
    assert c.expect(PUBREC).pid == 7
    c.ack(PUBREL, 7)
    assert c.expect(PUBCOMP).pid == 7
    # the id is free again: a new message with it is delivered
    c.publish("q2/in", b"two", qos=2, pid=7)
    c.disconnect()
    assert s.lines() == ["q2/in 2 0 one", "q2/in 2 0 two"]


def test_restart_keeps_retained_sessions_and_queues(edgesite_factory):
    """Retained messages, a persistent session's subscriptions and its
    queued messages are in the store and survive a restart."""
    port = free_port()
    es = edgesite_factory(conf(port))
    es.start()
    keeper = ["-c", "-i", "keeper", "-W", "2"]
    pub(port, "keep/r", "retained across restarts", qos=1, retain=True)
    s = Sub(port, "keep/q", qos=1, extra=keeper)
    wait_subscribed(es, 1)
    pub(port, "keep/q", "before", qos=1)
    assert s.lines() == ["keep/q 1 0 before"]
    wait_clients(es, 0)
    pub(port, "keep/q", "queued 1", qos=1)
    pub(port, "keep/q", "queued 2", qos=2)
    assert es.stop(signal.SIGTERM) == 0

    es.start()
    es.wait_log(r"mqtt broker: 1 retained messages, 1 persistent sessions, "
                r"2 queued messages from the store")
    # the subscription came back too: this one is queued as well
    pub(port, "keep/q", "after restart", qos=1)
    s = Sub(port, "keep/q", qos=1, extra=keeper)
    assert s.lines() == ["keep/q 1 0 queued 1", "keep/q 1 0 queued 2",
                         "keep/q 1 0 after restart"]
    s = Sub(port, "keep/#", count=1)
    assert s.lines() == ["keep/r 0 1 retained across restarts"]
    assert es.stop(signal.SIGTERM) == 0

    # acknowledged messages are gone from the store
    es.start()
    es.wait_log(r"1 retained messages, 1 persistent sessions, "
                r"0 queued messages")
