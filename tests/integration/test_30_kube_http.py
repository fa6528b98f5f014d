# SPDX-License-Identifier: Apache-2.0
"""The apiserver client (src/kube/kube_http.c, kube_config.c) through the
kube_fetch test program, against a small HTTP/HTTPS server written here:
plain and TLS requests, CA verification, client certificates, bearer tokens,
chunked and gzip answers, watch streams, limits, timeouts, Retry-After,
keep-alive, qps and failover. One test runs against the real kube-apiserver
when EDGESITE_TEST_KUBE=1."""
import base64
import gzip
import http.server
import json
import os
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import TOP, edgesite_bin, free_port  # noqa: F401
from harness import missing


def kube_fetch_bin():
    path = os.path.join(os.path.dirname(edgesite_bin()), "tests", "unit",
                        "kube_fetch")
    if not os.access(path, os.X_OK):
        missing("kube_fetch not built: %s" % path)
    return path


def fetch(*args, timeout=30, env=None):
    """Runs kube_fetch; returns CompletedProcess (text)."""
    r = subprocess.run([kube_fetch_bin()] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout,
                       env=env)
    assert "AddressSanitizer" not in r.stderr, r.stderr
    assert "runtime error" not in r.stderr, r.stderr
    return r


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True)


class Pki:
    """A CA, a server certificate for 127.0.0.1 and localhost, a client
    certificate, and an unrelated CA."""

    def __init__(self, d):
        self.d = str(d)
        os.makedirs(self.d, exist_ok=True)
        self.ca("ca")
        self.ca("otherca")
        self.leaf("server", "/CN=127.0.0.1",
                  "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                  "extendedKeyUsage=serverAuth\n")
        self.leaf("client", "/O=system:nodes/CN=system:node:edge1",
                  "extendedKeyUsage=clientAuth\n")

    def p(self, name):
        return os.path.join(self.d, name)

    def key(self, name):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-out", name + ".key",
                cwd=self.d)

    def ca(self, name):
        self.key(name)
        openssl("req", "-x509", "-new", "-key", name + ".key", "-subj",
                "/CN=%s" % name, "-days", "2", "-out", name + ".crt",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                cwd=self.d)

    def leaf(self, name, subj, ext):
        self.key(name)
        with open(self.p(name + ".ext"), "w") as f:
            f.write(ext)
        openssl("req", "-new", "-key", name + ".key", "-subj", subj,
                "-out", name + ".csr", cwd=self.d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", name + ".ext", "-out", name + ".crt", cwd=self.d)

    def b64(self, name):
        with open(self.p(name), "rb") as f:
            return base64.b64encode(f.read()).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


def gz(data):
    return gzip.compress(data)


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes by path; each route writes its answer by hand so the framing
    (chunks, gzip, stalls) is exactly what the test wants."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def record(self, body=b""):
        peer = None
        if isinstance(self.connection, ssl.SSLSocket):
            cert = self.connection.getpeercert()
            if cert:
                peer = dict(x[0] for x in cert["subject"])["commonName"]
        self.server.seen.append({
            "method": self.command, "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode(errors="replace"), "peer": peer,
            "conn": id(self.connection)})

    def send(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if not any(k.lower() == "content-length" for k, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def chunks(self, parts, headers=(), status=200, gap=0.0):
        self.send_response(status)
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()
        for p in parts:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
            self.wfile.flush()
            if gap:
                time.sleep(gap)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self):
        self.route(b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.route(self.rfile.read(n))

    do_PUT = do_PATCH = do_DELETE = do_POST

    def route(self, body):
        self.record(body)
        p = self.path.split("?")[0]
        if p == "/version":
            self.send(200, b'{"major":"1","minor":"30"}',
                      [("Content-Type", "application/json")])
        elif p == "/echo":
            self.send(200, json.dumps(self.server.seen[-1]).encode())
        elif p == "/chunked":
            self.chunks([b'{"items":', b'[1,2,', b'3]}'])
        elif p == "/gzip":
            self.send(200, gz(b'{"compressed":true}' + b" " * 5000),
                      [("Content-Encoding", "gzip")])
        elif p == "/gzip-chunked":
            data = gz(b"".join(b'{"n":%d}\n' % i for i in range(2000)))
            self.chunks([data[i:i + 700] for i in range(0, len(data), 700)],
                        [("Content-Encoding", "gzip")])
        elif p == "/watch":
            lines = b"".join(b'{"type":"ADDED","object":{"n":%d}}\n' % i
                             for i in range(5))
            # Chunk boundaries fall inside lines.
            self.chunks([lines[i:i + 13] for i in range(0, len(lines), 13)],
                        gap=0.01)
        elif p == "/watch-gzip":
            lines = b"".join(b'{"type":"MODIFIED","n":%d}\n' % i
                             for i in range(3))
            data = gz(lines)
            self.chunks([data[:10], data[10:]], [("Content-Encoding",
                                                  "gzip")])
        elif p == "/watch-huge":
            # A line of 20 MiB between two small ones, then one of 17 MiB
            # that the end of the stream cuts short.
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            blob = b"x" * (1 << 20)
            parts = [b'{"n":1}\n'] + [blob] * 20 + [b'\n{"n":2}\n']
            parts += [blob] * 17
            try:
                for part in parts:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            self.close_connection = True
        elif p == "/stall":
            time.sleep(3)
            self.close_connection = True
        elif p == "/stall-mid":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"partial")
            self.wfile.flush()
            time.sleep(3)
            self.close_connection = True
        elif p == "/429":
            self.send(429, b'{"kind":"Status","code":429}',
                      [("Retry-After", "2")])
        elif p == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until-close body")
            self.close_connection = True
        elif p == "/bigheader":
            self.send_response(200)
            self.send_header("X-Big", "y" * 20000)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif p == "/manyheaders":
            self.send_response(200)
            for i in range(500):
                self.send_header("X-H%d" % i, "v")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif p == "/badchunk":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"fffffffffff\r\nabc")
            self.close_connection = True
        elif p == "/huge-length":
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 40))
            self.end_headers()
            self.close_connection = True
        elif p == "/notfound":
            self.send(404, b'{"kind":"Status","code":404}')
        else:
            self.send(200, b'{"path":"%s"}' % p.encode())


class QuietServer(http.server.ThreadingHTTPServer):
    """Clients that hang up early (cancelled streams, refused TLS) are
    expected here: no tracebacks."""
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class Server:
    """A threaded HTTP server, plain or TLS, on a loopback port."""

    def __init__(self, pki=None, client_ca=None, cert="server"):
        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.seen = []
        self.sni = []
        self.port = self.httpd.server_address[1]
        scheme = "http"
        if pki is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(pki.p(cert + ".crt"), pki.p(cert + ".key"))
            if client_ca:
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(pki.p(client_ca))
            ctx.sni_callback = lambda s, name, c: self.sni.append(name)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                                server_side=True)
            scheme = "https"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.port)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def seen(self):
        return self.httpd.seen

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def tls_server(pki):
    s = Server(pki)
    yield s
    s.close()


def kubeconfig(path, server, cluster=None, user=None, context="edge"):
    """Writes a kubeconfig with one context; cluster and user are dicts of
    extra fields."""
    cl = {"server": server}
    cl.update(cluster or {})
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": "c1", "cluster": cl}],
        "contexts": [{"name": "edge", "context": {"cluster": "c1",
                                                  "user": "u1"}}],
        "users": [{"name": "u1", "user": user or {}}],
    }
    # JSON is YAML.
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    return str(path)


def body_of(r):
    lines = r.stdout.split("\n", 1)
    assert lines[0].startswith("status "), r.stdout
    return int(lines[0].split()[1]), lines[1] if len(lines) > 1 else ""


# Plain HTTP.

def test_plain_get_headers(server):
    r = fetch("-s", server.url, "/api/v1/nodes/n1?x=1")
    assert r.returncode == 0, r.stderr
    status, body = body_of(r)
    assert status == 200 and json.loads(body) == {"path": "/api/v1/nodes/n1"}
    h = server.seen[0]["headers"]
    assert server.seen[0]["path"] == "/api/v1/nodes/n1?x=1"
    assert h["host"] == "127.0.0.1:%d" % server.port
    assert h["user-agent"].startswith("edgesite/")
    assert h["accept"] == "application/json"
    assert h["accept-encoding"] == "gzip"
    assert "authorization" not in h


def test_post_body_and_content_type(server):
    r = fetch("-s", server.url, "-X", "PATCH", "-T",
              "application/merge-patch+json", "-d", '{"a":1}', "/echo")
    assert r.returncode == 0, r.stderr
    seen = json.loads(body_of(r)[1])
    assert seen["method"] == "PATCH" and seen["body"] == '{"a":1}'
    assert seen["headers"]["content-type"] == "application/merge-patch+json"
    assert seen["headers"]["content-length"] == "7"


def test_404_is_transport_success(server):
    r = fetch("-s", server.url, "/notfound")
    assert r.returncode == 0
    assert body_of(r)[0] == 404


def test_chunked(server):
    r = fetch("-s", server.url, "/chunked")
    assert r.returncode == 0, r.stderr
    assert json.loads(body_of(r)[1]) == {"items": [1, 2, 3]}


def test_gzip(server):
    r = fetch("-s", server.url, "/gzip")
    assert r.returncode == 0, r.stderr
    assert json.loads(body_of(r)[1]) == {"compressed": True}


def test_gzip_chunked(server):
    r = fetch("-s", server.url, "/gzip-chunked")
    assert r.returncode == 0, r.stderr
    lines = body_of(r)[1].splitlines()
    assert len(lines) == 2000 and lines[1999] == '{"n":1999}'


def test_body_until_close(server):
    r = fetch("-s", server.url, "/close")
    assert r.returncode == 0, r.stderr
    assert body_of(r)[1] == "until-close body"


def test_keep_alive_reuses_one_connection(server):
    r = fetch("-s", server.url, "-r", "3", "/version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("status 200") == 3
    assert len(server.seen) == 3
    assert len({s["conn"] for s in server.seen}) == 1


def test_qps_budget_spaces_requests(server):
    t0 = time.time()
    r = fetch("-s", server.url, "-q", "2", "-b", "1", "-r", "4", "/version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("status 200") == 4
    # Burst 1 at 2 qps: the 2nd, 3rd and 4th wait 0.5 s each.
    assert time.time() - t0 >= 1.4


def test_retry_after(server):
    r = fetch("-s", server.url, "/429")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("status 429\nretry_after_ms 2000\n")


# Watch streams.

def test_watch_lines_split_across_chunks(server):
    r = fetch("-s", server.url, "-w", "/watch?watch=1")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "status 200" and out[-1] == "end"
    events = [json.loads(x) for x in out[1:-1]]
    assert [e["object"]["n"] for e in events] == [0, 1, 2, 3, 4]


def test_watch_cancel_after_n_lines(server):
    r = fetch("-s", server.url, "-w", "-n", "2", "/watch")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "status 200" and len(out) == 3


def test_watch_gzip(server):
    r = fetch("-s", server.url, "-w", "/watch-gzip")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert [json.loads(x)["n"] for x in out[1:-1]] == [0, 1, 2]


def test_watch_oversized_line_is_skipped(server):
    """A line over the 16 MiB limit is dropped unkept and told by its size;
    the stream goes on."""
    r = fetch("-s", server.url, "-w", "/watch-huge", timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "status 200", '{"n":1}', "skipped %d" % (20 << 20), '{"n":2}',
        "skipped %d" % (17 << 20), "end"]


def test_watch_non_200_gives_body(server):
    r = fetch("-s", server.url, "-w", "/notfound")
    assert r.returncode == 0
    assert body_of(r)[0] == 404


# Limits and failures.

@pytest.mark.parametrize("path,what", [
    ("/bigheader", "line longer"),
    ("/manyheaders", "headers"),
    ("/badchunk", "chunk"),
    ("/huge-length", "Content-Length"),
])
def test_malformed_or_oversized_is_eproto(server, path, what):
    r = fetch("-s", server.url, path)
    assert r.returncode == 1
    assert "error EPROTO" in r.stderr and what in r.stderr, r.stderr


def test_stall_is_etimeout(server):
    t0 = time.time()
    r = fetch("-s", server.url, "-t", "500", "/stall")
    assert r.returncode == 1
    assert "error ETIMEOUT" in r.stderr
    assert time.time() - t0 < 2.5


def test_stall_mid_body_is_etimeout(server):
    r = fetch("-s", server.url, "-t", "500", "/stall-mid")
    assert r.returncode == 1 and "error ETIMEOUT" in r.stderr


def test_refused_is_econnect():
    r = fetch("-s", "http://127.0.0.1:%d" % free_port(), "/version")
    assert r.returncode == 1
    assert "error ECONNECT" in r.stderr and "refused" in r.stderr


def test_failover_to_second_server(server):
    dead = "http://127.0.0.1:%d" % free_port()
    r = fetch("-s", dead, "-s", server.url, "/version")
    assert r.returncode == 0, r.stderr
    assert body_of(r)[0] == 200
    assert "failover from %s to %s" % (dead, server.url) in r.stderr


def test_hostname_resolved_without_blocking(server):
    r = fetch("-s", "http://localhost:%d" % server.port, "/version")
    assert r.returncode == 0, r.stderr
    assert server.seen[0]["headers"]["host"] == "localhost:%d" % server.port


# TLS and credentials.

def test_https_with_ca_file_relative(tls_server, pki, tmp_path):
    import shutil
    shutil.copy(pki.p("ca.crt"), tmp_path / "ca.crt")
    kc = kubeconfig(tmp_path / "kc", tls_server.url,
                    {"certificate-authority": "ca.crt"})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 0, r.stderr
    assert body_of(r)[0] == 200
    assert tls_server.sni == [None], "no SNI for an IP address"


def test_https_with_ca_data(tls_server, pki, tmp_path):
    kc = kubeconfig(tmp_path / "kc", tls_server.url,
                    {"certificate-authority-data": pki.b64("ca.crt")})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 0, r.stderr


def test_https_wrong_ca_fails_clearly(tls_server, pki, tmp_path):
    kc = kubeconfig(tmp_path / "kc", tls_server.url,
                    {"certificate-authority": pki.p("otherca.crt")})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 1
    msg = ("kube %s: TLS handshake failed: certificate verify failed "
           "(unable to get local issuer certificate)" % tls_server.url)
    assert msg in r.stderr, r.stderr
    assert r.stderr.count("TLS handshake failed") == 2  # log + error line


def test_https_no_ca_uses_system_roots_and_fails(tls_server, tmp_path):
    kc = kubeconfig(tmp_path / "kc", tls_server.url)
    r = fetch("-k", kc, "/version")
    assert r.returncode == 1 and "certificate verify failed" in r.stderr


def test_https_insecure_skip_verify(tls_server, pki, tmp_path):
    kc = kubeconfig(tmp_path / "kc", tls_server.url,
                    {"insecure-skip-tls-verify": True})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 0, r.stderr


def test_tls_server_name_sni_and_mismatch(tls_server, pki, tmp_path):
    kc = kubeconfig(tmp_path / "kc", tls_server.url,
                    {"certificate-authority": pki.p("ca.crt"),
                     "tls-server-name": "localhost"})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 0, r.stderr
    assert tls_server.sni == ["localhost"]
    kc = kubeconfig(tmp_path / "kc2", tls_server.url,
                    {"certificate-authority": pki.p("ca.crt"),
                     "tls-server-name": "other.example"})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 1
    assert "certificate verify failed (hostname mismatch)" in r.stderr


def test_https_hostname(tls_server, pki, tmp_path):
    kc = kubeconfig(tmp_path / "kc", "https://localhost:%d" % tls_server.port,
                    {"certificate-authority": pki.p("ca.crt")})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 0, r.stderr
    assert tls_server.sni == ["localhost"]


@pytest.fixture
def mtls_server(pki):
    s = Server(pki, client_ca="ca.crt")
    yield s
    s.close()


def test_client_cert_files(mtls_server, pki, tmp_path):
    kc = kubeconfig(tmp_path / "kc", mtls_server.url,
                    {"certificate-authority": pki.p("ca.crt")},
                    {"client-certificate": pki.p("client.crt"),
                     "client-key": pki.p("client.key")})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 0, r.stderr
    assert mtls_server.seen[0]["peer"] == "system:node:edge1"


def test_client_cert_data(mtls_server, pki, tmp_path):
    kc = kubeconfig(tmp_path / "kc", mtls_server.url,
                    {"certificate-authority-data": pki.b64("ca.crt")},
                    {"client-certificate-data": pki.b64("client.crt"),
                     "client-key-data": pki.b64("client.key")})
    r = fetch("-k", kc, "-r", "2", "/version")
    assert r.returncode == 0, r.stderr
    assert [s["peer"] for s in mtls_server.seen] == ["system:node:edge1"] * 2


def test_client_cert_missing_fails_cleanly(mtls_server, pki, tmp_path):
    kc = kubeconfig(tmp_path / "kc", mtls_server.url,
                    {"certificate-authority": pki.p("ca.crt")})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 1 and "error E" in r.stderr


def test_client_key_mismatch_is_refused(pki, tmp_path):
    kc = kubeconfig(tmp_path / "kc", "https://127.0.0.1:1",
                    {"certificate-authority": pki.p("ca.crt")},
                    {"client-certificate": pki.p("client.crt"),
                     "client-key": pki.p("server.key")})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 2
    assert "client-key does not match client-certificate" in r.stderr


def test_bearer_token_not_logged(tls_server, pki, tmp_path):
    kc = kubeconfig(tmp_path / "kc", tls_server.url,
                    {"certificate-authority": pki.p("ca.crt")},
                    {"token": "s3cr3t-token"})
    r = fetch("-k", kc, "-vv", "/version")
    assert r.returncode == 0, r.stderr
    assert tls_server.seen[0]["headers"]["authorization"] == \
        "Bearer s3cr3t-token"
    assert "s3cr3t" not in r.stderr


def test_token_file_reread_per_connection(server, tmp_path):
    (tmp_path / "tok").write_text("first-token\n")
    kc = kubeconfig(tmp_path / "kc", server.url, None, {"tokenFile": "tok"})
    r = fetch("-k", kc, "/version")
    assert r.returncode == 0, r.stderr
    assert server.seen[0]["headers"]["authorization"] == "Bearer first-token"


# Kubeconfig errors and paths.

def test_kubeconfig_tilde_and_masters_override(server, tmp_path):
    kubeconfig(tmp_path / "kc", "http://127.0.0.1:1", None,
               {"token": "t0"})
    env = dict(os.environ, HOME=str(tmp_path))
    r = fetch("-k", "~/kc", "-s", server.url, "/version", env=env)
    assert r.returncode == 0, r.stderr
    assert server.seen[0]["headers"]["authorization"] == "Bearer t0"


@pytest.mark.parametrize("mutate,msg", [
    (lambda d: d.update({"current-context": "nope"}),
     'context "nope" not found'),
    (lambda d: d["contexts"][0]["context"].update({"cluster": "zz"}),
     'cluster "zz" (of context "edge") not found'),
    (lambda d: d["users"][0]["user"].update({"client-certificate": "no.crt"}),
     "client-certificate"),
    (lambda d: d["users"][0]["user"].update(
        {"client-certificate-data": "!!!", "client-key-data": "QQ=="}),
     "not valid base64"),
    (lambda d: d["clusters"][0]["cluster"].update(
        {"certificate-authority-data": base64.b64encode(b"junk").decode()}),
     "certificate-authority: no PEM certificate"),
    (lambda d: d["users"][0]["user"].update({"tokenFile": "missing"}),
     "token file"),
])
def test_kubeconfig_errors(tmp_path, mutate, msg):
    path = kubeconfig(tmp_path / "kc", "https://127.0.0.1:1")
    with open(path) as f:
        doc = json.load(f)
    mutate(doc)
    with open(path, "w") as f:
        json.dump(doc, f)
    r = fetch("-k", path, "/version")
    assert r.returncode == 2
    assert msg in r.stderr, r.stderr
    if "certificate-authority: no PEM" not in msg:
        assert path in r.stderr, r.stderr


def test_kubeconfig_yaml_syntax_error(tmp_path):
    p = tmp_path / "kc"
    p.write_text("clusters: [\n  - name: x\n  bad: : :\n")
    r = fetch("-k", p, "/version")
    assert r.returncode == 2 and str(p) + ":" in r.stderr


def test_kubeconfig_yaml_block_style(server, tmp_path):
    p = tmp_path / "kc"
    p.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "clusters:\n- name: c\n  cluster:\n    server: %s\n"
        "contexts:\n- name: a\n  context:\n    cluster: c\n    user: u\n"
        "users:\n- name: u\n  user:\n    token: abc\n" % server.url)
    r = fetch("-k", p, "/version")
    assert r.returncode == 0, r.stderr
    assert server.seen[0]["headers"]["authorization"] == "Bearer abc"


# The real apiserver.

@pytest.mark.kube
def test_real_apiserver_with_node_kubeconfig(kube_cluster):
    kc = kube_cluster.node_kubeconfig(kube_cluster.node_name)
    r = fetch("-k", kc, "/version")
    assert r.returncode == 0, r.stderr
    status, body = body_of(r)
    assert status == 200 and json.loads(body)["major"] == "1"
    r = fetch("-k", kc, "/api/v1/nodes/%s" % kube_cluster.node_name)
    assert r.returncode == 0, r.stderr
    status, body = body_of(r)
    assert status in (200, 403, 404), r.stdout
    if status != 200:
        assert json.loads(body)["kind"] == "Status"
    r = fetch("-k", kc, "/api/v1/nodes/some-other-node-xyz")
    assert r.returncode == 0, r.stderr
    assert body_of(r)[0] in (403, 404)
