# SPDX-License-Identifier: Apache-2.0
"""A fault proxy for the failure tests: it sits between edgesite and the
real kube-apiserver, terminates TLS with a certificate from the test CA and
forwards each request over TLS with the node's client certificate, so the
apiserver's Node authorizer sees the node itself. Standard library only; it
runs as threads inside the pytest process (one to accept, one per client
connection), all daemon threads that end with close().

It speaks enough HTTP/1.1 to inject faults where a real server would fail:
it parses each request (line, headers, Content-Length body) and each
response (Content-Length, chunked, or until close). It forwards requests
without Accept-Encoding, so answers come back uncompressed and a watch
stream can be re-framed: the proxy cuts the decoded body of a watch into its
lines (one event each) and sends every line as one chunk, so anything it
inserts lands at an event boundary.

On command it:
  drop_all(path)       closes every connection now (or those whose request
                       path matches), client and apiserver side;
  down() / up()        stops listening (connections are refused) and
                       listens again on the same port;
  stall() / unstall()  holds every byte of every answer until unstalled;
  hang_up(path)        reads each matching request and closes the
                       connection without an answer (an apiserver that
                       dies on every request), until clear();
  fail(status, ...)    answers the next matching requests itself with that
                       status, a Kubernetes Status body and, if given,
                       Retry-After;
  truncate(path)       cuts the next chunk (watch event) or body of a
                       matching answer short, then closes the connection;
  insert(path, line)   sends line as an event of the next matching watch,
                       at an event boundary: garbage(), oversized() and
                       watch_error_410() build the usual ones;
  hide(path, rx)       drops the events of matching watches whose line
                       matches rx (what a missed event looks like).
Paths are regular expressions searched in the request target (path and
query). requests lists what was asked: time, method, target, connection,
status. The proxy never touches processes: tests start and stop edgesite
and the cluster themselves."""
import json
import re
import select
import socket
import ssl
import threading
import time
import urllib.parse

_TIMEOUT = 0.2          # poll period of every blocking read
_SEND_TIMEOUT = 60      # a client that reads nothing that long is gone
_MAX_HEAD = 64 * 1024


class _Gone(Exception):
    """The connection was dropped (by a command or by a peer)."""


class _Sock:
    """One side of a connection: a socket with a read buffer. Reads poll,
    so a drop from another thread is noticed within _TIMEOUT."""

    def __init__(self, sock, conn):
        self.sock = sock
        self.conn = conn
        self.buf = bytearray()
        self.eof = False
        sock.settimeout(_TIMEOUT)

    def fill(self):
        """Reads what arrives within _TIMEOUT; False at the end."""
        if self.conn.dropped:
            raise _Gone()
        try:
            data = self.sock.recv(1 << 16)
        except (socket.timeout, ssl.SSLWantReadError):
            return True
        except (OSError, ValueError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def readable(self):
        """Bytes are buffered, in TLS or in the kernel."""
        if self.buf:
            return True
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        try:
            r, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(r)

    def line(self, limit=_MAX_HEAD):
        """The next CRLF line without its end, or None (EOF: _Gone)."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                ln = bytes(self.buf[:i]).rstrip(b"\r")
                del self.buf[:i + 1]
                return ln
            if len(self.buf) > limit:
                raise _Gone()
            if not self.fill():
                raise _Gone()

    def take(self, n):
        """Up to n buffered bytes, reading when none are buffered."""
        while not self.buf:
            if not self.fill():
                raise _Gone()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def wait(self):
        """Waits up to _TIMEOUT for bytes; False when none came."""
        if self.readable():
            return True
        try:
            r, _, _ = select.select([self.sock], [], [], _TIMEOUT)
        except (OSError, ValueError):
            raise _Gone()
        if self.conn.dropped:
            raise _Gone()
        return bool(r)

    def send(self, data):
        if self.conn.dropped:
            raise _Gone()
        try:
            self.sock.settimeout(_SEND_TIMEOUT)
            self.sock.sendall(data)
            self.sock.settimeout(_TIMEOUT)
        except (OSError, ValueError):
            raise _Gone()

    def kill(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass
        try:
            self.sock.close()
        except (OSError, ValueError):
            pass


class _Conn:
    """A client connection and, once it made a request, its apiserver
    connection; target is the request being served."""

    def __init__(self, cid):
        self.id = cid
        self.client = None
        self.upstream = None
        self.target = ""
        self.dropped = False

    def drop(self):
        self.dropped = True
        for s in (self.client, self.upstream):
            if s is not None:
                s.kill()


def _head(sock):
    """Reads a request or response head: (first line, [(name, value)])."""
    first = sock.line()
    while first == b"":
        first = sock.line()
    headers = []
    while True:
        ln = sock.line()
        if ln == b"":
            return first, headers
        name, _, value = ln.partition(b":")
        headers.append((name.strip().decode("latin-1"),
                        value.strip().decode("latin-1")))
        if len(headers) > 200:
            raise _Gone()


def _header(headers, name):
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def status_body(code, reason, message):
    """A Kubernetes Status object as JSON bytes."""
    return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                       "status": "Failure", "message": message,
                       "reason": reason, "code": code}).encode()


class FaultProxy:
    """The proxy on 127.0.0.1:port (a free one by default), to upstream (an
    https URL) with ca (the file that signed upstream's certificate),
    serving with server_cert/server_key and presenting
    client_cert/client_key upstream."""

    def __init__(self, upstream, ca, server_cert, server_key, client_cert,
                 client_key, port=0):
        u = urllib.parse.urlsplit(upstream)
        self.up_host, self.up_port = u.hostname, u.port or 443
        self.up_ctx = ssl.create_default_context(cafile=ca)
        self.up_ctx.load_cert_chain(client_cert, client_key)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(server_cert, server_key)
        self.ctx.set_alpn_protocols(["http/1.1"])
        self.lock = threading.Lock()
        self.conns = set()
        self.requests = []
        self._rules = []
        self._stalled = threading.Event()
        self._stall_path = None
        self._next_id = 0
        self._listener = None
        self._closed = False
        self.port = port
        self.up()

    @classmethod
    def for_node(cls, cluster, node):
        """A proxy to cluster's apiserver with node's credentials and a
        serving certificate for 127.0.0.1 from the cluster's CA."""
        crt, key = cluster.pki.issue("fault-proxy", "/CN=fault-proxy",
                                     "serverAuth",
                                     "subjectAltName = IP:127.0.0.1\n")
        ncrt, nkey = cluster.node_credentials(node)
        return cls(cluster.url, cluster.ca_path, crt, key, ncrt, nkey)

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    # --- listening ---------------------------------------------------------

    def up(self):
        """Listens (again, on the same port once it has one)."""
        if self._listener is not None:
            return
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        s.settimeout(_TIMEOUT)
        self.port = s.getsockname()[1]
        self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def down(self):
        """Stops listening and drops every connection: edgesite's next
        connects are refused, as when the apiserver is down."""
        s, self._listener = self._listener, None
        if s is not None:
            s.close()
        self.drop_all()

    def close(self):
        self._closed = True
        self._stalled.clear()
        self.down()

    def _accept(self, listener):
        while self._listener is listener:
            try:
                sock, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self._next_id += 1
                conn = _Conn(self._next_id)
                self.conns.add(conn)
            threading.Thread(target=self._serve, args=(conn, sock),
                             daemon=True).start()

    # --- commands ----------------------------------------------------------

    def drop_all(self, path=None):
        """Closes every connection now, or those serving a request whose
        target matches path."""
        with self.lock:
            conns = [c for c in self.conns
                     if path is None or re.search(path, c.target)]
        for c in conns:
            c.drop()
        return len(conns)

    def stall(self, path=None):
        """Holds every byte of every answer until unstall(), or only those
        of requests whose target matches path (the requests themselves
        still reach the apiserver)."""
        self._stall_path = path
        self._stalled.set()

    def unstall(self):
        self._stalled.clear()

    def hang_up(self, path=".", count=None):
        """Closes the connection of each request matching path (the next
        count of them, or all until clear()) without an answer."""
        self._add(kind="hang_up", path=path, count=count)

    def fail(self, status, path=".", count=1, method=None, retry_after=None,
             reason=None):
        """Answers the next count requests matching path (and method) with
        status and a Status body, without asking the apiserver."""
        self._add(kind="fail", path=path, count=count, method=method,
                  status=status, retry_after=retry_after,
                  reason=reason or {429: "TooManyRequests",
                                    500: "InternalError",
                                    503: "ServiceUnavailable"}.get(
                                        status, "InternalError"))

    def truncate(self, path):
        """Cuts the next chunk (event) or body of an answer to a request
        matching path short, then closes that connection."""
        self._add(kind="truncate", path=path, count=1)

    def insert(self, path, line):
        """Sends line (bytes, no newline) as one event of the next watch
        matching path, at an event boundary."""
        self._add(kind="insert", path=path, count=1, line=line)

    def garbage(self, path, line=b"this is not json {"):
        self.insert(path, line)

    def oversized(self, path, node, size=17 << 20, name="oversized"):
        """Inserts an ADDED event of a pod of about size bytes."""
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": "default",
                            "resourceVersion": "1",
                            "annotations": {"padding": "x" * size}},
               "spec": {"nodeName": node,
                        "containers": [{"name": "c", "image": "busybox"}]}}
        self.insert(path, json.dumps({"type": "ADDED",
                                      "object": pod}).encode())

    def watch_error_410(self, path):
        """Inserts the ERROR event an apiserver sends when the watch's
        resourceVersion was compacted away."""
        self.insert(path, json.dumps({
            "type": "ERROR", "object": json.loads(status_body(
                410, "Expired", "too old resource version: 1 (2)"))
        }).encode())

    def hide(self, path, rx):
        """Drops, until clear(), the events of watches matching path whose
        line matches rx (bytes regex)."""
        self._add(kind="hide", path=path, count=None, rx=re.compile(rx))

    def clear(self):
        """Forgets every rule; unstalls."""
        with self.lock:
            self._rules = []
        self.unstall()

    def _add(self, **rule):
        with self.lock:
            self._rules.append(rule)

    def _take(self, kind, target, method=None):
        """The first rule of kind matching the request, used up once."""
        with self.lock:
            for r in self._rules:
                if r["kind"] != kind or not re.search(r["path"], target):
                    continue
                if r.get("method") and r["method"] != method:
                    continue
                if r["count"] is not None:
                    r["count"] -= 1
                    if r["count"] <= 0:
                        self._rules.remove(r)
                return r
        return None

    def _hidden(self, target, line):
        with self.lock:
            return any(r["kind"] == "hide" and re.search(r["path"], target)
                       and r["rx"].search(line) for r in self._rules)

    # --- what was asked ----------------------------------------------------

    def seen(self, path=".", method=None):
        """The requests so far whose target matches path: dicts of t,
        method, target, conn, status."""
        with self.lock:
            return [dict(r) for r in self.requests
                    if re.search(path, r["target"]) and
                    (method is None or r["method"] == method)]

    def wait_seen(self, path, n=1, timeout=30, method=None):
        """Waits until n requests matched path; returns them."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.seen(path, method)
            if len(got) >= n:
                return got
            time.sleep(0.05)
        raise AssertionError("proxy: fewer than %d requests matching %r "
                             "in %ds: %s" % (n, path, timeout,
                                             self.seen(".")[-20:]))

    def _record(self, conn, method, target):
        rec = {"t": time.time(), "method": method, "target": target,
               "conn": conn.id, "status": None}
        with self.lock:
            self.requests.append(rec)
        return rec

    # --- serving -----------------------------------------------------------

    def _serve(self, conn, raw):
        try:
            raw.settimeout(10)
            try:
                tls = self.ctx.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                raw.close()
                return
            conn.client = _Sock(tls, conn)
            if self._closed or conn.dropped:
                raise _Gone()
            while self._request(conn):
                pass
        except _Gone:
            pass
        finally:
            conn.drop()
            with self.lock:
                self.conns.discard(conn)

    def _request(self, conn):
        """Serves one request; False when the connection is to close."""
        cl = conn.client
        first, headers = _head(cl)
        try:
            method, target, _ = first.decode("latin-1").split(" ", 2)
        except ValueError:
            raise _Gone()
        n = int(_header(headers, "content-length") or 0)
        if n > 64 << 20:
            raise _Gone()
        body = b""
        while len(body) < n:
            body += cl.take(n - len(body))
        conn.target = target
        rec = self._record(conn, method, target)
        if self._take("hang_up", target) is not None:
            raise _Gone()
        rule = self._take("fail", target, method)
        if rule is not None:
            rec["status"] = rule["status"]
            self._answer(conn, rule)
            return True
        return self._forward(conn, rec, method, target, headers, body)

    def _answer(self, conn, rule):
        """The answer of a fail rule."""
        body = status_body(rule["status"], rule["reason"],
                           "injected by the fault proxy")
        head = ["HTTP/1.1 %d %s" % (rule["status"], rule["reason"]),
                "Content-Type: application/json",
                "Content-Length: %d" % len(body)]
        if rule.get("retry_after") is not None:
            head.append("Retry-After: %d" % rule["retry_after"])
        self._gate(conn)
        conn.client.send(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def _upstream(self, conn):
        """The apiserver connection of conn, made when missing."""
        if conn.upstream is None or conn.upstream.eof:
            if conn.upstream is not None:
                conn.upstream.kill()
            try:
                raw = socket.create_connection((self.up_host, self.up_port),
                                               timeout=10)
                tls = self.up_ctx.wrap_socket(raw,
                                              server_hostname=self.up_host)
            except (OSError, ssl.SSLError):
                # The apiserver is not there: so is the proxy.
                raise _Gone()
            conn.upstream = _Sock(tls, conn)
            if conn.dropped:
                raise _Gone()
        return conn.upstream

    def _forward(self, conn, rec, method, target, headers, body):
        up = self._upstream(conn)
        out = ["%s %s HTTP/1.1" % (method, target)]
        for k, v in headers:
            if k.lower() not in ("accept-encoding", "host"):
                out.append("%s: %s" % (k, v))
        out.append("Host: %s:%d" % (self.up_host, self.up_port))
        up.send(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
        first, rheaders = _head(up)
        while first.split(b" ")[1:2] == [b"100"]:
            first, rheaders = _head(up)
        try:
            rec["status"] = int(first.split(b" ")[1])
        except (IndexError, ValueError):
            raise _Gone()
        head = first + b"\r\n" + b"".join(
            ("%s: %s\r\n" % (k, v)).encode("latin-1") for k, v in rheaders)
        head += b"\r\n"
        self._gate(conn)
        conn.client.send(head)
        keep = (_header(rheaders, "connection") or "").lower() != "close"
        te = (_header(rheaders, "transfer-encoding") or "").lower()
        length = _header(rheaders, "content-length")
        if method == "HEAD" or rec["status"] in (204, 304):
            return keep
        if "chunked" in te:
            watch = rec["status"] == 200 and re.search(
                r"[?&]watch=(1|true)", target) is not None
            self._chunked(conn, target, watch)
            return keep
        if length is not None:
            self._length(conn, target, int(length))
            return keep
        self._until_close(conn)
        return False

    def _gate(self, conn):
        """Waits while stalled."""
        while self._stalled.is_set() and not self._closed:
            if self._stall_path is not None and not re.search(
                    self._stall_path, conn.target or ""):
                return
            if conn.dropped:
                raise _Gone()
            time.sleep(0.05)

    def _length(self, conn, target, n):
        """Relays a body of n bytes; a truncate rule sends half of it."""
        cut = self._take("truncate", target) is not None
        sent = 0
        while sent < n:
            data = conn.upstream.take(n - sent)
            if cut and sent + len(data) >= n // 2:
                self._gate(conn)
                conn.client.send(data[:max(0, n // 2 - sent)])
                raise _Gone()
            self._gate(conn)
            conn.client.send(data)
            sent += len(data)

    def _until_close(self, conn):
        while True:
            try:
                data = conn.upstream.take(1 << 16)
            except _Gone:
                if conn.dropped:
                    raise
                return
            self._gate(conn)
            conn.client.send(data)

    def _chunk(self, conn, target, data):
        """Sends data as one chunk; a truncate rule cuts it and closes."""
        if not data:
            return
        self._gate(conn)
        if self._take("truncate", target) is not None:
            conn.client.send(b"%x\r\n" % len(data) + data[:len(data) // 2])
            raise _Gone()
        conn.client.send(b"%x\r\n" % len(data) + data + b"\r\n")

    def _chunked(self, conn, target, watch):
        """Relays a chunked body: as it comes, or for a watch one event per
        chunk, with inserted events at the boundaries and hidden ones
        left out."""
        up, cl = conn.upstream, conn.client
        partial = bytearray()
        while True:
            if watch and not partial:
                self._inserts(conn, target)
            if not up.readable():
                # Nothing from the apiserver: notice a client that left.
                if cl.readable() and not cl.fill():
                    raise _Gone()
                if not up.wait():
                    continue
            size_line = up.line(1024)
            try:
                size = int(size_line.split(b";")[0], 16)
            except ValueError:
                raise _Gone()
            if size == 0:
                while up.line() != b"":
                    pass
                self._chunk(conn, target, bytes(partial))
                self._gate(conn)
                cl.send(b"0\r\n\r\n")
                return
            data = bytearray()
            while len(data) < size:
                data += up.take(size - len(data))
            if up.line() != b"":
                raise _Gone()
            if not watch:
                self._chunk(conn, target, bytes(data))
                continue
            partial += data
            while True:
                i = partial.find(b"\n")
                if i < 0:
                    break
                line = bytes(partial[:i + 1])
                del partial[:i + 1]
                if self._hidden(target, line):
                    continue
                self._chunk(conn, target, line)
                if not partial:
                    self._inserts(conn, target)

    def _inserts(self, conn, target):
        while True:
            rule = self._take("insert", target)
            if rule is None:
                return
            self._chunk(conn, target, rule["line"] + b"\n")

