#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of the local read API, run by hand (not in CI):

  apt-get install wrk nginx-light   # Debian's
  make && tests/bench/bench_local_api.py [--edgesite build/debug/edgesite]
      [--duration 10] [--connections 16] [--no-watch]

1. Requests per second and latency with wrk for LIST pods (110 pods in
   the store), GET one pod and LIST with a label selector (10 of them),
   side by side in the same run with Debian's nginx serving the very same
   response bytes from files on loopback; the ratio edgesite/nginx.
2. With a real kube-apiserver (tests/kube, built and cached by
   tests/kube/build.sh): 1,000 watchers on the local API, one pod change
   made through the apiserver, and the time until each watcher has it (the
   spread from the first to the last is the fan-out itself); edgesite's
   RSS before and with the 1,000 watchers open.

Everything listens on loopback and stops by itself."""
import argparse
import json
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import storeio  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_pod(i, node="edge-1"):
    """A pod about the size real ones have (~3 KB as JSON)."""
    name = "app-%03d" % i
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": "default", "uid": "uid-%08d" % i,
            "resourceVersion": str(100000 + i),
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app": "web" if i % 11 == 0 else "svc-%d" % (i % 7),
                       "pod-template-hash": "5d9c8b7f%02d" % (i % 100)},
            "annotations": {"kubectl.kubernetes.io/restartedAt":
                            "2026-01-01T00:00:00Z"},
            "ownerReferences": [{"apiVersion": "apps/v1",
                                 "kind": "ReplicaSet", "name": name + "-rs",
                                 "uid": "rs-%d" % i, "controller": True}]},
        "spec": {
            "nodeName": node, "restartPolicy": "Always",
            "containers": [{
                "name": "main", "image": "registry.example/app:%d" % i,
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "VAR_%d" % k, "value": "value-%d" % k}
                        for k in range(8)],
                "resources": {"requests": {"cpu": "100m",
                                           "memory": "64Mi"},
                              "limits": {"cpu": "500m",
                                         "memory": "256Mi"}},
                "readinessProbe": {"httpGet": {"path": "/ready",
                                               "port": 8080},
                                   "periodSeconds": 10}}],
            "tolerations": [{"key": "node.kubernetes.io/not-ready",
                             "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300}]},
        "status": {
            "phase": "Running", "podIP": "10.1.%d.%d" % (i // 250, i % 250),
            "hostIP": "192.0.2.10", "qosClass": "Burstable",
            "startTime": "2026-01-01T00:00:01Z",
            "conditions": [{"type": t, "status": "True",
                            "lastTransitionTime": "2026-01-01T00:00:02Z"}
                           for t in ("Initialized", "Ready",
                                     "ContainersReady", "PodScheduled")],
            "containerStatuses": [{
                "name": "main", "ready": True, "restartCount": 0,
                "image": "registry.example/app:%d" % i,
                "imageID": "sha256:%064x" % i,
                "containerID": "containerd://%064x" % (i + 7),
                "state": {"running": {
                    "startedAt": "2026-01-01T00:00:03Z"}}}]},
    }


def start_edgesite(binary, state, port, extra=""):
    top = os.path.dirname(state)
    conf = os.path.join(top, "bench-%d.yaml" % port)
    with open(conf, "w") as f:
        f.write("edgesite:\n  state-dir: %s\n  listen: 127.0.0.1:%d\n"
                "  static-pod-dir: %s/manifests\n  log-level: warn\n"
                "mqtt:\n  internal-server: tcp://127.0.0.1:%d\n%s" % (
                    state, port, state, free_port(), extra))
    log = open(os.path.join(top, "bench-%d.log" % port), "ab")
    proc = subprocess.Popen([binary, "-c", conf], stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port,
                                   timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("edgesite did not start")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def plant_pods(binary, state, n):
    port = free_port()
    stop(start_edgesite(binary, state, port))
    db = storeio.open_store(state)
    for i in range(n):
        db.put(b"o/pods/default/app-%03d" % i, storeio.frame(
            json.dumps(bench_pod(i)).encode(), i + 1))
    db.put(b"r", storeio.frame(str(n).encode(), n))
    db.close()


def start_nginx(tmp, port, files):
    """nginx serving each path from a file with the same bytes."""
    locs = "".join(
        "    location = %s { default_type application/json; "
        "alias %s; }\n" % (path, f) for path, f in files.items())
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\n"
                "error_log %s/nginx-error.log;\n"
                "events { worker_connections 1024; }\n"
                "http { access_log off; keepalive_requests 1000000;\n"
                "  client_body_temp_path %s; proxy_temp_path %s;\n"
                "  fastcgi_temp_path %s; uwsgi_temp_path %s;\n"
                "  scgi_temp_path %s;\n"
                "  server { listen 127.0.0.1:%d;\n%s  }\n}\n" % (
                    tmp, tmp, tmp, tmp, tmp, tmp, tmp, port, locs))
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", tmp],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc


def wrk(url, duration, conns):
    """(requests/s, average latency ms, p99 latency ms)."""
    out = subprocess.run(["wrk", "-t1", "-c%d" % conns, "-d%ds" % duration,
                          "--latency", url], capture_output=True, text=True,
                         check=True).stdout

    def ms(s):
        v, unit = re.match(r"([\d.]+)(\w+)", s).groups()
        return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    avg = ms(re.search(r"Latency\s+(\S+)", out).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    return rps, avg, p99


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def bench_http(args, tmp):
    state = os.path.join(tmp, "state")
    plant_pods(args.edgesite, state, 110)
    port, nport = free_port(), free_port()
    es = start_edgesite(args.edgesite, state, port)
    paths = {"LIST pods (110)": "/api/v1/namespaces/default/pods",
             "GET one pod": "/api/v1/namespaces/default/pods/app-042",
             "LIST -l app=web (10)":
             "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb"}
    files, nginx_paths = {}, {}
    for i, (what, path) in enumerate(paths.items()):
        body = urllib.request.urlopen("http://127.0.0.1:%d%s" % (
            port, path)).read()
        f = os.path.join(tmp, "resp%d.json" % i)
        with open(f, "wb") as fp:
            fp.write(body)
        nginx_paths[what] = "/r%d" % i
        files["/r%d" % i] = f
        print("%-22s %7d bytes" % (what, len(body)))
    ng = start_nginx(tmp, nport, files)
    try:
        print("\n%-22s %12s %12s %9s %9s %9s %9s %7s" % (
            "request", "edgesite r/s", "nginx r/s", "es avg", "es p99",
            "ng avg", "ng p99", "ratio"))
        for what, path in paths.items():
            e = wrk("http://127.0.0.1:%d%s" % (port, path), args.duration,
                    args.connections)
            n = wrk("http://127.0.0.1:%d%s" % (nport, nginx_paths[what]),
                    args.duration, args.connections)
            print("%-22s %12.0f %12.0f %7.2fms %7.2fms %7.2fms %7.2fms "
                  "%6.2f" % (what, e[0], n[0], e[1], e[2], n[1], n[2],
                             e[0] / n[0]))
        print("edgesite RSS after the run: %d kB" % rss_kb(es.pid))
    finally:
        stop(ng)
        stop(es)


def bench_watch(args, tmp):
    from kube_cluster import KubeCluster, build_binaries
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    cluster = KubeCluster(os.path.join(tmp, "kube"), build_binaries())
    cluster.start()
    es = None
    socks = []
    try:
        node = "bench-node"
        state = os.path.join(tmp, "wstate")
        port = free_port()
        es = start_edgesite(args.edgesite, state, port,
                            "controller:\n  kube:\n    kubeconfig: %s\n"
                            "    node-name: %s\n" % (
                                cluster.node_kubeconfig(node), node))
        cluster.kubectl("create", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "fan", "namespace": "default"},
            "spec": {"nodeName": node, "automountServiceAccountToken": False,
                     "containers": [{"name": "c", "image": "busybox"}]}}))
        url = "http://127.0.0.1:%d/api/v1/namespaces/default/pods" % port
        deadline = time.time() + 30
        while time.time() < deadline:
            lst = json.loads(urllib.request.urlopen(url).read())
            if lst["items"]:
                break
            time.sleep(0.1)
        rv = lst["metadata"]["resourceVersion"]
        before = rss_kb(es.pid)
        path = "/api/v1/namespaces/default/pods?watch=1&resourceVersion=" + rv
        for _ in range(1000):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" %
                       path).encode())
            s.setblocking(False)
            socks.append(s)
        time.sleep(2)
        sel = selectors.DefaultSelector()
        for s in socks:
            try:
                s.recv(65536)       # the response head
            except BlockingIOError:
                pass
            sel.register(s, selectors.EVENT_READ)
        with_watchers = rss_kb(es.pid)
        t0 = time.time()
        status, body = cluster.request(
            "/api/v1/namespaces/default/pods/fan", method="PATCH",
            body=b'{"metadata":{"labels":{"bench":"go"}}}',
            content_type="application/merge-patch+json")
        t1 = time.time()
        got = []
        bufs = {s: b"" for s in socks}
        while len(got) < len(socks) and time.time() < t0 + 30:
            for key, _ in sel.select(timeout=1):
                s = key.fileobj
                bufs[s] += s.recv(65536)
                if b'"bench":"go"' in bufs[s]:
                    got.append(time.time())
                    sel.unregister(s)
        got.sort()
        print("\nwatch fan-out to %d watchers (change through the "
              "apiserver):" % len(got))
        print("  PATCH answered after %.1f ms" % ((t1 - t0) * 1000))
        print("  first watcher %.1f ms, median %.1f ms, last %.1f ms after "
              "the PATCH was sent" % ((got[0] - t0) * 1000,
                                      (got[len(got) // 2] - t0) * 1000,
                                      (got[-1] - t0) * 1000))
        print("  spread first to last: %.1f ms" % ((got[-1] - got[0]) *
                                                  1000))
        print("edgesite RSS: %d kB before, %d kB with 1,000 watchers open "
              "(%.1f kB each)" % (before, with_watchers,
                                  (with_watchers - before) / 1000.0))
    finally:
        for s in socks:
            s.close()
        if es is not None:
            stop(es)
        cluster.kubectl("delete", "pod", "fan", "--force",
                        "--grace-period=0", "--ignore-not-found", check=False)
        cluster.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgesite", default=os.path.join(
        TOP, "build", "debug", "edgesite"))
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--no-watch", action="store_true")
    args = ap.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            sys.exit("%s is missing: apt-get install wrk nginx-light" % tool)
    with tempfile.TemporaryDirectory(prefix="bench-local-api.") as tmp:
        bench_http(args, tmp)
        if not args.no_watch:
            bench_watch(args, tmp)


if __name__ == "__main__":
    main()
