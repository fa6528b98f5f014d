# SPDX-License-Identifier: Apache-2.0
"""The CRI client against a scripted gRPC server that speaks raw HTTP/2
frames (standard library only), for what a real containerd never sends:
bad status lines, missing trailers, compressed or oversized or undecodable
messages, resets, GOAWAY, garbage, silence. Peer input is never fatal: each
fails its call with the right code, and the client reconnects when the
connection itself is broken. It also checks what goes out: RST_STREAM
CANCEL when a call is cancelled or passes its deadline."""
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import edgesite_bin

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def cri_call_bin():
    p = os.path.join(os.path.dirname(os.path.abspath(edgesite_bin())),
                     "tests", "unit", "cri_call")
    if not os.access(p, os.X_OK):
        pytest.fail("tests/unit/cri_call not built next to edgesite")
    return p


def ops(*groups):
    """cri_call arguments: operations separated by "--"."""
    out = []
    for g in groups:
        out += (["--"] if out else []) + g.split()
    return out


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def hpack_int(n, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if n < limit:
        return bytes([first | n])
    out = [first | limit]
    n -= limit
    while n >= 128:
        out.append((n & 0x7f) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def hpack(headers):
    """Literal header fields without indexing, no Huffman."""
    out = b""
    for name, value in headers:
        name, value = name.encode(), value.encode()
        out += b"\x00" + hpack_int(len(name), 7) + name + \
            hpack_int(len(value), 7) + value
    return out


def grpc_msg(payload, compressed=0, length=None):
    return bytes([compressed]) + struct.pack(
        ">I", len(payload) if length is None else length) + payload


def pb_string(field, s):
    s = s.encode()
    return bytes([field << 3 | 2, len(s)]) + s


VERSION_REPLY = pb_string(1, "0.1.0") + pb_string(2, "fakerun") + \
    pb_string(3, "9.9.9") + pb_string(4, "v1")


def reply(stream, msg=VERSION_REPLY, status="0", message=None, http="200",
          raw=None):
    """Frames of a whole unary answer: headers, message, trailers."""
    out = frame(HEADERS, END_HEADERS, stream, hpack(
        [(":status", http), ("content-type", "application/grpc")]))
    if raw is not None or msg is not None:
        out += frame(DATA, 0, stream, raw if raw is not None
                     else grpc_msg(msg))
    trailers = [("grpc-status", status)] if status is not None else []
    if message is not None:
        trailers.append(("grpc-message", message))
    return out + frame(HEADERS, END_HEADERS | END_STREAM, stream,
                       hpack(trailers))


class FakeRuntime:
    """A unix socket server; script(stream, n) returns the bytes to send
    for the n-th call of a connection (n = 0 is the client's own Version),
    None to stay silent, or "close" to drop the connection."""

    def __init__(self, path, script, settings=True):
        self.path = path
        self.script = script
        self.settings = settings
        self.rsts = []          # (stream, error code) received
        self.conns = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(8)
        self.stop = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns += 1
            threading.Thread(target=self.serve, args=(c,),
                             daemon=True).start()

    def read(self, c, n):
        buf = b""
        while len(buf) < n:
            b = c.recv(n - len(buf))
            if not b:
                raise EOFError
            buf += b
        return buf

    def serve(self, c):
        n = 0
        try:
            if self.read(c, len(PREFACE)) != PREFACE:
                return
            if not self.settings:
                # Not HTTP/2 at all: read and never answer.
                while c.recv(4096):
                    pass
                return
            c.sendall(frame(SETTINGS, 0, 0))
            while True:
                hdr = self.read(c, 9)
                length = struct.unpack(">I", b"\0" + hdr[:3])[0]
                ftype, flags = hdr[3], hdr[4]
                stream = struct.unpack(">I", hdr[5:9])[0] & 0x7fffffff
                payload = self.read(c, length)
                if ftype == SETTINGS and not flags & ACK:
                    c.sendall(frame(SETTINGS, ACK, 0))
                elif ftype == PING and not flags & ACK:
                    c.sendall(frame(PING, ACK, 0, payload))
                elif ftype == RST_STREAM:
                    with self.lock:
                        self.rsts.append(
                            (stream, struct.unpack(">I", payload)[0]))
                elif ftype == DATA and flags & END_STREAM:
                    out = self.script(stream, n)
                    n += 1
                    if out == "close":
                        return
                    if out:
                        c.sendall(out)
        except (EOFError, OSError):
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()


@pytest.fixture
def fake(tmp_path):
    made = []

    def make(script, settings=True):
        f = FakeRuntime(str(tmp_path / ("fake%d.sock" % len(made))), script,
                        settings)
        made.append(f)
        return f
    yield make
    for f in made:
        f.close()


def run(f, *groups, opts=(), timeout=60):
    r = subprocess.run([cri_call_bin(), "-e", "unix://" + f.path] +
                       list(opts) + ops(*groups), capture_output=True,
                       text=True, timeout=timeout)
    return r.returncode, r.stdout.splitlines(), r.stderr


def calls(out):
    return [ln for ln in out if not ln.startswith("state ")]


def answers(*later):
    """A script: each connection's Version answered, then later[i] for
    the i-th other call (the last one repeats)."""
    seen = [0]      # calls after Version, over all connections

    def script(stream, n):
        if n == 0:
            return reply(stream)
        x = later[min(seen[0], len(later) - 1)]
        seen[0] += 1
        return x(stream) if callable(x) else x
    return script


def test_version_from_the_fake(fake):
    f = fake(answers(lambda s: reply(s)))
    rc, out, err = run(f, "version", "wait-ready")
    assert rc == 0, (out, err)
    assert calls(out) == ["version OK fakerun://9.9.9 api=v1",
                          "wait-ready OK fakerun://9.9.9"]


@pytest.mark.parametrize("answer,line", [
    (lambda s: reply(s, msg=None, status="5", message="no%20such%20pod"),
     "version NOT_FOUND sent=1 no such pod"),
    (lambda s: reply(s, msg=None, status="3", message="bad%0Aline%1b[31m%"),
     "version INVALID_ARGUMENT sent=1 bad line [31m%"),
    (lambda s: reply(s, msg=None, status=None, http="404"),
     "version UNIMPLEMENTED sent=1 no grpc-status (HTTP 404)"),
    (lambda s: reply(s, msg=None, status=None, http="503"),
     "version UNAVAILABLE sent=1 no grpc-status (HTTP 503)"),
    (lambda s: reply(s, status="x7"),
     "version INTERNAL sent=1 no grpc-status (HTTP 200)"),
    (lambda s: reply(s, status="99", message="odd"),
     "version UNKNOWN sent=1 odd"),
    (lambda s: reply(s, msg=None),
     "version INTERNAL sent=1 no message in the reply"),
    (lambda s: reply(s, raw=grpc_msg(b"\xff\xff\xff")),
     "version INTERNAL sent=1 the reply does not decode"),
    (lambda s: reply(s, raw=grpc_msg(VERSION_REPLY, compressed=1)),
     "version INTERNAL sent=1 compressed reply (none was asked for)"),
    (lambda s: reply(s, raw=grpc_msg(VERSION_REPLY) * 2),
     "version INTERNAL sent=1 more than one message in a unary reply"),
    (lambda s: reply(s, raw=grpc_msg(b"", length=0xffffffff)),
     "version RESOURCE_EXHAUSTED sent=1 reply of 4294967295 bytes is over "
     "the limit of 16777216"),
    (lambda s: reply(s, raw=grpc_msg(VERSION_REPLY)[:7]),
     "version INTERNAL sent=1 no message in the reply"),
    (lambda s: frame(RST_STREAM, 0, s, struct.pack(">I", 7)),
     "version UNAVAILABLE sent=0 stream reset by the runtime: "
     "REFUSED_STREAM"),
    (lambda s: frame(RST_STREAM, 0, s, struct.pack(">I", 2)),
     "version INTERNAL sent=1 stream reset by the runtime: INTERNAL_ERROR"),
])
def test_bad_answers_fail_the_call(fake, answer, line):
    """Each bad answer fails its call alone; the next call on the same
    connection works."""
    f = fake(answers(answer, lambda s: reply(s)))
    rc, out, err = run(f, "version expect=%s" % line.split()[1], "version")
    assert rc == 0, (out, err)
    assert calls(out) == [line, "version OK fakerun://9.9.9 api=v1"]
    assert f.conns == 1


def test_garbage_breaks_the_connection_and_the_client_reconnects(fake):
    # DATA on stream 0: a connection error.
    f = fake(answers(frame(DATA, 0, 0, b"junk"), lambda s: reply(s)))
    rc, out, err = run(f, "version expect=UNAVAILABLE", "wait-ready 10000",
                       "version")
    assert rc == 0, (out, err)
    assert calls(out)[0].startswith("version UNAVAILABLE sent=1 connection "
                                    "to the runtime lost")
    assert out[-1] == "version OK fakerun://9.9.9 api=v1"
    assert "state backoff" in out
    assert f.conns == 2


def test_goaway_fails_calls_in_flight_and_reconnects(fake):
    f = fake(answers(lambda s: frame(GOAWAY, 0, 0, struct.pack(">II", s, 0)),
                     lambda s: reply(s)))
    rc, out, err = run(f, "version expect=UNAVAILABLE", "wait-ready 10000",
                       "version")
    assert rc == 0, (out, err)
    assert "the runtime sent GOAWAY" in calls(out)[0]
    assert out[-1] == "version OK fakerun://9.9.9 api=v1"


def test_connection_closed_mid_call(fake):
    f = fake(answers("close", lambda s: reply(s)))
    rc, out, err = run(f, "version expect=UNAVAILABLE", "wait-ready 10000",
                       "version")
    assert rc == 0, (out, err)
    assert calls(out)[0] == "version UNAVAILABLE sent=1 connection to the " \
        "runtime lost: closed by the runtime"
    assert f.conns == 2


def test_deadline_and_cancel_reset_the_stream(fake):
    """A silent server: the deadline fails the call and the client sends
    RST_STREAM CANCEL (8), as it does for a cancelled call."""
    f = fake(answers(None))
    t0 = time.monotonic()
    rc, out, err = run(f, "wait-ready", "timeout 300",
                       "version expect=DEADLINE_EXCEEDED", "cancel version",
                       "sleep 200")
    assert rc == 0, (out, err)
    assert time.monotonic() - t0 < 5
    assert calls(out)[2] == \
        "version DEADLINE_EXCEEDED sent=1 no answer within 300 ms"
    deadline = time.monotonic() + 5
    while len(f.rsts) < 11 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(f.rsts) == 11 and all(code == 8 for _, code in f.rsts), \
        f.rsts


def test_no_settings_is_a_connect_timeout(fake):
    """A peer that accepts but never speaks HTTP/2: calls queued while
    connecting end at their deadline, never sent, and the client backs
    off."""
    f = fake(answers(lambda s: reply(s)), settings=False)
    rc, out, err = run(f, "timeout 500", "version expect=DEADLINE_EXCEEDED")
    assert rc == 0, (out, err)
    assert calls(out)[1] == "version DEADLINE_EXCEEDED sent=0 no answer " \
        "within 500 ms (never sent: runtime not connected)"


def test_runtime_without_cri_is_retried(fake):
    """A server that answers Version with UNIMPLEMENTED (containerd with
    the CRI plugin off) is not ready: the client says why and retries."""
    f = fake(lambda s, n: reply(s, msg=None, status="12",
                                message="unknown service "
                                "runtime.v1.RuntimeService"))
    rc, out, err = run(f, "wait-ready 1500")
    assert rc == 1
    assert out[-1].startswith("wait-ready TIMEOUT")
    assert "Version: UNIMPLEMENTED: unknown service " \
        "runtime.v1.RuntimeService" in err
    assert f.conns >= 2
