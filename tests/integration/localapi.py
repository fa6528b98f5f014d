# SPDX-License-Identifier: Apache-2.0
"""Helpers of the local read API tests (test_60_local_api_*.py): objects to
plant in a stopped edgesite's store, a kubectl to point at the local API,
and a raw watch reader."""
import json
import os
import socket
import subprocess

import pytest

import storeio
from harness import missing
from kube_cluster import SYSTEM_KUBECTL, _kubectl_usable, build_binaries

_kubectl = {"path": None}


def kubectl_path():
    """$EDGESITE_KUBECTL, else /usr/bin/kubectl when it runs here, else one
    built from tests/kube (the Go module proxy); skips without any."""
    if _kubectl["path"] is None:
        env = os.environ.get("EDGESITE_KUBECTL")
        if env:
            _kubectl["path"] = env
        elif _kubectl_usable(SYSTEM_KUBECTL):
            _kubectl["path"] = SYSTEM_KUBECTL
        else:
            try:
                _kubectl["path"] = os.path.join(
                    build_binaries(with_kubectl=True), "kubectl")
            except (OSError, RuntimeError) as e:
                missing("no kubectl: %s" % e)
    return _kubectl["path"]


def kubectl(es, *args, check=True, timeout=60, **kw):
    """Runs kubectl against edgesite's local API; returns stdout (or the
    CompletedProcess with check=False)."""
    cmd = [kubectl_path(), "--server", es.url,
           "--cache-dir", os.path.join(str(es.tmp), "kubectl-cache")]
    r = subprocess.run(cmd + list(args), capture_output=True, text=True,
                       timeout=timeout, **kw)
    if not check:
        return r
    assert r.returncode == 0, "kubectl %s: %s%s" % (" ".join(args),
                                                    r.stdout, r.stderr)
    return r.stdout


def pod(name, ns="default", labels=None, phase="Running", node="edge-1",
        restarts=0, ready=True, rv="123456", created="2026-01-01T00:00:00Z"):
    """A Pod object as a reflector would have stored it."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": "uid-" + name,
                     "labels": labels or {}, "resourceVersion": rv,
                     "creationTimestamp": created},
        "spec": {"nodeName": node,
                 "containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": phase, "podIP": "10.1.0.1",
                   "containerStatuses": [{"name": "c", "ready": ready,
                                          "restartCount": restarts}]},
    }


def node(name, ready=True, version="v1.31.0"):
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": "uid-" + name,
                     "creationTimestamp": "2026-01-01T00:00:00Z",
                     "labels": {"node-role.kubernetes.io/edge": ""}},
        "status": {"conditions": [{"type": "Ready",
                                   "status": "True" if ready else "False"}],
                   "nodeInfo": {"kubeletVersion": version},
                   "addresses": [{"type": "InternalIP",
                                  "address": "192.0.2.10"}]},
    }


def plant(es, objects, first_rev=1):
    """Writes objects {store key: object} into the store of a stopped
    edgesite, one revision each from first_rev, and the revision counter;
    returns the last revision."""
    if not os.path.isdir(os.path.join(es.state_dir, "store")):
        # a store is made by edgesite itself: start it once, empty
        es.start()
        assert es.stop() == 0
    db = storeio.open_store(es.state_dir)
    rev = first_rev - 1
    try:
        for key, obj in objects.items():
            rev += 1
            db.put(key.encode(), storeio.frame(json.dumps(obj).encode(),
                                               rev))
        db.put(b"r", storeio.frame(str(rev).encode(), rev))
    finally:
        db.close()
    return rev


class Watch:
    """A raw watch on the local API: HTTP/1.1 over one socket, chunked
    JSON lines read as they come."""

    def __init__(self, es, path, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", es.port),
                                             timeout=timeout)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" %
                           path).encode())
        self.buf = b""
        self.head = self._until(b"\r\n\r\n")
        self.status = int(self.head.split(b" ")[1])
        self.closed = False

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("watch closed")
        self.buf += data

    def _until(self, sep):
        while sep not in self.buf:
            self._fill()
        part, self.buf = self.buf.split(sep, 1)
        return part

    def chunk(self):
        """The next chunk's bytes; b"" for the last chunk."""
        size = int(self._until(b"\r\n"), 16)
        while len(self.buf) < size + 2:
            self._fill()
        data, self.buf = self.buf[:size], self.buf[size + 2:]
        if size == 0:
            self.closed = True
        return data

    def event(self):
        """The next event as a dict, or None at the end of the stream."""
        data = self.chunk()
        return json.loads(data) if data else None

    def events_until_end(self):
        out = []
        while True:
            ev = self.event()
            if ev is None:
                return out
            out.append(ev)

    def close(self):
        self.sock.close()
