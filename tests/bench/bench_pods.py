#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of the pod lifecycle, run by hand (not in CI), as root:

  make && tests/bench/bench_pods.py [--edgesite build/debug/edgesite]
      [--images DIR] [--counts 1,30] [--rss 0,30,110]

Against a private containerd 1.6 with runc and CNI (the integration tests'
fixture, tests/integration/containerd.py, with the local busybox image):

1. Pod start latency for 1 and for 30 pods at once: static pod manifests
   are written into edgesite's folder together; for each pod the time from
   the pod object appearing in the store (and from the file being written,
   which adds up to the folder's 1 s rescan) until its container runs
   ("Started container") and until its status Running is stored (what a
   cluster would be sent). Side by side, in the same run, the baseline: the
   same sandbox, create and start sequence driven directly against
   containerd by tests/unit/cri_call, one process per pod, all at once.
   The ratio edgesite/baseline of the medians and of the slowest pod.
2. With --kube, the same for cluster pods: a real kube-apiserver and etcd
   (tests/kube, built and cached by tests/kube/build.sh), edgesite joined
   as a node, the pods created in the apiserver at once; from the create
   answer until the container runs and until the apiserver shows the pod
   Running (the status sent through the outbox).
3. edgesite's RSS (VmRSS) with 0, 30 and 110 pods running.

Everything stays on this machine; the runtime and edgesite stop at the end."""
import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

from containerd import BUSYBOX_IMAGE, Containerd  # noqa: E402

MANIFEST = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {image}
    imagePullPolicy: IfNotPresent
    command: ["sleep", "100000"]
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_time(line):
    """The wall-clock time at the start of an edgesite log line."""
    return datetime.fromisoformat(line.split("Z ", 1)[0]).timestamp()


class Edgesite:
    """edgesite standalone against the private containerd."""

    def __init__(self, binary, ctd, workdir, extra=""):
        self.binary = binary
        self.dir = workdir
        self.manifests = os.path.join(workdir, "manifests")
        os.makedirs(self.manifests)
        self.log_path = os.path.join(workdir, "edgesite.log")
        self.conf = os.path.join(workdir, "edgeSite.yaml")
        with open(self.conf, "w") as f:
            f.write("edgesite:\n  state-dir: %s/state\n  listen: "
                    "127.0.0.1:%d\n  static-pod-dir: %s\n  log-level: "
                    "debug\nmqtt:\n  internal-server: tcp://127.0.0.1:%d\n"
                    "edged:\n  remote-runtime-endpoint: %s\n"
                    "  remote-image-endpoint: %s\n  podsandbox-image: %s\n"
                    % (workdir, free_port(), self.manifests, free_port(),
                       ctd.endpoint, ctd.endpoint, ctd.images["pause"]))
            f.write(extra)
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([binary, "-c", self.conf],
                                     stdout=self.logf,
                                     stderr=subprocess.STDOUT)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read().splitlines()

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        self.logf.close()


def node():
    return os.uname().nodename.lower()


def write_pods(es, prefix, n):
    """Writes n manifests at once; returns the time they were written."""
    t0 = time.time()
    for i in range(n):
        name = "%s%03d" % (prefix, i)
        tmp = os.path.join(es.manifests, ".%s.tmp" % name)
        with open(tmp, "w") as f:
            f.write(MANIFEST.format(name=name, image=BUSYBOX_IMAGE))
        os.rename(tmp, os.path.join(es.manifests, name + ".yaml"))
    return t0


def wait_phases(es, prefix, n, timeout=600):
    """Per pod: (stored, container started, status Running) times."""
    want = {"%s%03d-%s" % (prefix, i, node()) for i in range(n)}
    deadline = time.time() + timeout
    while time.time() < deadline:
        stored, started, running = {}, {}, {}
        for line in es.log():
            m = re.search(r"static pods: \S+: pod default/(\S+) uid", line)
            if m and m.group(1) in want:
                stored.setdefault(m.group(1), log_time(line))
            m = re.search(r"pod default/(\S+): Started: Started container",
                          line)
            if m and m.group(1) in want:
                started.setdefault(m.group(1), log_time(line))
            m = re.search(r"pod default/(\S+): phase Running", line)
            if m and m.group(1) in want:
                running.setdefault(m.group(1), log_time(line))
        if len(running) == len(want) and len(started) == len(want):
            return {p: (stored[p], started[p], running[p]) for p in want}
        time.sleep(0.2)
    raise RuntimeError("pods not Running in %ds" % timeout)


def remove_pods(es, ctd, prefix, n, cri_call):
    for i in range(n):
        os.unlink(os.path.join(es.manifests, "%s%03d.yaml" % (prefix, i)))
    deadline = time.time() + 300
    while time.time() < deadline:
        out = subprocess.run([cri_call, "-e", ctd.endpoint,
                              "list-sandboxes"], capture_output=True,
                             text=True).stdout
        if not re.search(r"default/%s\d{3}-" % prefix, out):
            return
        time.sleep(0.5)
    raise RuntimeError("pods %s* not removed" % prefix)


def baseline(ctd, cri_call, tag, n):
    """n concurrent run-sandbox, create, start sequences; seconds each."""
    procs = []
    t0 = time.time()
    for i in range(n):
        args = [cri_call, "-e", ctd.endpoint, "-l", ctd.dir,
                "run-sandbox", "name=base%s%03d" % (tag, i), "ns=bench",
                "uid=base-%s-%03d-%d" % (tag, i, os.getpid()), "--",
                "create", "image=" + BUSYBOX_IMAGE,
                "name=c%s%03d" % (tag, i),
                "cmd=sleep,100000", "--", "start"]
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    took, sandboxes = [], []
    for p in procs:
        out, err = p.communicate(timeout=600)
        took.append(time.time() - t0)
        if p.returncode != 0:
            raise RuntimeError("cri_call failed: %s %s" % (out, err))
        for line in out.splitlines():
            if line.startswith("run-sandbox OK "):
                sandboxes.append(line.split()[2])
    for s in sandboxes:
        subprocess.run([cri_call, "-e", ctd.endpoint, "stop-sandbox", s,
                        "--", "remove-sandbox", s], capture_output=True)
    return took


def ms(v):
    return "%7.0f ms" % (v * 1000)


def latency_round(es, ctd, cri_call, n, rounds):
    """One round of n pods through edgesite and through the baseline."""
    prefix = "p%d-" % n
    t0 = write_pods(es, prefix, n)
    phases = wait_phases(es, prefix, n)
    from_store = [s2 - s1 for (s1, s2, s3) in phases.values()]
    status_store = [s3 - s1 for (s1, s2, s3) in phases.values()]
    from_file = [s2 - t0 for (s1, s2, s3) in phases.values()]
    remove_pods(es, ctd, prefix, n, cri_call)
    base = baseline(ctd, cri_call, str(n), n)
    rounds.append((n, from_store, status_store, from_file, base))


def report(rounds):
    print("\npod start latency (median / slowest pod)")
    print("%-6s %-22s %-22s %-22s %-22s %s" % (
        "pods", "store->running", "store->status Running",
        "file->running", "baseline (CRI)", "ratio running/baseline"))
    for n, a, b, c, base in rounds:
        print("%-6d %s / %s  %s / %s  %s / %s  %s / %s  %.2f / %.2f" % (
            n, ms(statistics.median(a)), ms(max(a)),
            ms(statistics.median(b)), ms(max(b)),
            ms(statistics.median(c)), ms(max(c)),
            ms(statistics.median(base)), ms(max(base)),
            statistics.median(a) / statistics.median(base),
            max(a) / max(base)))


def kube_round(cluster, es, nodename, n, cri_call, ctd):
    """n pods created in the apiserver at once: (running, status) each."""
    import json
    t0 = {}
    for i in range(n):
        name = "k%d-%03d" % (n, i)
        body = json.dumps({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": nodename,
                     "automountServiceAccountToken": False,
                     "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "c", "image": BUSYBOX_IMAGE,
                                     "imagePullPolicy": "IfNotPresent",
                                     "command": ["sleep", "100000"]}]}})
        st, out = cluster.request("/api/v1/namespaces/default/pods",
                                  method="POST", body=body.encode(),
                                  content_type="application/json")
        if st != 201:
            raise RuntimeError("create %s: %d %s" % (name, st, out))
        t0[name] = time.time()
    seen = {}
    deadline = time.time() + 600
    while len(seen) < n and time.time() < deadline:
        pods = cluster.get_json("/api/v1/namespaces/default/pods?"
                                "fieldSelector=spec.nodeName%3D" + nodename)
        now = time.time()
        for p in pods["items"]:
            nm = p["metadata"]["name"]
            if nm in t0 and nm not in seen and \
                    p.get("status", {}).get("phase") == "Running":
                seen[nm] = now
        time.sleep(0.05)
    started = {}
    for line in es.log():
        m = re.search(r"pod default/(k%d-\d{3}): Started: Started "
                      r"container" % n, line)
        if m:
            started.setdefault(m.group(1), log_time(line))
    running = [started[p] - t0[p] for p in t0]
    status = [seen[p] - t0[p] for p in t0]
    cluster.kubectl("delete", "pods", "--all", "--force",
                    "--grace-period=0", "--wait=false", check=False)
    deadline = time.time() + 300
    while time.time() < deadline:
        out = subprocess.run([cri_call, "-e", ctd.endpoint,
                              "list-sandboxes"], capture_output=True,
                             text=True).stdout
        if not re.search(r"default/k%d-" % n, out):
            break
        time.sleep(0.5)
    return running, status


def bench_kube(a, ctd, cri_call, work):
    """Cluster pods: created in the apiserver, running, Running upstream."""
    import uuid
    from kube_cluster import KubeCluster, build_binaries
    cluster = KubeCluster(os.path.join(work, "kube"), build_binaries())
    nodename = "bench-%s" % uuid.uuid4().hex[:6]
    es = None
    try:
        cluster.start()
        es = Edgesite(a.edgesite, ctd, os.path.join(work, "kes"),
                      "controller:\n  kube:\n    kubeconfig: %s\n"
                      "    node-name: %s\n    qps: %d\n    burst: %d\n" % (
                          cluster.node_kubeconfig(nodename), nodename,
                          a.kube_qps, 2 * a.kube_qps))
        deadline = time.time() + 60
        while cluster.request("/api/v1/nodes/" + nodename)[0] != 200:
            if time.time() > deadline:
                raise RuntimeError("the node never registered")
            time.sleep(0.2)
        print("\ncluster pods, controller.kube.qps %d (median / slowest "
              "pod)" % a.kube_qps)
        print("%-6s %-22s %s" % ("pods", "created->running",
                                 "created->Running in the apiserver"))
        for n in [int(x) for x in a.counts.split(",")]:
            running, status = kube_round(cluster, es, nodename, n,
                                         cri_call, ctd)
            print("%-6d %s / %s  %s / %s" % (
                n, ms(statistics.median(running)), ms(max(running)),
                ms(statistics.median(status)), ms(max(status))))
    finally:
        if es is not None:
            es.stop()
        cluster.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgesite", default=os.path.join(
        TOP, "build", "debug", "edgesite"))
    ap.add_argument("--images", default=os.environ.get("EDGESITE_IMAGES"))
    ap.add_argument("--counts", default="1,30")
    ap.add_argument("--rss", default="0,30,110")
    ap.add_argument("--kube", action="store_true",
                    help="also cluster pods with a real kube-apiserver")
    ap.add_argument("--kube-qps", type=int, default=5,
                    help="controller.kube.qps of the cluster run (burst "
                    "twice that)")
    a = ap.parse_args()
    cri_call = os.path.join(os.path.dirname(os.path.abspath(a.edgesite)),
                            "tests", "unit", "cri_call")
    ctd = Containerd(cri_call=cri_call)
    work = tempfile.mkdtemp(prefix="bench-pods-")
    es = None
    try:
        ctd.start(a.images)
        # the first sandbox of a fresh containerd is slow (CNI setup):
        # warm it up so neither side pays for it
        baseline(ctd, cri_call, "warm", 2)
        es = Edgesite(a.edgesite, ctd, work)
        time.sleep(3)
        rounds = []
        for n in [int(x) for x in a.counts.split(",")]:
            latency_round(es, ctd, cri_call, n, rounds)
        report(rounds)
        if a.kube:
            bench_kube(a, ctd, cri_call, work)
        print("\nedgesite RSS")
        for n in [int(x) for x in a.rss.split(",")]:
            if n > 0:
                write_pods(es, "r%d-" % n, n)
                wait_phases(es, "r%d-" % n, n, timeout=1200)
                time.sleep(5)
            print("%4d pods: %6d KiB" % (n, es.rss_kib()))
            if n > 0:
                remove_pods(es, ctd, "r%d-" % n, n, cri_call)
    finally:
        if es is not None:
            es.stop()
        ctd.stop()


if __name__ == "__main__":
    main()
