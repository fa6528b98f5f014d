# SPDX-License-Identifier: Apache-2.0
"""mqtt.mode 1: the embedded broker and the external one (Debian's
mosquitto) side by side. What a device publishes on one broker under the
event-bus topics reaches the devices on the other exactly once and never
comes back; other topics stay where they are; the twin hears a device on
either broker once and answers on both."""
import os
import shutil
import subprocess
import time

from mqtt_devices import Broker, Sub, free_port, mqtt_yaml, pub

NODE = "edge-bridge"
MEMBERSHIP = "$hw/events/node/%s/membership/get" % NODE


def start(edgesite_factory, tmp_path):
    ext = Broker(tmp_path).start()
    internal = free_port()
    es = edgesite_factory(
        "controller:\n  kube:\n    node-name: %s\n" % NODE +
        mqtt_yaml(1, server=ext.url,
                  internal="tcp://127.0.0.1:%d" % internal)).start()
    es.wait_log(r"mqtt external .*: connecting -> connected")
    return es, ext, internal


def topics(msgs, topic):
    return [p for t, p in msgs if t == topic]


def metrics(es):
    """The unlabelled samples of /metrics as a dict of name to value,
    after promtool (when installed) found the exposition valid."""
    status, _, body = es.get("/metrics")
    assert status == 200
    promtool = shutil.which("promtool")
    if promtool is not None:
        r = subprocess.run([promtool, "check", "metrics"], input=body,
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
    return dict(line.split(" ", 1) for line in body.decode().splitlines()
                if line and not line.startswith("#") and "{" not in line)


def test_bridge_both_ways_once(edgesite_factory, tmp_path):
    es, ext, internal = start(edgesite_factory, tmp_path)
    try:
        on_ext = Sub(ext.port, "#", "$hw/#", "$ke/#").start()
        on_int = Sub(internal, "#", "$hw/#", "$ke/#").start()
        up = "$ke/events/device/meter-1/data/update"
        down = "$hw/events/device/meter-2/twin/update/delta"
        pub(internal, up, '{"from":"internal"}')
        pub(ext.port, down, '{"from":"external"}')
        pub(internal, "plain/internal", "x")
        pub(ext.port, "plain/external", "y")
        time.sleep(1.5)
        e, i = on_ext.drain(0.2), on_int.drain(0.2)
        assert topics(e, up) == ['{"from":"internal"}'], e
        assert topics(i, up) == ['{"from":"internal"}'], i
        assert topics(e, down) == ['{"from":"external"}'], e
        assert topics(i, down) == ['{"from":"external"}'], i
        assert topics(e, "plain/internal") == []
        assert topics(i, "plain/external") == []
        # The bus hands both sides' counts to /metrics.
        m = metrics(es)
        assert m["edgesite_mqtt_bridged_messages_total"] == "2", m
        assert m["edgesite_mqtt_client_connected"] == "1", m
        assert m["edgesite_mqtt_client_sessions_total"] == "1", m
        assert int(m["edgesite_mqtt_client_messages_sent_total"]) >= 1, m
        assert int(m["edgesite_mqtt_client_messages_received_total"]) >= 1
        assert m["edgesite_mqtt_client_messages_dropped_total"] == "0", m
        assert int(m["edgesite_mqtt_broker_messages_received_total"]) >= 2
        assert m["edgesite_metrics_dropped_total"] == "0", m
        on_ext.stop()
        on_int.stop()
        assert es.stop() == 0
    finally:
        ext.stop()


def test_twin_hears_either_broker_once(edgesite_factory, tmp_path):
    es, ext, internal = start(edgesite_factory, tmp_path)
    try:
        on_ext = Sub(ext.port, MEMBERSHIP + "/result").start()
        on_int = Sub(internal, MEMBERSHIP + "/result").start()
        pub(internal, MEMBERSHIP, '{"event_id":"from-internal"}')
        pub(ext.port, MEMBERSHIP, '{"event_id":"from-external"}')
        time.sleep(1.5)
        for sub in (on_ext, on_int):
            got = sorted(p for _, p in sub.drain(0.2))
            assert len(got) == 2, got
            assert '"event_id":"from-external"' in got[0]
            assert '"event_id":"from-internal"' in got[1]
        on_ext.stop()
        on_int.stop()
        assert es.stop() == 0
    finally:
        ext.stop()


def test_internal_broker_keeps_serving_without_external(edgesite_factory,
                                                       tmp_path):
    es, ext, internal = start(edgesite_factory, tmp_path)
    ext.stop()
    es.wait_log(r"mqtt external .*: connection lost, retrying")
    status, _, body = es.get("/readyz?verbose")
    assert status == 200 and b"mqtt degraded" in body, body
    on_int = Sub(internal, MEMBERSHIP + "/result").start()
    pub(internal, MEMBERSHIP, '{"event_id":"alone"}')
    assert on_int.get(MEMBERSHIP + "/result")["event_id"] == "alone"
    on_int.stop()
    assert es.stop() == 0
