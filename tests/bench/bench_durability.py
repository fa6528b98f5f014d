#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The cost of the durability policy, by hand (not part of the test suite):

    EDGESITE_BUILD=build/release python3 tests/bench/bench_durability.py

Every case runs twice in the same run, alternating, --runs times (the
median is kept): with the policy as shipped, and with syncing off, which
is the same binary with tests/bench/nosync.c preloaded (fsync and
fdatasync return at once; built here, never for real use). Printed side
by side with their ratio; the policy may cost at most 30 %:

  - MQTT QoS 1 into a persistent session: tests/bench/mqtt_load.c (built
    here) with a subscriber of clean session 0 and --clients publishers
    at once (default 1, 8 and 32), each with at most --window messages
    in flight (default 20, paho's and mosquitto's max_inflight), and one
    publisher with --big-window in flight; messages per second from the
    first PUBLISH until the subscriber has all of them and every
    publisher its last PUBACK;
  - MQTT QoS 1 retained messages, one publisher with --window in flight;
  - the outbox's write rate: tests/bench/bench_outbox.c (built here
    against the build's libedgesite) commits a pod status and its outbox
    record per batch, synced, --per-turn batches per loop turn.

Beside each MQTT figure: the messages per sync (messages over the rise
of edgesite_store_syncs_total in /metrics during the load). The broker
syncs once per loop turn, and a loop turn reads at most 4096 bytes from
each connection (libevent 2.1's evbuffer_read), so one publisher makes
at most 4096 / (size of a PUBLISH) messages per sync whatever its
window: the more publishers, the more messages each sync covers. The
last column is what one sync costs the loop, derived: messages per
sync times the time per message the policy adds.

The state directory is on the disk of --dir (default: the system's
temporary directory; use a real disk, not a tmpfs, or syncing costs
nothing either way). Use an optimized build (./configure without
--enable-debug); needs a C compiler.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
LIBS = ["-levent_core", "-levent", "-lcjson", "-lyaml", "-lleveldb",
        "-levhtp", "-lssl", "-lcrypto", "-lnghttp2", "-lprotobuf-c",
        "-lmosquitto", "-lz", "-lm"]


def syncs(api):
    """edgesite_store_syncs_total from /metrics."""
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % api,
                                  timeout=10).read().decode()
    for line in body.splitlines():
        if line.startswith("edgesite_store_syncs_total "):
            return int(float(line.split()[1]))
    sys.exit("no edgesite_store_syncs_total in /metrics")


def mqtt_case(args, env, kind, pubs, window):
    """(messages per second, messages per sync)."""
    port, api = free_port(), free_port()
    state = tempfile.mkdtemp(prefix="bench-durability-", dir=args.dir)
    conf = os.path.join(state, "edgeSite.yaml")
    with open(conf, "w") as f:
        f.write("edgesite:\n  state-dir: %s/state\n  listen: 127.0.0.1:%d\n"
                "  log-level: warn\nmqtt:\n  internal-server: "
                "tcp://127.0.0.1:%d\n  session-queue-size: 100000\n"
                "  max-inflight: 65535\n" % (state, api, port))
    log = open(os.path.join(state, "edgesite.log"), "wb")
    proc = subprocess.Popen([args.bin, "-c", conf], stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    try:
        wait_port(port, proc)
        load = [args.load, "-p", str(port), "throughput", "-s", "1",
                "-k", str(pubs), "-n", str(args.messages), "-q", "1",
                "-w", str(window), "-z", "64",
                "-P" if kind == "session" else "-R"]
        before = syncs(api)
        out = subprocess.run(load, check=True, capture_output=True,
                             text=True, timeout=300).stdout.split()
        synced = syncs(api) - before
        kv = dict(f.split("=", 1) for f in out)
        if kv["delivered"] != kv["expected"]:
            sys.exit("%s: %s of %s delivered" % (kind, kv["delivered"],
                                                  kv["expected"]))
        return float(kv["msgs_per_s"]), args.messages / max(synced, 1)
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
        shutil.rmtree(state, ignore_errors=True)


def outbox_case(args, env):
    state = tempfile.mkdtemp(prefix="bench-outbox-", dir=args.dir)
    try:
        out = subprocess.run([args.outbox, state, str(args.records),
                              str(args.per_turn)], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
        kv = dict(zip(out[::2], out[1::2]))
        return int(kv["records"]) / float(kv["seconds"]), None
    finally:
        shutil.rmtree(state, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("edgesite exited %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("edgesite did not listen in time")


def build(args, work):
    nosync = os.path.join(work, "nosync.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", nosync,
                    os.path.join(HERE, "nosync.c")], check=True)
    outbox = os.path.join(work, "bench_outbox")
    subprocess.run(["cc", "-O2", "-I", args.build, "-I",
                    os.path.join(TOP, "src"), "-o", outbox,
                    os.path.join(HERE, "bench_outbox.c"),
                    os.path.join(args.build, ".libs", "libedgesite.a")] +
                   LIBS, check=True)
    load = os.path.join(work, "mqtt_load")
    subprocess.run(["cc", "-O2", "-o", load,
                    os.path.join(HERE, "mqtt_load.c")], check=True)
    return nosync, outbox, load


def mqtt_run(args, kind, pubs, window):
    return lambda env: mqtt_case(args, env, kind, pubs, window)


def per_sync(results):
    """The median messages per sync, or "-" where there is none."""
    if results[0][1] is None:
        return "-"
    return "%.0f" % statistics.median(r[1] for r in results)


def sync_cost(results, on, off):
    """What one sync adds, in ms: messages per sync times the extra time
    per message the policy costs (derived, not measured apart)."""
    if results[0][1] is None:
        return "-"
    k = statistics.median(r[1] for r in results)
    return "%.2f ms" % (k * (1 / on - 1 / off) * 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get(
        "EDGESITE_BUILD", os.path.join(TOP, "build", "release")))
    ap.add_argument("--dir", default=None)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--window", type=int, default=20)
    ap.add_argument("--big-window", type=int, default=1000)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--per-turn", type=int, default=50)
    args = ap.parse_args()
    args.bin = os.path.join(args.build, "edgesite")
    work = tempfile.mkdtemp(prefix="bench-durability-")
    nosync, args.outbox, args.load = build(args, work)
    on = dict(os.environ)
    off = dict(os.environ, LD_PRELOAD=nosync)
    cases = []
    for pubs in [int(k) for k in args.clients.split(",")]:
        cases.append(("QoS 1 persistent, %d pub x %d in flight" %
                      (pubs, args.window), mqtt_run(args, "session", pubs,
                                                    args.window)))
    cases.append(("QoS 1 persistent, 1 pub x %d in flight" % args.big_window,
                  mqtt_run(args, "session", 1, args.big_window)))
    cases.append(("QoS 1 retained, 1 pub x %d in flight" % args.window,
                  mqtt_run(args, "retained", 1, args.window)))
    cases.append(("outbox records, %d per turn" % args.per_turn,
                  lambda env: outbox_case(args, env)))
    print("%-40s %10s %10s %6s %19s %8s" % ("", "", "", "",
                                             "messages per sync", "cost"))
    print("%-40s %10s %10s %6s %9s %9s %8s" % (
        "case (msg/s, records/s)", "policy on", "sync off", "ratio",
        "policy on", "sync off", "per sync"))
    worst = 1.0
    for name, run in cases:
        a, b = [], []
        for _ in range(args.runs):
            a.append(run(on))
            b.append(run(off))
        ma = statistics.median(r[0] for r in a)
        mb = statistics.median(r[0] for r in b)
        worst = min(worst, ma / mb)
        print("%-40s %10.0f %10.0f %6.2f %9s %9s %8s" % (
            name, ma, mb, ma / mb, per_sync(a), per_sync(b),
            sync_cost(a, ma, mb)), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print("policy cost at most %.0f %% (limit 30 %%)" % ((1 - worst) * 100))
    return 0 if worst >= 0.7 else 1


if __name__ == "__main__":
    sys.exit(main())
