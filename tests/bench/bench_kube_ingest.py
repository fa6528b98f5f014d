#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of joining a cluster, run by hand (not in CI):

  make && tests/bench/bench_kube_ingest.py [--edgesite ./edgesite]
      [--services 10000] [--pods 110] [--events 5000] [--qps 1000]

Against a real kube-apiserver and etcd (tests/kube, built and cached by
tests/kube/build.sh) started here on loopback, with edgesite holding a
node's credentials:

1. ingest: 10,000 services (headless, about 500 bytes each) and 110 pods
   bound to the node; edgesite starts on an empty store and lists them:
   the time from its start to the completed list of the services, and its
   RSS afterwards (VmRSS, and the peak VmHWM);
2. relist: the same with every object already in the store and the resume
   point deleted, so the list is compared with the store before it is
   written;
3. watch: --events service changes made while edgesite is stopped, then
   replayed by its resumed watch: events per second into the store, until
   a marker service made last is in it.

Beside each, in the same run, the machine's floor: floor_ingest.c (built
here with cc, cJSON and LevelDB) parses the very same JSON, fetched here as
the node (the fetch is timed on its own), and writes it to a fresh LevelDB;
then the ratios edgesite/floor. edgesite runs with --qps (default 1000) so
its client-side rate limit does not pace the list pages; with the default
of 5 it would.

Everything listens on loopback and stops by itself; the binary should be a
release build (./configure without --enable-debug)."""
import argparse
import datetime
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

from kube_cluster import KubeCluster, build_binaries, _free_port  # noqa: E402
import storeio  # noqa: E402

NODE = "bench-node"
NS = "bench"


class Api:
    """A keep-alive HTTPS connection to the apiserver with a client
    certificate."""

    def __init__(self, cluster, crt, key):
        self.ctx = ssl.create_default_context(cafile=cluster.ca_path)
        self.ctx.load_cert_chain(crt, key)
        self.host, self.port = "127.0.0.1", cluster.port
        self.conn = None

    def request(self, method, path, body=None, ctype="application/json",
                headers=None):
        h = dict(headers or {})
        if body is not None:
            h["Content-Type"] = ctype
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(
                    self.host, self.port, context=self.ctx, timeout=120)
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                return r.status, r.getheader("Content-Encoding"), r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise


def admin(cluster):
    return Api(cluster, cluster.pki.path("admin.crt"),
               cluster.pki.path("admin.key"))


def as_node(cluster):
    crt, key = cluster.node_credentials(NODE)
    return Api(cluster, crt, key)


def parallel(cluster, items, fn, threads=16):
    """Runs fn(api, item) for every item on threads, each with its own
    admin connection."""
    errors = []

    def run(chunk):
        api = admin(cluster)
        for it in chunk:
            try:
                fn(api, it)
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(e)
    ts = [threading.Thread(target=run, args=(items[i::threads],))
          for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]


def service(i):
    name = "svc-%05d" % i
    return json.dumps({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": NS,
                     "labels": {"app": name, "tier": "backend",
                                "team": "team-%d" % (i % 13)},
                     "annotations": {"bench/owner": "bench_kube_ingest"}},
        "spec": {"clusterIP": "None", "selector": {"app": name},
                 "ports": [{"name": "http", "port": 80,
                            "targetPort": 8080, "protocol": "TCP"},
                           {"name": "metrics", "port": 9090,
                            "targetPort": 9090, "protocol": "TCP"}]}})


def pod(i):
    return json.dumps({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "app-%03d" % i, "namespace": NS,
                     "labels": {"app": "app-%03d" % (i % 20)}},
        "spec": {"nodeName": NODE, "automountServiceAccountToken": False,
                 "containers": [{"name": "app", "image": "nginx:1.25",
                                 "ports": [{"containerPort": 80}],
                                 "resources": {"requests": {
                                     "cpu": "10m", "memory": "16Mi"}}}]}})


def create(api, path, body):
    status, _, out = api.request("POST", path, body.encode())
    if status not in (200, 201, 409):
        raise RuntimeError("POST %s: %d %s" % (path, status, out[:300]))


def log_time(line):
    """Seconds since the epoch of an edgesite log line."""
    ts = line.split(" ", 1)[0]
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Edgesite:
    """edgesite joined as NODE, with its own state directory."""

    def __init__(self, binary, work, cluster, qps):
        self.binary = binary
        self.work = work
        self.port = _free_port()
        self.state = os.path.join(work, "state")
        self.conf = os.path.join(work, "edgeSite.yaml")
        self.log_path = os.path.join(work, "edgesite.log")
        os.makedirs(work, exist_ok=True)
        with open(self.conf, "w") as f:
            f.write("edgesite:\n  state-dir: %s\n  listen: 127.0.0.1:%d\n"
                    "  static-pod-dir: %s\n  log-level: info\n"
                    "mqtt:\n  internal-server: tcp://127.0.0.1:%d\n"
                    "edged:\n  remote-runtime-endpoint: unix://%s\n"
                    "controller:\n  kube:\n    kubeconfig: %s\n"
                    "    node-name: %s\n    qps: %d\n    burst: %d\n" % (
                        self.state, self.port,
                        os.path.join(work, "manifests"), _free_port(),
                        os.path.join(work, "no-runtime.sock"),
                        cluster.node_kubeconfig(NODE), NODE, qps, qps))
        self.proc = None

    def start(self):
        self.mark = self.log_size()
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "-c", self.conf],
                                     stdout=self.logf,
                                     stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
        self.logf.close()

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.mark)
            return f.read().decode(errors="replace")

    def wait_line(self, rx, timeout=300):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.log().splitlines():
                if re.search(rx, line):
                    return line
            if self.proc.poll() is not None:
                raise RuntimeError("edgesite exited:\n" + self.log()[-3000:])
            time.sleep(0.05)
        raise RuntimeError("no %r in the log:\n%s" % (rx, self.log()[-3000:]))

    def rss(self):
        out = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])
        return out

    def has(self, key):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", "/debug/store?prefix=" + key)
            items = json.loads(c.getresponse().read())["items"]
        finally:
            c.close()
        return any(i["key"] == key for i in items)


def timed_list(es):
    """Starts es and times its services list: (seconds, objects)."""
    es.start()
    t0 = log_time(es.wait_line(r"kube: node %s, apiserver" % NODE))
    line = es.wait_line(r"services: listed \d+ objects")
    es.wait_line(r"pods: (listed|\w+ -> watching)")
    n = int(re.search(r"listed (\d+) objects", line).group(1))
    return log_time(line) - t0, n


def fetch_pages(cluster, folder):
    """The services list in pages of 500, as edgesite asks for it (gzip
    accepted), saved decoded; returns (paths, seconds)."""
    api = as_node(cluster)
    paths, cont, i = [], None, 0
    t0 = time.time()
    while True:
        path = "/api/v1/services?limit=500"
        if cont:
            path += "&continue=" + cont
        status, enc, body = api.request(
            "GET", path, headers={"Accept-Encoding": "gzip"})
        assert status == 200, body[:300]
        if enc == "gzip":
            body = gzip.decompress(body)
        p = os.path.join(folder, "page-%03d.json" % i)
        with open(p, "wb") as f:
            f.write(body)
        paths.append(p)
        cont = json.loads(body)["metadata"].get("continue")
        i += 1
        if not cont:
            return paths, time.time() - t0


def fetch_events(cluster, rv, marker, path):
    """The services watch from rv up to the marker's ADDED, saved one
    event a line; returns (events, seconds)."""
    crt, key = cluster.node_credentials(NODE)
    ctx = ssl.create_default_context(cafile=cluster.ca_path)
    ctx.load_cert_chain(crt, key)
    c = http.client.HTTPSConnection("127.0.0.1", cluster.port, context=ctx,
                                    timeout=120)
    t0 = time.time()
    c.request("GET", "/api/v1/services?watch=1&allowWatchBookmarks=true"
              "&resourceVersion=%s&timeoutSeconds=120" % rv)
    r = c.getresponse()
    n = 0
    with open(path, "wb") as f:
        while True:
            line = r.readline()
            if not line:
                raise RuntimeError("watch ended before the marker")
            f.write(line)
            n += 1
            if marker.encode() in line and b'"ADDED"' in line:
                break
    c.close()
    return n, time.time() - t0


def floor(binary, mode, db, files):
    out = subprocess.run([binary, mode, db] + files, capture_output=True,
                         text=True, check=True).stdout.split()
    return {"objects": int(out[1]), "seconds": float(out[3]),
            "maxrss_kib": int(out[5])}


def build_floor(work):
    cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "libcjson"],
                            capture_output=True, text=True,
                            check=True).stdout.split()
    out = os.path.join(work, "floor_ingest")
    subprocess.run(["cc", "-O2", "-o", out,
                    os.path.join(HERE, "floor_ingest.c")] + cflags +
                   ["-lleveldb"], check=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edgesite", default=os.path.join(TOP, "edgesite"))
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--pods", type=int, default=110)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--qps", type=int, default=1000)
    ap.add_argument("--keep", action="store_true",
                    help="keep the work folder")
    args = ap.parse_args()
    binary = os.path.abspath(args.edgesite)
    work = tempfile.mkdtemp(prefix="bench-kube-")
    print("work folder %s, edgesite %s" % (work, binary))
    cluster = KubeCluster(os.path.join(work, "kube"), build_binaries())
    es = None
    try:
        cluster.start()
        print("kube-apiserver %s on %s" % (cluster.version, cluster.url))
        cluster.namespace(NS)
        t0 = time.time()
        parallel(cluster, list(range(args.services)), lambda api, i: create(
            api, "/api/v1/namespaces/%s/services" % NS, service(i)))
        parallel(cluster, list(range(args.pods)), lambda api, i: create(
            api, "/api/v1/namespaces/%s/pods" % NS, pod(i)))
        print("made %d services and %d pods in %.1f s" % (
            args.services, args.pods, time.time() - t0))
        floor_bin = build_floor(work)
        es = Edgesite(binary, os.path.join(work, "es"), cluster, args.qps)
        res = {}

        # 1. Ingest into an empty store.
        secs, n = timed_list(es)
        time.sleep(1)
        res["ingest"] = (secs, n, es.rss())
        pages, fetch_s = fetch_pages(cluster, work)
        fl = floor(floor_bin, "list", os.path.join(work, "floor-list"),
                   pages)
        res["ingest_floor"] = (fl, fetch_s, len(pages))
        es.stop()

        # 2. Relist over a full store.
        db = storeio.open_store(es.state)
        db.delete(b"v/services")
        db.close()
        secs, n = timed_list(es)
        time.sleep(1)
        res["relist"] = (secs, n, es.rss())
        es.stop()

        # 3. Watch events replayed by a resumed watch.
        db = storeio.open_store(es.state)
        rv = storeio.unframe(db.get(b"v/services")).decode()
        db.close()
        patch = json.dumps({"metadata": {"labels": {"rev": "2"}}}).encode()
        parallel(cluster, list(range(min(args.events, args.services))),
                 lambda api, i: api.request(
                     "PATCH", "/api/v1/namespaces/%s/services/svc-%05d" % (
                         NS, i), patch, "application/merge-patch+json"))
        marker = "zz-marker"
        create(admin(cluster), "/api/v1/namespaces/%s/services" % NS,
               service(0).replace("svc-00000", marker))
        key = "o/services/%s/%s" % (NS, marker)
        es.start()
        t0 = log_time(es.wait_line(r"services: idle -> watching \(resuming"))
        deadline = time.time() + 300
        while not es.has(key):
            if time.time() > deadline:
                raise RuntimeError("marker never stored:\n" + es.log())
            time.sleep(0.01)
        t1 = time.time()
        relisted = re.search(r"services: \w+ -> listing", es.log())
        nev = min(args.events, args.services) + 1
        res["watch"] = (nev / (t1 - t0), t1 - t0, relisted, es.rss())
        es.stop()
        events = os.path.join(work, "events.jsonl")
        nlines, fetch_s = fetch_events(cluster, rv, marker, events)
        fl = floor(floor_bin, "watch", os.path.join(work, "floor-watch"),
                   [events])
        res["watch_floor"] = (fl, fetch_s, nlines)
        report(args, res)
    finally:
        if es is not None and es.proc is not None:
            if es.proc.poll() is None:
                es.proc.kill()
                es.proc.wait()
        cluster.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def report(args, res):
    secs, n, rss = res["ingest"]
    fl, fetch_s, npages = res["ingest_floor"]
    print()
    print("ingest: %d services (+%d pods) listed into an empty store" % (
        args.services, args.pods))
    print("  edgesite  %.3f s to a completed list of %d objects; RSS %d KiB"
          " after (peak %d KiB)" % (secs, n, rss["VmRSS"], rss["VmHWM"]))
    print("  floor     %.3f s parse+write of the same %d pages (%d objects),"
          " max RSS %d KiB; fetching them took %.3f s" % (
              fl["seconds"], npages, fl["objects"], fl["maxrss_kib"],
              fetch_s))
    print("  ratio     %.1fx the floor, %.1fx floor+fetch; RSS %.1fx" % (
        secs / fl["seconds"], secs / (fl["seconds"] + fetch_s),
        rss["VmRSS"] / fl["maxrss_kib"]))
    rsecs, rn, rrss = res["relist"]
    print("relist: the same list over a full store (resume point deleted)")
    print("  edgesite  %.3f s, %d objects; RSS %d KiB after (peak %d KiB)"
          % (rsecs, rn, rrss["VmRSS"], rrss["VmHWM"]))
    print("  ratio     %.1fx the floor, %.1fx floor+fetch" % (
        rsecs / fl["seconds"], rsecs / (fl["seconds"] + fetch_s)))
    rate, wsecs, relisted, wrss = res["watch"]
    fl, fetch_s, nlines = res["watch_floor"]
    print("watch: %d events replayed by a resumed watch" % (
        min(args.events, args.services) + 1))
    print("  edgesite  %.0f events/s into the store (%.3f s)%s; RSS %d KiB"
          % (rate, wsecs, " (it RELISTED: the watch cache was too short)"
             if relisted else "", wrss["VmRSS"]))
    frate = fl["objects"] / fl["seconds"]
    print("  floor     %.0f events/s parse+write, one batch each (%d "
          "events); streaming them took %.3f s" % (frate, fl["objects"],
                                                   fetch_s))
    print("  ratio     floor/edgesite %.1fx; (floor+stream)/edgesite %.1fx" % (
        frate / rate, (fl["objects"] / (fl["seconds"] + fetch_s)) / rate))


if __name__ == "__main__":
    main()
