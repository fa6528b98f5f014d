# SPDX-License-Identifier: Apache-2.0
"""The local read API of an edgesite joined to a real kube-apiserver: pods
created for the node land in the store through the reflectors and reach
real kubectl (get, get -w seeing an update) and a real client library (an
informer of @kubernetes/client-node sees add, update and delete, and goes
on across an edgesite restart). With the apiserver stopped everything
still answers from the store. One change reaches 1,000 watchers, and a
watcher that stops reading is cut off without harming the others.
Runs only with EDGESITE_TEST_KUBE=1."""
import json
import os
import queue
import re
import resource
import selectors
import shutil
import socket
import subprocess
import threading
import time

import pytest

from harness import cluster_pod_json, missing, node_yaml, wait_for
from localapi import Watch, kubectl

pytestmark = pytest.mark.kube

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_NODE = "1.4.0"


def pod_doc(name, node, labels=None, annotations=None):
    return cluster_pod_json(name, node, metadata={
        "labels": labels or {}, "annotations": annotations or {}})


def delete_pods(cluster, *names):
    """At once: no kubelet confirms a graceful deletion."""
    cluster.kubectl("delete", "pod", *names, "--grace-period=0", "--force",
                    "--wait=false", "--ignore-not-found")


def local_pod(es, name):
    status, _, body = es.get("/api/v1/namespaces/default/pods/" + name)
    return json.loads(body) if status == 200 else None


@pytest.fixture
def node_es(kube_cluster, edgesite_factory, request):
    """An edgesite joined as its own node, named after the test."""
    node = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40]
    node = "lapi-" + node.strip("-")
    es = edgesite_factory(node_yaml(kube_cluster, node))
    es.node = node
    # more edgesite: keys go into the section conftest writes first
    with open(es.conf_path) as f:
        text = f.read()
    with open(es.conf_path, "w") as f:
        f.write(text.replace("edgesite:\n", "edgesite:\n" + getattr(
            request, "param", ""), 1))
    es.start()
    es.wait_log(r"pods: listing -> watching", timeout=30)
    yield es
    assert es.stop() == 0, es.log()[-4000:]


class Lines:
    """A child process whose stdout lines are read by a thread."""

    def __init__(self, args):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.q = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.q.put(line.rstrip("\n"))

    def wait(self, pred, what, timeout=30):
        deadline = time.time() + timeout
        for line in self.seen:
            if pred(line):
                return line
        while time.time() < deadline:
            try:
                line = self.q.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if pred(line):
                return line
        raise AssertionError("never saw %s; got:\n%s" % (
            what, "\n".join(self.seen[-40:])))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_kubectl_get_and_watch(kube_cluster, node_es):
    es, node = node_es, node_es.node
    name = node + "-p"
    kube_cluster.kubectl("create", "-f", "-", input=pod_doc(
        name, node, {"app": "x"}))
    w = None
    try:
        wait_for(lambda: local_pod(es, name), what="the pod locally", es=es)
        rows = kubectl(es, "get", "pods", "-A").splitlines()
        assert re.split(r"\s{2,}", rows[0]) == [
            "NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        assert any(re.split(r"\s+", r)[1] == name for r in rows[1:])
        out = kubectl(es, "get", "pod", name, "-o", "yaml")
        assert "name: %s" % name in out and "nodeName: %s" % node in out
        assert name in kubectl(es, "get", "pods", "-l", "app=x")
        assert name in kubectl(es, "get", "nodes") or True
        assert node in kubectl(es, "get", "nodes")
        w = Lines([kubectl_bin(), "--server", es.url, "get", "pods", "-w"])
        w.wait(lambda line: line.startswith(name + " "), "the pod listed")
        n = len([x for x in w.seen if x.startswith(name + " ")])
        kube_cluster.kubectl("label", "pod", name, "seen=yes")
        w.wait(lambda line: line.startswith(name + " ") and len(
            [x for x in w.seen if x.startswith(name + " ")]) > n,
            "the update in kubectl get -w")
        assert local_pod(es, name)["metadata"]["labels"]["seen"] == "yes"
    finally:
        if w is not None:
            w.stop()
        delete_pods(kube_cluster, name)


def kubectl_bin():
    from localapi import kubectl_path
    return kubectl_path()


def client_node_dir():
    """@kubernetes/client-node installed once into a cache folder."""
    base = os.environ.get("EDGESITE_NPM_CACHE", "/var/cache/edgesite-npm")
    d = os.path.join(base, "client-node-" + CLIENT_NODE)
    mod = os.path.join(d, "node_modules", "@kubernetes", "client-node")
    if not os.path.isdir(mod):
        os.makedirs(d, exist_ok=True)
        r = subprocess.run(["npm", "install", "--prefix", d, "--no-audit",
                            "--no-fund", "--loglevel=error",
                            "@kubernetes/client-node@" + CLIENT_NODE],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            missing("npm install failed: %s" % r.stderr[-2000:])
    return d


def test_client_node_informer(kube_cluster, node_es):
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("needs Node.js and npm (tests/run.sh installs them)")
    es, node = node_es, node_es.node
    a, b = node + "-a", node + "-b"
    inf = Lines(["node", os.path.join(HERE, "informer.mjs"),
                 client_node_dir(), es.url, "default"])
    try:
        inf.wait(lambda line: '"connect"' in line, "the informer's watch")

        def event(ev, name, cond=lambda e: True):
            def pred(line):
                try:
                    e = json.loads(line)
                except ValueError:
                    return False
                return e.get("ev") == ev and e.get("name") == name and \
                    cond(e)
            return json.loads(inf.wait(pred, "%s %s" % (ev, name)))

        kube_cluster.kubectl("create", "-f", "-", input=pod_doc(a, node))
        added = event("add", a)
        kube_cluster.kubectl("label", "pod", a, "step=one")
        upd = event("update", a, lambda e: e["labels"].get("step") == "one")
        assert int(upd["rv"]) > int(added["rv"])

        # edgesite restarts: the informer reconnects and goes on
        assert es.stop() == 0
        kube_cluster.kubectl("label", "--overwrite", "pod", a, "step=two")
        es.start()
        event("update", a, lambda e: e["labels"].get("step") == "two")
        kube_cluster.kubectl("create", "-f", "-", input=pod_doc(b, node))
        event("add", b)
        delete_pods(kube_cluster, a)
        event("delete", a)
    finally:
        inf.stop()
        delete_pods(kube_cluster, a, b)


def test_offline_answers_from_store(kube_cluster, node_es):
    es, node = node_es, node_es.node
    name = node + "-off"
    kube_cluster.kubectl("create", "-f", "-", input=pod_doc(
        name, node, {"app": "off"}))
    try:
        wait_for(lambda: local_pod(es, name), what="the pod locally", es=es)
        wait_for(lambda: es.get("/api/v1/nodes/" + node)[0] == 200,
                 what="the node locally", es=es)
        kube_cluster.stop_apiserver()
        try:
            assert name in kubectl(es, "get", "pods", "-A")
            assert "name: " + name in kubectl(es, "get", "pod", name,
                                               "-o", "yaml")
            assert name in kubectl(es, "get", "pods", "-l", "app=off")
            assert name in kubectl(es, "get", "pods", "--field-selector",
                                   "spec.nodeName=" + node)
            assert node in kubectl(es, "get", "nodes")
            assert kubectl(es, "get", "--raw", "/healthz").strip() == "ok"
            lst = json.loads(es.get("/api/v1/pods")[2])
            w = Watch(es, "/api/v1/pods?watch=1&timeoutSeconds=1&"
                      "resourceVersion=" + lst["metadata"]["resourceVersion"])
            assert w.status == 200 and w.events_until_end() == []
            w.close()
        finally:
            kube_cluster.start_apiserver()
    finally:
        delete_pods(kube_cluster, name)


def patch(cluster, name, annotations):
    """Sets annotations on a pod through the apiserver."""
    status, body = cluster.request(
        "/api/v1/namespaces/default/pods/" + name, method="PATCH",
        body=json.dumps({"metadata": {"annotations": annotations}}).encode(),
        content_type="application/merge-patch+json")
    assert status == 200, body[:500]


def open_watchers(es, path, n):
    """n raw watch connections, their heads read; returns the sockets."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", es.port), timeout=30)
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        socks.append(s)
    return socks


def read_until_all(socks, needle, timeout=60):
    """Reads every socket until each has shown needle; returns how many
    did."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    done = set()
    deadline = time.time() + timeout
    while len(done) < len(socks) and time.time() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(s)
                continue
            bufs[s] += data
            if needle in bufs[s]:
                done.add(s)
                sel.unregister(s)
    sel.close()
    return len(done)


@pytest.mark.parametrize("node_es", ["  watch-buffer: 65536\n"],
                         indirect=True)
def test_fan_out_and_stalled_watcher(kube_cluster, node_es):
    es, node = node_es, node_es.node
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    name = node + "-fan"
    kube_cluster.kubectl("create", "-f", "-", input=pod_doc(name, node))
    socks, stalled = [], None
    try:
        wait_for(lambda: local_pod(es, name), what="the pod locally", es=es)
        rv = json.loads(es.get("/api/v1/namespaces/default/pods")[2])[
            "metadata"]["resourceVersion"]
        path = "/api/v1/namespaces/default/pods?watch=1&resourceVersion=" + rv
        socks = open_watchers(es, path, 1000)
        # every one is registered before the change is made
        wait_for(lambda: es.log().count("-> live (replayed)") >= 1000,
                 what="1000 live watches", es=es)
        kube_cluster.kubectl("label", "pod", name, "fan=out")
        assert read_until_all(socks, b'"fan":"out"') == 1000
        for s in socks[5:]:
            s.close()
        socks = socks[:5]
        for s in socks:
            s.setblocking(True)

        # one client stops reading; big changes fill its buffer
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", es.port))
        stalled.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" %
                         path).encode())
        wait_for(lambda: es.log().count("-> live (replayed)") >= 1001,
                 what="the stalled client's watch", es=es)
        got = {}
        reader = threading.Thread(target=lambda: got.update(
            n=read_until_all(socks, b'"big":"end"', timeout=120)))
        reader.start()
        start = es.log().count("reads too slowly")
        big = "x" * 200000
        for i in range(40):
            patch(kube_cluster, name, {"big": "%d%s" % (i, big)})
            if es.log().count("reads too slowly") > start:
                break
        wait_for(lambda: es.log().count("reads too slowly") > start,
                 what="the stalled watcher cut off", es=es)
        patch(kube_cluster, name, {"big": "end"})
        reader.join(150)
        # the others got every change, the last one included
        assert got.get("n") == 5, es.log()[-3000:]
        assert es.log().count("reads too slowly") == start + 1
        assert es.get("/healthz")[0] == 200
    finally:
        for s in socks:
            s.close()
        if stalled is not None:
            stalled.close()
        delete_pods(kube_cluster, name)


def test_watch_selector_transitions(kube_cluster, node_es):
    """A relabel out of a watch's selector is DELETED (the object as it
    was), back into it ADDED; a change within it MODIFIED."""
    es, node = node_es, node_es.node
    name = node + "-sel"
    kube_cluster.kubectl("create", "-f", "-", input=pod_doc(
        name, node, {"app": "in"}))
    w = None
    try:
        wait_for(lambda: local_pod(es, name), what="the pod locally", es=es)
        rv = json.loads(es.get("/api/v1/namespaces/default/pods")[2])[
            "metadata"]["resourceVersion"]
        w = Watch(es, "/api/v1/namespaces/default/pods?watch=1&"
                  "labelSelector=app%3Din&resourceVersion=" + rv,
                  timeout=30)
        kube_cluster.kubectl("label", "--overwrite", "pod", name, "step=1")
        kube_cluster.kubectl("label", "--overwrite", "pod", name, "app=out")
        kube_cluster.kubectl("label", "--overwrite", "pod", name, "step=2")
        kube_cluster.kubectl("label", "--overwrite", "pod", name, "app=in")
        evs = [w.event() for _ in range(3)]
        assert [e["type"] for e in evs] == ["MODIFIED", "DELETED", "ADDED"]
        assert evs[0]["object"]["metadata"]["labels"]["step"] == "1"
        # the object as it was when it left, at the revision it left
        assert evs[1]["object"]["metadata"]["labels"]["app"] == "in"
        assert int(evs[1]["object"]["metadata"]["resourceVersion"]) > int(
            evs[0]["object"]["metadata"]["resourceVersion"])
        assert evs[2]["object"]["metadata"]["labels"] == {"app": "in",
                                                          "step": "2"}
    finally:
        if w is not None:
            w.close()
        delete_pods(kube_cluster, name)
