#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of the embedded MQTT broker against Debian's mosquitto, by
hand (not part of the test suite):

    EDGESITE_BIN=build/release/edgesite python3 tests/bench/mqtt_bench.py

Both brokers run side by side in the same run, on loopback, with the same
limits (20 in flight per client, queues large enough that nothing is
dropped, TCP_NODELAY both ways) and the same load: tests/bench/mqtt_load.c
(built here with cc -O2), one thread of raw MQTT. For each case it takes
the median of --runs runs, alternating the brokers, and prints the
embedded broker's number, mosquitto's and their ratio:

  - throughput, QoS 0 and QoS 1, one publisher to 1 and to 100
    subscribers (messages published per second until every subscriber
    has all of them, and deliveries per second);
  - round-trip latency, one message at a time, QoS 0 and 1 (p50, p99);
  - resident memory of each broker idle and with 1,000 connected
    clients, each subscribed to a topic of its own.

Use an optimized build (./configure without --enable-debug). Needs the
mosquitto package (the broker) and a C compiler.
"""
import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

CASES = [
    # name, mqtt_load arguments
    ("QoS 0, 1 -> 1", ["throughput", "-s", "1", "-n", "200000", "-q", "0"]),
    ("QoS 1, 1 -> 1", ["throughput", "-s", "1", "-n", "100000", "-q", "1"]),
    ("QoS 0, 1 -> 100", ["throughput", "-s", "100", "-n", "10000",
                         "-q", "0"]),
    ("QoS 1, 1 -> 100", ["throughput", "-s", "100", "-n", "5000", "-q", "1"]),
    ("latency QoS 0", ["latency", "-n", "5000", "-q", "0"]),
    ("latency QoS 1", ["latency", "-n", "5000", "-q", "1"]),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("broker exited %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("broker not listening on %d" % port)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Broker:
    """One broker process, started and stopped by this script only."""

    def __init__(self, name, argv, port, tmp):
        self.name, self.port = name, port
        self.log = open(os.path.join(tmp, name + ".log"), "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port(port, self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_edgesite(binary, tmp):
    os.makedirs(tmp)
    port, api = free_port(), free_port()
    conf = os.path.join(tmp, "edgeSite.yaml")
    with open(conf, "w") as f:
        f.write("edgesite:\n  state-dir: %s\n  listen: 127.0.0.1:%d\n"
                "  static-pod-dir: %s\n  log-level: warn\n"
                "edged:\n  remote-runtime-endpoint: unix://%s\n"
                "mqtt:\n  internal-server: tcp://127.0.0.1:%d\n"
                "  max-inflight: 20\n  session-queue-size: 1000000\n" % (
                    os.path.join(tmp, "state"), api,
                    os.path.join(tmp, "manifests"),
                    os.path.join(tmp, "none.sock"), port))
    return Broker("edgesite", [binary, "-c", conf], port, tmp)


def start_mosquitto(tmp):
    os.makedirs(tmp)
    port = free_port()
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\n"
                "persistence false\nmax_inflight_messages 20\n"
                "max_queued_messages 1000000\nset_tcp_nodelay true\n"
                "log_type error\nlog_dest stderr\n" % port)
    return Broker("mosquitto", ["/usr/sbin/mosquitto", "-c", conf], port,
                  tmp)


def run_load(load, port, args):
    out = subprocess.run([load, "-p", str(port)] + args, check=True,
                         capture_output=True, text=True, timeout=300).stdout
    return {k: float(v) for k, v in
            (kv.split("=") for kv in out.split())}


def idle_rss(load, broker, clients):
    """RSS of the broker before and with clients connected."""
    time.sleep(0.5)
    before = rss_kb(broker.proc.pid)
    p = subprocess.Popen([load, "-p", str(broker.port), "idle", "-c",
                          str(clients)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready"):
        sys.exit("idle load failed: %r" % line)
    time.sleep(1)
    during = rss_kb(broker.proc.pid)
    p.stdin.close()
    p.wait(30)
    return before, during


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--json", help="write the results here too")
    opts = ap.parse_args()
    binary = os.environ.get("EDGESITE_BIN",
                            os.path.join(TOP, "build", "release", "edgesite"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, opts.clients * 2 + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    with tempfile.TemporaryDirectory(prefix="mqtt-bench-") as tmp:
        load = os.path.join(tmp, "mqtt_load")
        subprocess.run(["cc", "-O2", "-o", load,
                        os.path.join(HERE, "mqtt_load.c")], check=True)
        results, mem = {}, {}
        brokers = [start_edgesite(binary, os.path.join(tmp, "e1")),
                   start_mosquitto(os.path.join(tmp, "m1"))]
        try:
            for name, args in CASES:
                runs = {b.name: [] for b in brokers}
                for _ in range(opts.runs):
                    for b in brokers:
                        runs[b.name].append(run_load(load, b.port, args))
                results[name] = runs
        finally:
            for b in brokers:
                b.stop()
        # Memory: fresh processes, idle and then with the clients.
        brokers = [start_edgesite(binary, os.path.join(tmp, "e2")),
                   start_mosquitto(os.path.join(tmp, "m2"))]
        try:
            for b in brokers:
                mem[b.name] = idle_rss(load, b, opts.clients)
        finally:
            for b in brokers:
                b.stop()
    report(results, mem, opts)


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def report(results, mem, opts):
    print("%-18s %-16s %12s %12s %8s" % ("case", "measure", "edgesite",
                                         "mosquitto", "ratio"))
    out = {"cases": {}, "memory": {}}
    for name, runs in results.items():
        if name.startswith("latency"):
            keys = [("p50 us", "p50_us"), ("p99 us", "p99_us")]
        else:
            keys = [("msgs/s", "msgs_per_s"),
                    ("deliveries/s", "deliveries_per_s")]
        for label, key in keys:
            e, m = median(runs["edgesite"], key), median(runs["mosquitto"],
                                                          key)
            print("%-18s %-16s %12.1f %12.1f %8.2f" % (name, label, e, m,
                                                       e / m if m else 0))
            out["cases"]["%s %s" % (name, label)] = {
                "edgesite": e, "mosquitto": m}
        lost = [r["expected"] - r["delivered"] for b in runs.values()
                for r in b if "expected" in r]
        if any(lost):
            print("%-18s lost messages in some runs: %s" % (name, lost))
    for name, (before, during) in mem.items():
        print("%-18s RSS idle %d kB, with %d clients %d kB (%.1f kB per "
              "client)" % (name, before, opts.clients, during,
                           (during - before) / opts.clients))
        out["memory"][name] = {"idle_kb": before, "clients": opts.clients,
                               "with_clients_kb": during}
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
