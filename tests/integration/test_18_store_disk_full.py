# SPDX-License-Identifier: Apache-2.0
"""A full disk: the state directory on a small tmpfs (mounted here, as
root). A QoS 1 retained message whose write fails is never acknowledged
(the broker closes the connection), /readyz says "store degraded: no
space" and /metrics counts the failed writes; once space is freed the
next write succeeds, the store is ok again, and after a restart every
acknowledged message is there."""
import os
import socket
import subprocess

import pytest

from conftest import free_port
from mqtt_raw import PUBACK, PUBLISH, RawClient, publish_packet

PAYLOAD = "x" * 2048
RESERVE = 4 * 1024 * 1024


@pytest.fixture
def small_fs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700",
                    "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(path, leave):
    """Writes a file taking all the free space of path's filesystem but
    leave bytes."""
    st = os.statvfs(path)
    size = max(0, st.f_bavail * st.f_frsize - leave)
    with open(os.path.join(path, "filler"), "wb") as f:
        f.write(b"\0" * size)


def publish_retained(port, n):
    """Publishes dur/<n> retained at QoS 1 on a new connection: True when
    acknowledged, False when the broker closed the connection instead."""
    c = RawClient(port)
    c.connect("filler-%d" % n)
    c.send(publish_packet("dur/%d" % n, PAYLOAD, qos=1, retain=True,
                          pid=1))
    try:
        p = c.recv(5)
    except (EOFError, ConnectionResetError):
        return False
    assert p.type == PUBACK and p.pid == 1, p
    c.close()
    return True


def readyz(es):
    status, _, body = es.get("/readyz?verbose")
    return body.decode()


def retained_topics(port):
    c = RawClient(port)
    c.connect("reader")
    c.subscribe(1, ("dur/#", 0))
    got = set()
    while True:
        try:
            p = c.recv(2)
        except socket.timeout:
            c.close()
            return got
        assert p.type == PUBLISH
        got.add(p.topic)


def test_disk_full_no_ack_degraded_recovery(edgesite_factory, small_fs):
    port = free_port()
    es = edgesite_factory("mqtt:\n  internal-server: tcp://127.0.0.1:%d\n"
                          % port, state_dir=str(small_fs / "state"))
    es.mqtt_port = port
    es.start()
    assert "[+]store ok" in readyz(es)
    # the store keeps 4 MiB free beside each write (edgesite.8)
    fill(str(small_fs), RESERVE + 48 * 1024)
    acked, refused = set(), 0
    for n in range(40):
        if publish_retained(port, n):
            acked.add("dur/%d" % n)
        else:
            refused += 1
    assert refused > 0, "the disk never filled"
    assert "store degraded: no space" in readyz(es)
    assert es.metric("edgesite_store_write_errors_total") >= refused
    assert es.metric("edgesite_store_degraded") == 1
    assert es.metric("edgesite_mqtt_broker_acks_withheld_total") >= refused
    assert "closing without the acknowledgement" in es.log()

    # space comes back: the next write succeeds and the store is ok
    os.unlink(str(small_fs / "filler"))
    assert publish_retained(port, 100)
    acked.add("dur/100")
    assert "[+]store ok" in readyz(es)
    assert es.metric("edgesite_store_degraded") == 0
    assert "store: writes succeed again" in es.log()

    assert es.stop() == 0
    es.start()
    missing = acked - retained_topics(port)
    assert not missing, "acknowledged, then lost: %r" % sorted(missing)
