# SPDX-License-Identifier: Apache-2.0
"""The local endpoint's own pages (src/api/): /healthz, /livez, /readyz,
/metrics, /debug/config, /debug/store, Kubernetes Status errors, and the
limits that keep a bad or idle client from hurting anyone else."""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time

import pytest

from conftest import free_port
from harness import missing


def sanitizer_clean(es):
    log = es.log()
    assert "AddressSanitizer" not in log, log
    assert "runtime error" not in log, log
    assert "LeakSanitizer" not in log, log


def raw_exchange(es, data, timeout=5, shut=False):
    """Sends bytes on a fresh connection; returns all bytes until close."""
    s = socket.create_connection(("127.0.0.1", es.port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    return out


def status_line(resp):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", resp)
    assert m, resp[:200]
    return int(m.group(1))


def assert_status(body, code, reason):
    st = json.loads(body)
    assert st["kind"] == "Status"
    assert st["apiVersion"] == "v1"
    assert st["status"] == "Failure"
    assert st["code"] == code
    assert st["reason"] == reason
    return st


def still_healthy(es):
    code, _, body = es.get("/healthz")
    assert (code, body) == (200, b"ok")


def test_healthz_and_livez(edgesite):
    for path in ("/healthz", "/livez"):
        code, hdrs, body = edgesite.get(path)
        assert code == 200
        assert body == b"ok"
        assert hdrs["Content-Type"].startswith("text/plain")
    code, _, body = edgesite.get("/healthz?verbose")
    assert code == 200
    assert body.decode().splitlines() == ["[+]ping ok",
                                          "healthz check passed"]


def test_head_has_no_body(edgesite):
    code, hdrs, body = edgesite.get("/healthz", method="HEAD")
    assert code == 200
    assert body == b""
    assert hdrs["Content-Length"] == "2"


def test_readyz(edgesite):
    code, _, body = edgesite.get("/readyz")
    assert (code, body) == (200, b"ok")
    code, _, body = edgesite.get("/readyz?verbose")
    assert code == 200
    lines = body.decode().splitlines()
    assert lines[0] == "[+]ping ok"
    assert "[+]store ok" in lines
    assert "[+]api ok" in lines
    assert all(l.startswith("[+]") for l in lines[:-1]), lines
    assert lines[-1] == "readyz check passed"


def test_metrics(edgesite):
    code, _, _ = edgesite.get("/no/such/page")
    assert code == 404
    code, hdrs, body = edgesite.get("/metrics")
    assert code == 200
    assert hdrs["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert re.search(r'^edgesite_build_info\{version="[^"]+"\} 1$', text,
                     re.M), text
    assert re.search(r'^edgesite_http_requests_total\{path="other",'
                     r'code="404"\} [1-9]', text, re.M), text
    for name in ("process_resident_memory_bytes",
                 "process_cpu_seconds_total", "process_open_fds",
                 "process_max_fds", "process_start_time_seconds",
                 "edgesite_store_errors_total",
                 "edgesite_store_damaged_values_total",
                 "edgesite_store_size_bytes", "edgesite_store_revision",
                 "edgesite_event_loop_lag_seconds_count",
                 "edgesite_event_loop_lag_max_seconds"):
        assert re.search(r"^%s \S+$" % name, text, re.M), name
    for op in ("get", "put", "delete", "commit", "scan"):
        assert 'edgesite_store_operations_total{op="%s"}' % op in text


def test_metrics_pass_promtool(edgesite):
    promtool = shutil.which("promtool")
    if promtool is None:
        missing("promtool not installed (Debian package prometheus)")
    edgesite.get("/nope")
    edgesite.get("/healthz", method="POST", body=b"x")
    time.sleep(0.6)     # let the lag timer fire once
    code, _, body = edgesite.get("/metrics")
    assert code == 200
    r = subprocess.run([promtool, "check", "metrics"], input=body,
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(rb"^edgesite_event_loop_lag_seconds_count [1-9]", body,
                     re.M), body
    # Every room's families got through the writer.
    assert re.search(rb"^edgesite_metrics_dropped_total 0$", body,
                     re.M), body
    assert b"edgesite_mqtt_broker_clients" in body
    assert b"edgesite_mqtt_client_" not in body     # no external broker
    assert b"edgesite_kube_" not in body            # standalone


def test_requests_counted_by_bounded_labels(edgesite):
    for i in range(50):
        edgesite.get("/random/%d" % i)
    _, _, body = edgesite.get("/metrics")
    paths = set(re.findall(rb'edgesite_http_requests_total\{path="([^"]*)"',
                           body))
    assert paths <= {b"other", b"/healthz", b"/livez", b"/readyz",
                     b"/metrics", b"/debug/config", b"/debug/store"}, paths
    m = re.search(rb'path="other",code="404"\} (\d+)', body)
    assert m and int(m.group(1)) >= 50


def test_debug_config(edgesite):
    code, hdrs, body = edgesite.get("/debug/config")
    assert code == 200
    assert hdrs["Content-Type"] == "application/json"
    conf = json.loads(body)
    assert conf["edgesite.listen"] == "127.0.0.1:%d" % edgesite.port
    assert conf["edgesite.state-dir"] == edgesite.state_dir


def crc32c(data, crc=0):
    crc ^= 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff


def framed(payload):
    """A value as src/store/store_value.h frames it."""
    hdr = struct.pack(">BBI", 0xe5, 1, len(payload))
    return hdr + struct.pack(">I", crc32c(hdr + payload)) + payload + b"\0"


def test_debug_store_lists_keys(edgesite_factory):
    try:
        import plyvel
    except ImportError:
        missing("python3-plyvel not installed")
    es = edgesite_factory()
    keys = {
        b"o/pods/default/web": b'{"kind":"Pod"}',
        b"o/pods/kube-system/dns": b"{}" * 50,
        b'o/configmaps/ns/we"ird\\name': b"x",
        b"v/pods": b"12345",
    }
    os.makedirs(es.state_dir, exist_ok=True)
    db = plyvel.DB(es.state_dir + "/store", create_if_missing=True)
    for k, v in keys.items():
        db.put(k, framed(v))
    db.close()
    es.start()

    code, hdrs, body = es.get("/debug/store?prefix=o/")
    assert code == 200
    assert hdrs["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert doc["prefix"] == "o/"
    assert doc["truncated"] is False
    got = {i["key"]: i["size"] for i in doc["items"]}
    assert got == {k.decode(): len(v) for k, v in keys.items()
                   if k.startswith(b"o/")}
    assert doc["count"] == 3

    _, _, body = es.get("/debug/store?prefix=o%2Fpods%2F")
    assert [i["key"] for i in json.loads(body)["items"]] == [
        "o/pods/default/web", "o/pods/kube-system/dns"]
    _, _, body = es.get("/debug/store?prefix=")
    assert "v/pods" in [i["key"] for i in json.loads(body)["items"]]
    _, _, body = es.get("/debug/store?prefix=zzz")
    assert json.loads(body)["items"] == []


def test_unknown_path_is_a_status_404(edgesite):
    code, hdrs, body = edgesite.get("/api/v1/nothing-here")
    assert code == 404
    assert hdrs["Content-Type"] == "application/json"
    assert_status(body, 404, "NotFound")


def test_other_methods_get_405(edgesite):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        code, hdrs, body = edgesite.get("/healthz", method=method,
                                        body=b"{}")
        assert code == 405, method
        assert hdrs["Allow"] == "GET, HEAD"
        assert_status(body, 405, "MethodNotAllowed")
    still_healthy(edgesite)


def test_large_body_gets_413(edgesite):
    code, _, body = edgesite.get("/healthz", method="POST",
                                 body=b"a" * (2 * 1024 * 1024))
    assert code == 413
    assert_status(body, 413, "RequestEntityTooLarge")
    still_healthy(edgesite)


def test_large_chunked_body_gets_413(edgesite):
    chunk = b"a" * 65536
    req = (b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" +
           (b"10000\r\n" + chunk + b"\r\n") * 32 + b"0\r\n\r\n")
    assert status_line(raw_exchange(edgesite, req)) == 413
    still_healthy(edgesite)


def test_long_uri_gets_4xx(edgesite):
    code, _, _ = edgesite.get("/" + "a" * (20 * 1024))
    assert 400 <= code < 500
    still_healthy(edgesite)


def test_header_limits(edgesite):
    resp = raw_exchange(edgesite, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                        b"X-Big: " + b"a" * 20000 + b"\r\n\r\n")
    assert status_line(resp) == 431
    resp = raw_exchange(edgesite, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
                        b"X-Many: y\r\n" * 10000 + b"\r\n")
    assert status_line(resp) == 431
    still_healthy(edgesite)


def test_other_http_versions_get_505(edgesite):
    # libevhtp parses any HTTP/d.d and answered in that version (found by
    # tests/fuzz/fuzz_api_route): edgesite answers 505 in HTTP/1.1
    for version in (b"2.1", b"1.2", b"9.9"):
        resp = raw_exchange(edgesite, b"GET /healthz HTTP/" + version +
                            b"\r\nHost: x\r\n\r\n", shut=True)
        assert status_line(resp) == 505, version
        assert resp.startswith(b"HTTP/1.1 "), resp[:40]
        assert_status(resp.split(b"\r\n\r\n", 1)[1], 505,
                      "HTTPVersionNotSupported")
    resp = raw_exchange(edgesite, b"GET /healthz HTTP/1.0\r\n\r\n", shut=True)
    assert status_line(resp) == 200
    still_healthy(edgesite)


def test_garbage_on_a_raw_socket(edgesite):
    resp = raw_exchange(edgesite, bytes(range(200)))
    if resp:
        assert status_line(resp) == 400
    still_healthy(edgesite)


def test_pipelined_requests_all_answered(edgesite):
    resp = raw_exchange(edgesite, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /readyz HTTP/1.1\r\nHost: x\r\n"
                        b"Connection: close\r\n\r\n")
    assert resp.count(b"HTTP/1.1 200 OK") == 3, resp


def test_idle_connections_do_not_block(edgesite):
    socks = []
    try:
        for _ in range(500):
            socks.append(socket.create_connection(("127.0.0.1",
                                                   edgesite.port)))
        # A half-sent request on some of them.
        for s in socks[:100]:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        t0 = time.time()
        code, _, body = edgesite.get("/healthz", timeout=5)
        assert (code, body) == (200, b"ok")
        assert time.time() - t0 < 2
        _, _, m = edgesite.get("/metrics")
        n = re.search(rb"^edgesite_http_open_connections (\d+)", m, re.M)
        assert n and int(n.group(1)) >= 500
    finally:
        for s in socks:
            s.close()
    still_healthy(edgesite)


def test_stop_with_clients_connected(edgesite):
    socks = [socket.create_connection(("127.0.0.1", edgesite.port))
             for _ in range(20)]
    socks[0].sendall(b"GET /healthz HTTP/1.1\r\nHost")
    socks[1].sendall(b"\x00garbage")
    time.sleep(0.2)
    assert edgesite.stop() == 0
    for s in socks:
        s.close()
    sanitizer_clean(edgesite)


def test_port_in_use(edgesite, edgesite_factory):
    other = edgesite_factory(port=edgesite.port)
    other.start(wait=False)
    assert other.proc.wait(15) == 1
    assert ("listen 127.0.0.1:%d: Address already in use" % edgesite.port
            in other.log()), other.log()
    still_healthy(edgesite)


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_listen(edgesite_factory):
    es = edgesite_factory()
    port = free_port()
    es.write_conf(listen='"[::1]:%d"' % port)    # quoted: YAML flow
    es.start(wait=False)
    deadline = time.time() + 20
    while True:
        assert es.proc.poll() is None, es.log()
        try:
            s = socket.create_connection(("::1", port), timeout=5)
            break
        except OSError:
            assert time.time() < deadline, es.log()
            time.sleep(0.05)
    with s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        resp = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            resp += d
    assert status_line(resp) == 200
    assert resp.endswith(b"\r\n\r\nok")
