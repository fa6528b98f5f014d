# SPDX-License-Identifier: Apache-2.0
"""Access to the embedded broker: users from a mosquitto_passwd file
(including a line the real mosquitto_passwd wrote), anonymous clients,
the ACL in mosquitto's acl_file format (SUBACK 0x80, dropped publishes,
deny rules, %c patterns), and the TLS listener with mosquitto_pub and
mosquitto_sub."""
import base64
import hashlib
import os
import subprocess

import pytest

from conftest import free_port
from mqtt_raw import RawClient, Sub, kill_subs, pub, wait_subscribed


@pytest.fixture(autouse=True)
def _kill_subs():
    yield
    kill_subs()


# Written by mosquitto_passwd 2.0 (Debian 12) for alice / "secret".
ALICE = ("alice:$7$101$lFwX1ogm3EJwVvpD$t00PcJHI8Cuaw2Zt3Z2zYX1K3W0CdlIWsmXc"
         "jzui4q6D+9Z9B4TJAjgOWnieR1YPTtEmOwrTxQQboivqmIVklA==")


def sha512_line(user, password):
    """A $6$ line: SHA-512 of the password and the salt."""
    salt = os.urandom(12)
    h = hashlib.sha512(password.encode() + salt).digest()
    return "%s:$6$%s$%s" % (user, base64.b64encode(salt).decode(),
                            base64.b64encode(h).decode())


def pbkdf2_line(user, password, rounds=101):
    salt = os.urandom(12)
    h = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, rounds, 64)
    return "%s:$7$%d$%s$%s" % (user, rounds, base64.b64encode(salt).decode(),
                               base64.b64encode(h).decode())


def start(factory, tmp_path, lines):
    port = free_port()
    es = factory("mqtt:\n  internal-server: tcp://127.0.0.1:%d\n" % port +
                 "".join("  %s\n" % x for x in lines))
    es.mqtt_port = port
    return es.start()


def test_passwords(edgesite_factory, tmp_path):
    pw = tmp_path / "passwd"
    pw.write_text("# users\n%s\n%s\n%s\n" % (
        ALICE, sha512_line("bob", "hunter2"), pbkdf2_line("carol", "c4rol")))
    es = start(edgesite_factory, tmp_path, [
        "password-file: %s" % pw, "allow-anonymous: false"])
    port = es.mqtt_port
    for user, password in (("alice", "secret"), ("bob", "hunter2"),
                           ("carol", "c4rol")):
        r = pub(port, "t", "x", extra=["-u", user, "-P", password])
        assert r.returncode == 0, r.stderr
    r = pub(port, "t", "x", extra=["-u", "alice", "-P", "wrong"])
    assert r.returncode != 0 and "bad user name or password" in r.stderr
    r = pub(port, "t", "x", extra=["-u", "mallory", "-P", "secret"])
    assert r.returncode != 0 and "bad user name or password" in r.stderr
    r = pub(port, "t", "x", extra=["-u", "alice"])
    assert r.returncode != 0
    r = pub(port, "t", "x")
    assert r.returncode != 0 and "not authori" in r.stderr
    c = RawClient(port)
    assert c.connect("raw", username="bob", password=b"hunter2").rc == 0
    c.disconnect()
    c = RawClient(port)
    assert c.connect("raw", username="bob", password=b"hunter").rc == 4
    assert c.closed()
    es.wait_log(r"connection refused: bad user name or password")


def test_bad_password_file_stops_startup(edgesite_factory, tmp_path):
    pw = tmp_path / "passwd"
    pw.write_text("alice-without-hash\n")
    port = free_port()
    es = edgesite_factory("mqtt:\n  internal-server: tcp://127.0.0.1:%d\n"
                          "  password-file: %s\n" % (port, pw))
    es.start(wait=False)
    assert es.proc.wait(10) == 1
    assert 'passwd:1: not "user:hash"' in es.log()


ACL = """\
# anonymous clients
topic read public/#
topic write public/#
topic read devices/+/status

user alice
topic readwrite alice/#
topic read public/#
topic deny public/secret
topic write devices/+/cmd

pattern readwrite devices/%c/#
"""


@pytest.fixture
def acl_broker(edgesite_factory, tmp_path):
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    return start(edgesite_factory, tmp_path, ["acl-file: %s" % acl])


def test_acl_subscribe(acl_broker):
    port = acl_broker.mqtt_port
    c = RawClient(port)
    c.connect("anon")
    assert c.subscribe(1, ("public/#", 1), ("alice/#", 1), ("#", 0),
                       ("devices/+/status", 2), ("devices/x/cmd", 0)) == [
        1, 0x80, 0x80, 2, 0x80]
    c.disconnect()
    c = RawClient(port)
    c.connect("alice-raw", username="alice")
    assert c.subscribe(1, ("alice/#", 2), ("public/#", 0),
                       ("public/secret", 0), ("devices/x/#", 0)) == [
        2, 0, 0x80, 0x80]
    c.disconnect()
    # mosquitto_sub reports the refusal
    s = Sub(port, "alice/#", "public/#", extra=["-d", "-W", "1"])
    out, _ = s.output()
    assert "Subscribed (mid: 1): 128, 0" in out
    acl_broker.wait_log(r"subscription to alice/# denied by the ACL")


def test_acl_publish_and_read(acl_broker):
    port = acl_broker.mqtt_port
    alice = Sub(port, "alice/#", "public/#", qos=1,
                extra=["-u", "alice", "-i", "alice-sub", "-W", "3"])
    anon = Sub(port, "public/#", qos=1, extra=["-W", "3"])
    wait_subscribed(acl_broker, 3)
    # anonymous may not write alice/#: dropped, yet acknowledged
    assert pub(port, "alice/inbox", "from anon", qos=1).returncode == 0
    assert pub(port, "alice/inbox", "from alice", qos=1,
               extra=["-u", "alice"]).returncode == 0
    assert pub(port, "public/news", "hello", qos=1).returncode == 0
    # alice may not read public/secret, even through public/#
    assert pub(port, "public/secret", "psst", qos=1).returncode == 0
    assert sorted(alice.lines()) == ["alice/inbox 1 0 from alice",
                                     "public/news 1 0 hello"]
    assert sorted(anon.lines()) == ["public/news 1 0 hello",
                                    "public/secret 1 0 psst"]


def test_acl_patterns(acl_broker):
    """pattern lines: %c is the client's own id, nobody else's."""
    port = acl_broker.mqtt_port
    c = RawClient(port)
    c.connect("dev5")
    assert c.subscribe(1, ("devices/dev5/#", 1), ("devices/dev8/#", 1)) == [
        1, 0x80]
    c.disconnect()
    dev = Sub(port, "devices/dev7/#", qos=1, extra=["-i", "dev7", "-W", "3"])
    status = Sub(port, "devices/+/status", extra=["-W", "3"])
    wait_subscribed(acl_broker, 2)
    pub(port, "devices/dev7/cmd", "spoof", qos=1, extra=["-i", "ctl"])
    pub(port, "devices/dev7/cmd", "on", qos=1, extra=["-u", "alice"])
    pub(port, "devices/dev9/status", "up", qos=1, extra=["-i", "dev9"])
    pub(port, "devices/dev8/status", "spoof", qos=1, extra=["-i", "dev9"])
    assert dev.lines() == ["devices/dev7/cmd 1 0 on"]
    assert status.lines() == ["devices/dev9/status 0 0 up"]


def make_cert(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_tls_listener(edgesite_factory, tmp_path):
    cert, key = make_cert(tmp_path)
    tls_port = free_port()
    es = start(edgesite_factory, tmp_path, [
        "tls-listen: 127.0.0.1:%d" % tls_port, "tls-cert: %s" % cert,
        "tls-key: %s" % key])
    tls = ["--cafile", str(cert), "-p", str(tls_port)]
    s = Sub(es.mqtt_port, "sec/#", qos=1, count=2, extra=tls)
    plain = Sub(es.mqtt_port, "sec/#", count=2)
    wait_subscribed(es, 2)
    assert pub(es.mqtt_port, "sec/a", "over tcp", qos=1).returncode == 0
    r = pub(es.mqtt_port, "sec/b", "over tls", qos=1, extra=tls)
    assert r.returncode == 0, r.stderr
    assert s.lines() == ["sec/a 1 0 over tcp", "sec/b 1 0 over tls"]
    assert plain.lines() == ["sec/a 0 0 over tcp", "sec/b 0 0 over tls"]
    # MQTT without TLS on the TLS port fails that client only
    c = RawClient(tls_port)
    c.send(b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01a")
    assert c.closed()
    es.wait_log(r"mqtt client 127\.0\.0\.1:\d+: handshaking -> closed")
    # the raw client speaks TLS as well
    c = RawClient(tls_port, tls_ca=str(cert))
    assert c.connect("tls-raw").rc == 0
    c.disconnect()


def test_tls_internal_server(edgesite_factory, tmp_path):
    """mqtt.internal-server as an ssl:// URL listens with TLS."""
    cert, key = make_cert(tmp_path)
    port = free_port()
    es = edgesite_factory("mqtt:\n  internal-server: ssl://127.0.0.1:%d\n"
                          "  tls-cert: %s\n  tls-key: %s\n"
                          % (port, cert, key))
    es.start()
    es.wait_log(r"listening on 127\.0\.0\.1:%d \(TLS\)" % port)
    r = pub(port, "t", "x", qos=1, extra=["--cafile", str(cert)])
    assert r.returncode == 0, r.stderr


def test_tls_without_key_stops_startup(edgesite_factory, tmp_path):
    port = free_port()
    es = edgesite_factory("mqtt:\n  internal-server: tcp://127.0.0.1:%d\n"
                          "  tls-listen: 127.0.0.1:%d\n" % (port, free_port()))
    es.start(wait=False)
    assert es.proc.wait(10) == 1
    assert "needs mqtt.tls-cert and mqtt.tls-key" in es.log()
