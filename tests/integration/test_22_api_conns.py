# SPDX-License-Identifier: Apache-2.0
"""The local endpoint under abuse (src/api/api.c): a per-peer connection
share, header and idle timeouts of our own against slow and idle clients,
slots reserved for health probes that shed the oldest waiting connection,
and libevhtp's stderr through edgesite's log. The slowloris run measures
/healthz latency and edgesite's memory and prints them."""
import os
import re
import socket
import statistics
import subprocess
import sys
import time

from conftest import edgesite_bin

HERE = os.path.dirname(os.path.abspath(__file__))


def metric(es, name, labels=""):
    """A sample of /metrics as an int, or None. Asked from an address of
    its own, as 127.0.0.1 may be over its share."""
    m = request(connect(es, "127.0.0.9"), "/metrics")
    rx = rb"^" + re.escape(name.encode() + labels.encode()) + rb" (\d+)"
    found = re.search(rx, m, re.M)
    return int(found.group(1)) if found else None


def dropped(es, reason):
    return metric(es, "edgesite_http_connections_dropped_total",
                  '{reason="%s"}' % reason)


def asan_build(path):
    """Whether the binary is built with AddressSanitizer, whose quarantine
    keeps freed memory resident: its RSS says nothing about ours."""
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def closed_by_server(s, timeout):
    """Whether the server closes s (EOF or reset) within timeout seconds."""
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def request(s, path):
    """One request on an open socket, Connection: close; the response."""
    s.settimeout(5)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
              b"Connection: close\r\n\r\n")
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except ConnectionResetError:
        pass
    return out


def connect(es, src="127.0.0.1"):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", es.port))
    return s


def raw_libevhtp_lines(log):
    """What libevhtp printed past the log: its coloured lines, or an ODDITY
    that is not one of our rate-limited debug lines."""
    bad = []
    for line in log.splitlines():
        if "\x1b[" in line:
            bad.append(line)
        elif "ODDITY" in line and " debug: stderr: " not in line:
            bad.append(line)
    return bad


def conf_with(es, lines):
    with open(es.conf_path) as f:
        conf = f.read()
    with open(es.conf_path, "w") as f:
        f.write(conf.replace("edgesite:\n", "edgesite:\n" + lines, 1))


def test_header_timeout_closes_a_silent_client(edgesite_factory):
    es = edgesite_factory()
    conf_with(es, "  header-timeout: 1s\n  idle-timeout: 2s\n")
    es.start()
    silent = connect(es)
    slow = connect(es)
    slow.sendall(b"GET /healthz HTTP/1.1\r\n")
    t0 = time.time()
    assert closed_by_server(silent, 15)
    assert closed_by_server(slow, 15)
    took = time.time() - t0
    assert took > 0.5, took     # not before header-timeout (1s)
    assert dropped(es, "header_timeout") >= 2
    es.wait_log(r"info: api: 127\.0\.0\.1:\d+: no whole request within "
                r"header-timeout, closed")
    # A keep-alive client that asked once is closed after idle-timeout.
    s = connect(es)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(5)
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    t0 = time.time()
    assert closed_by_server(s, 15)
    assert time.time() - t0 > 1.5     # not before idle-timeout (2s)
    assert dropped(es, "idle_timeout") >= 1
    es.wait_log(r"debug: api: 127\.0\.0\.1:\d+: no next request within "
                r"idle-timeout, closed")
    for x in (silent, slow, s):
        x.close()


def test_per_peer_share_and_reserved_slots(edgesite_factory):
    es = edgesite_factory()
    conf_with(es, "  max-connections-per-peer: 4\n"
              "  reserved-connections: 2\n")
    es.start()
    time.sleep(0.3)     # the start's own probes are closed
    held = [connect(es) for _ in range(4)]
    # Over its share: a probe is answered, anything else is 503.
    resp = request(connect(es), "/metrics")
    assert resp.startswith(b"HTTP/1.1 503"), resp[:300]
    assert b"Retry-After: 1" in resp
    assert b"too many connections from this address" in resp
    resp = request(connect(es), "/healthz")
    assert resp.startswith(b"HTTP/1.1 200") and resp.endswith(b"ok"), resp
    # Another address has a share of its own.
    resp = request(connect(es, "127.0.0.2"), "/metrics")
    assert resp.startswith(b"HTTP/1.1 200"), resp[:300]
    es.wait_log(r"warning: api: 127\.0\.0\.1:\d+: over its address's "
                r"connection share, answered 503")
    # Both reserved slots taken by idle clients: a probe sheds the oldest.
    r1 = connect(es)
    time.sleep(0.4)     # past the time a new client has to speak
    r2 = connect(es)
    time.sleep(0.05)
    resp = request(connect(es), "/readyz")
    assert resp.startswith(b"HTTP/1.1 "), resp
    assert closed_by_server(r1, 3)
    assert not closed_by_server(r2, 0.3)
    assert dropped(es, "shed") >= 1
    assert dropped(es, "peer_limit") >= 1
    es.wait_log(r"warning: api: 127\.0\.0\.1:\d+: oldest waiting "
                r"connection closed for a new one")
    # The held connections were never touched: each still serves.
    for s in held:
        resp = request(s, "/healthz")
        assert resp.startswith(b"HTTP/1.1 200"), (resp, es.log()[-3000:])
    r2.close()


def test_slowloris(edgesite):
    es = edgesite
    n, secs = 5000, 40
    base_rss = rss_kib(es.proc.pid)
    loris = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "slowloris.py"), "127.0.0.1",
         str(es.port), str(n), "2", str(secs)],
        stdout=subprocess.PIPE, text=True)
    lat, fails, rss = [], [], []
    try:
        time.sleep(2)
        end = time.time() + secs - 6
        while time.time() < end:
            t0 = time.time()
            try:
                code, _, body = es.get("/healthz", timeout=5)
                ok = (code, body) == (200, b"ok")
            except OSError as e:
                ok, code = False, repr(e)
            dt = time.time() - t0
            lat.append(dt)
            if not ok:
                fails.append((round(t0, 2), code))
            rss.append(rss_kib(es.proc.pid))
            time.sleep(max(0, 0.1 - dt))
        out, _ = loris.communicate(timeout=secs + 30)
    finally:
        if loris.poll() is None:
            loris.kill()
            loris.wait()
    lat.sort()
    p50 = statistics.median(lat)
    p99 = lat[int(len(lat) * 0.99) - 1]
    print("slowloris: %s" % out.strip())
    print("slowloris: %d probes, latency p50 %.1f ms, p99 %.1f ms, max "
          "%.1f ms; rss %d KiB before, %d KiB max" % (
              len(lat), p50 * 1000, p99 * 1000, lat[-1] * 1000, base_rss,
              max(rss)))
    print("slowloris: dropped: " + ", ".join(
        "%s %s" % (r, dropped(es, r)) for r in
        ("refused", "shed", "peer_limit", "full", "header_timeout",
         "idle_timeout")))
    assert '"opened"' in out
    assert not fails, fails[:20]
    if not asan_build(edgesite_bin()):
        assert max(rss) <= 64 * 1024, max(rss)
    assert p50 < 0.1, p50
    assert dropped(es, "header_timeout") > 0
    assert dropped(es, "shed") > 0
    assert raw_libevhtp_lines(es.log()) == []
    code, _, body = es.get("/healthz")
    assert (code, body) == (200, b"ok")
    assert es.stop() == 0
    assert "Sanitizer" not in es.log()


def test_libevhtp_stderr_through_the_log(edgesite):
    """libevhtp prints an ODDITY line on stderr for each pipelined request
    it finds in its input (evhtp.c, htp__connection_readcb_): it comes out
    as our debug line, without colours, at most 10 a second, the rest
    counted."""
    es = edgesite
    for _ in range(60):
        s = connect(es)
        resp = request(s, "/healthz" + " HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /livez")
        assert resp.count(b"HTTP/1.1 200 OK") == 2, resp
        s.close()
    es.wait_log(r"debug: stderr: .*ODDITY, resuming when not paused")
    log = es.log()
    assert raw_libevhtp_lines(log) == []
    lines = metric(es, "edgesite_log_library_lines_total")
    assert lines >= 60, lines
    logged = len(re.findall(r"debug: stderr: .*ODDITY", log))
    assert 1 <= logged < lines, (logged, lines)
    # The count of the lines left out comes with the next line, a second on.
    time.sleep(1.1)
    request(connect(es), "/healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /livez")
    es.wait_log(r"debug: stderr: \d+ more lines of libraries not logged",
                timeout=5)
