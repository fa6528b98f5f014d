# SPDX-License-Identifier: Apache-2.0
"""Helpers of the embedded broker's tests: a raw MQTT 3.1.1 client over a
plain or TLS socket (to see every flag and to send broken packets), and
wrappers around Debian's mosquitto_pub and mosquitto_sub (the real
clients). Each object owns the processes it started."""
import signal
import socket
import ssl
import struct
import subprocess
import time

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = range(1, 8)
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = range(8, 12)
PINGREQ, PINGRESP, DISCONNECT = range(12, 15)


def mstr(b):
    """An MQTT length-prefixed string."""
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">H", len(b)) + b


def remlen(n):
    out = b""
    while True:
        d, n = n % 128, n // 128
        out += bytes([d | (0x80 if n else 0)])
        if not n:
            return out


def packet(first, body=b""):
    return bytes([first]) + remlen(len(body)) + body


def connect_packet(client_id="", clean=True, keepalive=0, will=None,
                   username=None, password=None, proto="MQTT", level=4):
    """will: (topic, payload, qos, retain)."""
    flags = 0x02 if clean else 0
    payload = mstr(client_id)
    if will:
        topic, msg, qos, retain = will
        flags |= 0x04 | qos << 3 | (0x20 if retain else 0)
        payload += mstr(topic) + mstr(msg)
    if username is not None:
        flags |= 0x80
        payload += mstr(username)
    if password is not None:
        flags |= 0x40
        payload += mstr(password)
    body = mstr(proto) + bytes([level, flags]) + struct.pack(">H", keepalive)
    return packet(0x10, body + payload)


def publish_packet(topic, payload=b"", qos=0, retain=False, pid=0, dup=False):
    if isinstance(payload, str):
        payload = payload.encode()
    first = 0x30 | qos << 1 | (0x08 if dup else 0) | (0x01 if retain else 0)
    body = mstr(topic) + (struct.pack(">H", pid) if qos else b"") + payload
    return packet(first, body)


class Packet:
    """A received packet, decoded as far as the tests need."""

    def __init__(self, first, body):
        self.type = first >> 4
        self.flags = first & 0x0F
        self.body = body
        self.pid = None
        if self.type == PUBLISH:
            self.qos = (self.flags >> 1) & 3
            self.dup = bool(self.flags & 8)
            self.retain = bool(self.flags & 1)
            n = struct.unpack(">H", body[:2])[0]
            self.topic = body[2:2 + n].decode()
            rest = body[2 + n:]
            if self.qos:
                self.pid = struct.unpack(">H", rest[:2])[0]
                rest = rest[2:]
            self.payload = rest
        elif self.type == CONNACK:
            self.session_present = bool(body[0] & 1)
            self.rc = body[1]
        elif self.type == SUBACK:
            self.pid = struct.unpack(">H", body[:2])[0]
            self.codes = list(body[2:])
        elif len(body) == 2:
            self.pid = struct.unpack(">H", body)[0]

    def __repr__(self):
        if self.type == PUBLISH:
            return "PUBLISH(%s q%d r%d d%d id=%s %r)" % (
                self.topic, self.qos, self.retain, self.dup, self.pid,
                self.payload)
        return "Packet(type=%d flags=%d body=%r)" % (
            self.type, self.flags, self.body)


class RawClient:
    """One TCP (or TLS) connection speaking raw MQTT."""

    def __init__(self, port, host="127.0.0.1", timeout=5, tls_ca=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, n, timeout):
        self.sock.settimeout(timeout)
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed by the broker")
            self.buf += chunk

    def recv(self, timeout=5):
        """The next packet; socket.timeout when none comes in time."""
        self._fill(2, timeout)
        i, n, mult = 1, 0, 1
        while True:
            self._fill(i + 1, timeout)
            n += (self.buf[i] & 0x7F) * mult
            mult *= 128
            if not self.buf[i] & 0x80:
                break
            i += 1
        self._fill(i + 1 + n, timeout)
        first, body = self.buf[0], self.buf[i + 1:i + 1 + n]
        self.buf = self.buf[i + 1 + n:]
        return Packet(first, body)

    def expect(self, ptype, timeout=5):
        p = self.recv(timeout)
        assert p.type == ptype, "expected type %d, got %r" % (ptype, p)
        return p

    def nothing(self, timeout=0.3):
        """Asserts no packet arrives within timeout."""
        try:
            p = self.recv(timeout)
        except socket.timeout:
            return
        raise AssertionError("unexpected %r" % p)

    def closed(self, timeout=5):
        """True when the broker closes the connection within timeout."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                self.sock.settimeout(max(0.01, deadline - time.time()))
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except (ConnectionResetError, ssl.SSLError, OSError):
                return True
        return False

    def connect(self, client_id="", **kw):
        self.send(connect_packet(client_id, **kw))
        return self.expect(CONNACK)

    def publish(self, topic, payload=b"", qos=0, retain=False, pid=1,
                dup=False, ack=True):
        """Publishes; for QoS 1 and 2 runs the handshake when ack."""
        self.send(publish_packet(topic, payload, qos, retain, pid, dup))
        if not ack or qos == 0:
            return
        if qos == 1:
            assert self.expect(PUBACK).pid == pid
        else:
            assert self.expect(PUBREC).pid == pid
            self.ack(PUBREL, pid)
            assert self.expect(PUBCOMP).pid == pid

    def subscribe(self, pid, *filters):
        """filters: (filter, qos) pairs; returns the SUBACK codes."""
        body = struct.pack(">H", pid)
        for f, q in filters:
            body += mstr(f) + bytes([q])
        self.send(packet(0x82, body))
        p = self.expect(SUBACK)
        assert p.pid == pid
        return p.codes

    def unsubscribe(self, pid, *filters):
        body = struct.pack(">H", pid) + b"".join(mstr(f) for f in filters)
        self.send(packet(0xA2, body))
        assert self.expect(UNSUBACK).pid == pid

    def ack(self, ptype, pid):
        first = (ptype << 4) | (2 if ptype == PUBREL else 0)
        self.send(packet(first, struct.pack(">H", pid)))

    def disconnect(self):
        self.send(b"\xe0\x00")
        self.sock.close()

    def close(self):
        self.sock.close()


def pub(port, topic, message=None, qos=0, retain=False, extra=(),
        timeout=10):
    """Runs mosquitto_pub once; returns the CompletedProcess."""
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic,
            "-q", str(qos)]
    args += ["-n"] if message is None else ["-m", message]
    if retain:
        args.append("-r")
    args += list(extra)
    return subprocess.run(args, capture_output=True, text=True,
                          timeout=timeout)


_RUNNING = []


def kill_subs():
    """Kills the mosquitto_sub processes still running (test teardown)."""
    while _RUNNING:
        proc = _RUNNING.pop()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


class Sub:
    """A mosquitto_sub running in the background, printing
    "topic qos retain payload" per message; kill_subs() ends those left."""

    def __init__(self, port, *topics, qos=0, extra=(), count=None,
                 fmt="%t %q %r %p"):
        args = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port),
                "-q", str(qos), "-F", fmt]
        for t in topics:
            args += ["-t", t]
        if count is not None:
            args += ["-C", str(count)]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        _RUNNING.append(self.proc)

    def lines(self, timeout=10):
        """Waits for exit (after -C messages or -W) and returns the lines."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError("mosquitto_sub timed out; got %r %r" % (
                out, err))
        return out.splitlines()

    def output(self, timeout=10):
        """Waits for exit; returns (stdout, stderr)."""
        return self.proc.communicate(timeout=timeout)

    def stop(self):
        """Stops it now; returns what it printed."""
        if self.proc.poll() is None:
            self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        return out.splitlines()


def broker_stats(es):
    """The broker's counts from the SIGUSR1 state dump, as a dict."""
    start = len(es.log())
    es.send(signal.SIGUSR1)
    m = es.wait_log(r"mqtt broker on \S+: (\d+) clients, (\d+) "
                    r"subscriptions, (\d+) retained, (\d+) in, (\d+) out, "
                    r"(\d+) dropped", start=start)
    keys = ("clients", "subscriptions", "retained", "in", "out", "dropped")
    return dict(zip(keys, (int(g) for g in m.groups())))


def wait_subscribed(es, n, timeout=10):
    """Waits until the broker has at least n subscriptions."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if broker_stats(es)["subscriptions"] >= n:
            return
        time.sleep(0.05)
    raise AssertionError("broker never had %d subscriptions" % n)


def wait_clients(es, n, timeout=10):
    """Waits until the broker has exactly n connected clients."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if broker_stats(es)["clients"] == n:
            return
        time.sleep(0.05)
    raise AssertionError("broker never had %d clients" % n)
