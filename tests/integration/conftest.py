# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures for the integration tests: start the built edgesite on a
free loopback port with a generated config and a temporary state directory,
and talk to its local endpoint. The fixtures of the outside world
(containerd, kube_cluster) are offered to every test file from here, and
pytest puts this folder on sys.path (rootdir-relative "prepend" import
mode), so test files import the helpers (harness.py, podutil.py, ...)
directly. Tests marked kube run with EDGESITE_TEST_KUBE=1; under $CI a
missing prerequisite fails instead of skipping (harness.missing)."""
import http.client
import os
import re
import signal
import socket
import subprocess

import pytest

from containerd import containerd, containerd_session  # noqa: F401
from harness import missing, wait_for
from kube_cluster import kube_cluster  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "kube: needs the real kube-apiserver (EDGESITE_TEST_KUBE=1)")


def pytest_runtest_setup(item):
    if item.get_closest_marker("kube") and \
            os.environ.get("EDGESITE_TEST_KUBE") != "1":
        missing("set EDGESITE_TEST_KUBE=1 to run the kube tests")


def edgesite_bin():
    """The daemon under test: $EDGESITE_BIN, else the debug build."""
    env = os.environ.get("EDGESITE_BIN")
    if env:
        return env
    for cand in (os.path.join(TOP, "build", "debug", "edgesite"),
                 os.path.join(TOP, "edgesite")):
        if os.access(cand, os.X_OK):
            return cand
    pytest.fail("edgesite binary not found: build it or set EDGESITE_BIN")


def free_port():
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def no_runtime(extra, sock):
    """YAML that points edgesite at a socket nobody serves unless extra
    names a runtime: tests never reach the machine's containerd. Uses a
    top-level key extra lacks, so tests may append either later."""
    if "remote-runtime-endpoint" in extra:
        return ""
    line = "remote-runtime-endpoint: unix://%s\n" % sock
    if not re.search(r"^controller:", extra, re.M):
        return "controller:\n  edged:\n    " + line
    if not re.search(r"^edged:", extra, re.M):
        return "edged:\n  " + line
    return ""


class Edgesite:
    """One edgesite process with its own config file and state directory."""

    def __init__(self, tmp_path, extra="", port=None, state_dir=None):
        self.tmp = tmp_path
        self.port = port or free_port()
        self.state_dir = state_dir or str(tmp_path / "state")
        self.conf_path = str(tmp_path / "edgeSite.yaml")
        self.log_path = str(tmp_path / "edgesite.log")
        self.url = "http://127.0.0.1:%d" % self.port
        self.mqtt_port = free_port()
        self.proc = None
        self.write_conf(extra)

    def write_conf(self, extra="", listen=None):
        """Writes the config: our edgesite section plus extra YAML."""
        with open(self.conf_path, "w") as f:
            f.write("edgesite:\n"
                    "  state-dir: %s\n"
                    "  listen: %s\n"
                    "  static-pod-dir: %s\n"
                    "  log-level: debug\n" % (
                        self.state_dir, listen or "127.0.0.1:%d" % self.port,
                        self.tmp / "manifests"))
            f.write(extra)
            if not re.search(r"^mqtt:", extra, re.M):
                # The embedded broker of each instance on a port of its own.
                f.write("mqtt:\n  internal-server: tcp://127.0.0.1:%d\n"
                        % self.mqtt_port)
            f.write(no_runtime(extra, self.tmp / "no-runtime.sock"))

    def start(self, wait=True, args=()):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [edgesite_bin(), "-c", self.conf_path] + list(args),
            stdout=self.logf, stderr=subprocess.STDOUT)
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout=20):
        def healthy():
            if self.proc.poll() is not None:
                raise AssertionError("edgesite exited %d:\n%s" % (
                    self.proc.returncode, self.log()))
            return self.get("/healthz")[0] == 200
        wait_for(healthy, timeout=timeout, what="edgesite healthy",
                 interval=0.05, es=self, ignore=(OSError,))

    def get(self, path, method="GET", body=None, headers=None, timeout=10):
        """One HTTP request; returns (status, headers dict, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def metric(self, name):
        """The value of the unlabelled sample name on /metrics, or None
        when /metrics has no such sample."""
        status, _, body = self.get("/metrics")
        assert status == 200, body
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split(" ", 1)[1])
        return None

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signals the process and returns its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.logf.close()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10, start=0):
        """Waits until the log (from offset start) matches pattern."""
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log()[start:]),
                        timeout=timeout, what="log line %r" % pattern,
                        interval=0.05, es=self)


@pytest.fixture
def edgesite_factory(tmp_path):
    """Makes Edgesite instances (not started); all are killed at the end."""
    made = []

    def make(extra="", sub=None, **kw):
        d = tmp_path / (sub or ("es%d" % len(made)))
        d.mkdir(exist_ok=True)
        es = Edgesite(d, extra=extra, **kw)
        made.append(es)
        return es
    yield make
    for es in made:
        es.kill()


@pytest.fixture
def edgesite(edgesite_factory):
    """A started edgesite with the default standalone configuration."""
    return edgesite_factory().start()


def run_edgesite(*args, timeout=20):
    """Runs edgesite with args to completion; returns CompletedProcess."""
    return subprocess.run([edgesite_bin()] + list(args), capture_output=True,
                          text=True, timeout=timeout)
