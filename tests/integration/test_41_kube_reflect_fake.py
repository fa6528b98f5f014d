# SPDX-License-Identifier: Apache-2.0
"""The reflectors against a scripted apiserver written here (plain HTTP on
loopback, no cluster needed): a paged list, a watch whose malformed lines
are logged with the resource and skipped while the stream goes on, a
bookmark, a DELETED event, an ERROR 410 that makes the pods reflector list
again and delete what the new list lacks; managedFields are dropped and a
list item gets its kind; a 403 is logged once; a restart resumes the watch
from the stored resourceVersion without listing."""
import http.server
import json
import re
import threading
import time
import urllib.parse

import pytest

from harness import wait_for
from storeio import open_store, unframe

NODE = "fake1"


def podobj(name, rv, kind=False):
    o = {"metadata": {"name": name, "namespace": "default",
                      "resourceVersion": rv, "uid": "uid-" + name,
                      "managedFields": [{"manager": "kubectl"}]},
         "spec": {"nodeName": NODE, "containers": [{"name": "c",
                                                     "image": "busybox"}]}}
    if kind:
        o["kind"] = "Pod"
        o["apiVersion"] = "v1"
    return o


def podlist(items, rv, cont=""):
    return {"kind": "PodList", "apiVersion": "v1",
            "metadata": {"resourceVersion": rv, "continue": cont},
            "items": items}


# The first watch, line by line: bad lines sit between good ones.
FIRST_WATCH = [
    b"not json",
    json.dumps({"type": "ADDED", "object": {"metadata": {
        "namespace": "default", "resourceVersion": "101"}}}).encode(),
    json.dumps({"type": "ADDED", "object": podobj("p3", "101", True)})
    .encode(),
    json.dumps({"type": "ADDED", "object": {"metadata": {
        "name": "a/b", "namespace": "default",
        "resourceVersion": "102"}}}).encode(),
    json.dumps({"type": "ADDED", "object": "a string"}).encode(),
    json.dumps({"type": "BOOKMARK", "object": {"metadata": {
        "resourceVersion": "103"}}}).encode(),
    json.dumps({"type": "DELETED", "object": podobj("p1", "104", True)})
    .encode(),
    json.dumps({"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": "too old resource version: 100 (150)",
        "reason": "Expired", "code": 410}}).encode(),
]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream(self, lines, hold):
        """A watch: chunked lines, then the end after hold seconds."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for ln in lines:
            data = ln + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        deadline = time.time() + hold
        while time.time() < deadline and not self.server.done:
            time.sleep(0.05)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        with self.server.lock:
            self.server.seen.append((u.path, q))
        if u.path == "/api/v1/pods":
            return self.pods(q)
        if u.path == "/api/v1/services":
            return self.send(403, {"kind": "Status", "code": 403,
                                   "reason": "Forbidden",
                                   "message": "services is forbidden"})
        self.send(404, {"kind": "Status", "code": 404, "reason": "NotFound",
                        "message": "not found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        self.send(404, {"kind": "Status", "code": 404, "reason": "NotFound",
                        "message": "not found"})

    do_PUT = do_PATCH = do_POST

    def pods(self, q):
        assert q.get("fieldSelector") == "spec.nodeName=" + NODE, q
        if q.get("watch") == "1":
            rv = q.get("resourceVersion")
            if rv == "100":
                return self.stream(FIRST_WATCH, 0)
            return self.stream([], 30)
        assert q.get("limit") == "500", q
        with self.server.lock:
            self.server.lists += 1
            n = self.server.lists
        if n == 1 and "continue" not in q:
            return self.send(200, podlist([podobj("p1", "90")], "100",
                                          "page2"))
        if n == 2 and q.get("continue") == "page2":
            return self.send(200, podlist([podobj("p2", "95")], "100"))
        # The relist after the 410: p2 is gone, p3 is there.
        return self.send(200, podlist([podobj("p3", "101")], "200"))


class FakeApiserver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.seen = []
        self.lists = 0
        self.done = False
        self.url = "http://127.0.0.1:%d" % self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.done = True
        self.shutdown()
        self.server_close()


@pytest.fixture
def fake():
    srv = FakeApiserver()
    yield srv
    srv.close()


def keys(es, prefix):
    status, _, body = es.get("/debug/store?prefix=" + prefix)
    assert status == 200, body
    return {item["key"] for item in json.loads(body)["items"]}


def test_watch_skips_bad_lines_and_relists_on_410(fake, edgesite_factory):
    es = edgesite_factory("controller:\n  kube:\n    master: %s\n"
                          "    node-name: %s\n" % (fake.url, NODE))
    es.start()
    es.wait_log(r"pods: listed 1 objects, 1 gone, resourceVersion 200")
    wait_for(lambda: keys(es, "o/pods/") == {"o/pods/default/p3"},
             what="only p3 in the store", es=es)
    log = es.log()
    # Paged list first: two pages in one batch.
    assert "pods: listed 2 objects, 0 gone, resourceVersion 100" in log
    # Each bad line is logged with the resource and skipped.
    assert re.search(r"pods: watch: skipping a line of 8 bytes: ", log)
    assert "pods: watch: skipping ADDED ?: missing or bad metadata.name" \
        in log
    assert "pods: watch: skipping ADDED default/a/b: missing or bad " \
        "metadata.name" in log
    assert "pods: watch: skipping an event without type or object" in log
    # ... and counted: the four bad lines of the first watch
    assert es.metric("edgesite_kube_objects_skipped_total") == 4
    assert "pods: watching -> listing (410 gone: too old resource " \
        "version" in log
    # A 403 is told once; a 404 of an optional API is told quietly.
    assert log.count("services: access denied") == 1
    assert "devices.devices.kubeedge.io: not served by the apiserver" in log
    assert es.stop() == 0

    db = open_store(es.state_dir)
    try:
        p3 = json.loads(unframe(db.get(b"o/pods/default/p3")))
        rv = unframe(db.get(b"v/pods"))
    finally:
        db.close()
    assert "managedFields" not in p3["metadata"]
    assert p3["kind"] == "Pod" and p3["apiVersion"] == "v1"
    assert rv == b"200"

    # A restart resumes the watch from 200: no list.
    lists = fake.lists
    mark = len(es.log())
    es.start()
    es.wait_log(r"pods: idle -> watching \(resuming from resourceVersion "
                r"200\)", start=mark)
    wait_for(lambda: any(p == "/api/v1/pods" and
                         q.get("resourceVersion") == "200"
                         for p, q in list(fake.seen)), what="a watch from 200",
             es=es)
    time.sleep(0.5)
    assert fake.lists == lists
    assert keys(es, "o/pods/") == {"o/pods/default/p3"}
    assert es.stop() == 0
