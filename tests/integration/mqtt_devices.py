# SPDX-License-Identifier: Apache-2.0
"""MQTT helpers for the external-broker and twin tests: Debian's mosquitto as the
external broker on a free loopback port, and devices played by
mosquitto_sub and mosquitto_pub (mosquitto-clients). Each object owns the
processes it started and kills only those, by PID."""
import json
import os
import queue
import socket
import subprocess
import threading
import time
import uuid

MOSQUITTO = "/usr/sbin/mosquitto"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """mosquitto listening on 127.0.0.1:port, anonymous clients allowed."""

    def __init__(self, tmp_path, port=None):
        self.port = port or free_port()
        self.dir = str(tmp_path)
        self.conf = os.path.join(self.dir, "mosquitto-%d.conf" % self.port)
        self.log_path = os.path.join(self.dir, "mosquitto-%d.log" % self.port)
        with open(self.conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\n"
                    "persistence false\n" % self.port)
        self.proc = None

    def start(self, timeout=10):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log()
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("mosquitto did not listen:\n" + self.log())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.logf.close()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def url(self):
        return "tcp://127.0.0.1:%d" % self.port


class Sub:
    """mosquitto_sub on filters, its messages queued as (topic, payload).
    Ready when start() returns: a probe message made it through."""

    def __init__(self, port, *filters):
        self.port = port
        self.probe = "edgesite-test/probe/" + uuid.uuid4().hex
        args = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-v",
                "-q", "1", "-t", self.probe]
        for f in filters:
            args += ["-t", f]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.q = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            topic, _, payload = line.decode(errors="replace").rstrip(
                "\n").partition(" ")
            self.q.put((topic, payload))

    def start(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pub(self.port, self.probe, "x")
            try:
                while True:
                    t, _ = self.q.get(timeout=0.3)
                    if t == self.probe:
                        return self
            except queue.Empty:
                pass
        raise AssertionError("mosquitto_sub never got its probe")

    @staticmethod
    def _match(t, p, topic, pred):
        if t != topic:
            return None
        try:
            doc = json.loads(p)
        except ValueError:
            doc = p
        return doc if pred is None or pred(doc) else None

    def get(self, topic, timeout=10, pred=None):
        """The first message on topic (whose JSON payload satisfies pred),
        decoded as JSON and consumed; the others are kept in self.seen for
        later calls."""
        for i, (t, p) in enumerate(self.seen):
            doc = self._match(t, p, topic, pred)
            if doc is not None:
                del self.seen[i]
                return doc
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("no message on %s; seen: %r" % (
                    topic, self.seen[-20:]))
            try:
                t, p = self.q.get(timeout=left)
            except queue.Empty:
                continue
            doc = self._match(t, p, topic, pred)
            if doc is not None:
                return doc
            self.seen.append((t, p))

    def drain(self, wait=0.5):
        """Everything that arrives within wait seconds."""
        out = []
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                out.append(self.q.get(timeout=max(0.01,
                                                  deadline - time.time())))
            except queue.Empty:
                pass
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def pub(port, topic, payload, qos=1):
    """One message from a device; payload may be a dict (sent as JSON)."""
    if not isinstance(payload, (str, bytes)):
        payload = json.dumps(payload)
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port),
                    "-q", str(qos), "-t", topic, "-m", payload],
                   check=True, timeout=10)


def mqtt_yaml(mode, server=None, internal=None):
    """The mqtt section of an edgesite config."""
    y = "mqtt:\n  mode: %d\n" % mode
    if server:
        y += "  server: %s\n" % server
    if internal:
        y += "  internal-server: %s\n" % internal
    return y
