# SPDX-License-Identifier: Apache-2.0
"""The CRI client (src/cri/) against a real containerd 1.6 and runc, driven
through tests/unit/cri_call (one line per call: "<op> <CODE> [details]"):
Version, images, a sandbox and a busybox container with ExecSync and a
hostPort, many concurrent calls on one connection, deadlines, cancel, the
reply size limit, and containerd restarted under calls in flight. The last
tests run the daemon against it: /readyz and the runtime version."""
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

from conftest import edgesite_bin, free_port
from containerd import BUSYBOX_IMAGE, PAUSE_IMAGE
from harness import wait_for

# CRI ContainerState values.
CREATED, RUNNING, EXITED = 0, 1, 2


def cri_call_bin():
    p = os.path.join(os.path.dirname(os.path.abspath(edgesite_bin())),
                     "tests", "unit", "cri_call")
    if not os.access(p, os.X_OK):
        pytest.fail("tests/unit/cri_call not built next to edgesite")
    return p


def ops(*groups):
    """cri_call arguments for operations given as lists or strings."""
    out = []
    for g in groups:
        if out:
            out.append("--")
        out += g.split() if isinstance(g, str) else list(g)
    return out


def cri(ctd, *groups, endpoint=None, timeout=120, opts=()):
    """Runs cri_call; returns (exit code, stdout lines, stderr)."""
    r = subprocess.run([cri_call_bin(), "-e", endpoint or ctd.endpoint,
                        "-l", ctd.dir] + list(opts) + ops(*groups),
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout.splitlines(), r.stderr


def line(lines, op):
    """The result line of op (the first one)."""
    for ln in lines:
        if ln.split(" ", 1)[0] == op and len(ln.split()) > 1 and \
                ln.split()[1].isupper():
            return ln
    raise AssertionError("no %s line in %s" % (op, lines))


@pytest.fixture
def pod(containerd):
    """A running sandbox with a busybox httpd on a hostPort; removed at
    the end. Yields (sandbox id, container id, host port)."""
    port = free_port()
    rc, out, err = cri(containerd,
                       "run-sandbox name=web%d ns=test uid=u%d port=%d:80"
                       % (port, port, port),
                       "create name=httpd cmd=/bin/httpd,-f,-p,80,-h,/var/www",
                       "start")
    assert rc == 0, (out, err)
    sandbox = line(out, "run-sandbox").split()[2]
    container = line(out, "create").split()[2]
    yield sandbox, container, port
    cri(containerd, "stop-sandbox %s" % sandbox,
        "remove-sandbox %s" % sandbox)


def test_version(containerd):
    rc, out, err = cri(containerd, "version", "status")
    assert rc == 0, (out, err)
    assert out[0] == "state ready"
    assert re.fullmatch(r"version OK containerd://1\.6\.\S+ api=v1",
                        line(out, "version")), out
    assert line(out, "status") == "status OK RuntimeReady=1 NetworkReady=1"


def test_images(containerd):
    rc, out, err = cri(containerd, "list-images",
                       "image-status %s" % BUSYBOX_IMAGE,
                       "image-status %s" % PAUSE_IMAGE,
                       "image-status localhost/edgesite/absent:1")
    assert rc == 0, (out, err)
    tags = [ln.split()[2] for ln in out if ln.startswith("image ")]
    assert BUSYBOX_IMAGE in tags and PAUSE_IMAGE in tags
    st = line(out, "image-status")
    assert re.fullmatch(r"image-status OK sha256:[0-9a-f]{64} size=\d+", st)
    assert out[-1] == "image-status OK absent size=0"


def test_pull_of_a_local_tag_asks_the_registry(containerd):
    """containerd 1.6 resolves a pull at the registry even when the image
    is present, so with no registry PullImage fails (UNKNOWN, sent) and the
    image stays: a pod with imagePullPolicy IfNotPresent must ask
    ImageStatus first, as a kubelet does."""
    rc, out, err = cri(containerd,
                       "pull %s expect=UNKNOWN" % BUSYBOX_IMAGE,
                       "image-status %s" % BUSYBOX_IMAGE)
    assert rc == 0, (out, err)
    assert "failed to resolve reference" in line(out, "pull")
    assert " sent=1 " in line(out, "pull")
    assert "absent" not in line(out, "image-status")


def test_sandbox_container_exec(containerd, pod):
    sandbox, container, port = pod
    rc, out, err = cri(containerd, "sandbox-status %s" % sandbox,
                       "list-containers",
                       "container-status %s" % container,
                       "exec id=%s cat /etc/hostname" % container,
                       ["exec", "id=%s" % container, "sh", "-c",
                        "echo out; echo err >&2; exit 3"])
    assert rc == 0, (out, err)
    assert re.fullmatch(r"sandbox-status OK ready ip=10\.\d+\.\d+\.\d+",
                        line(out, "sandbox-status"))
    assert "container %s %d httpd %s" % (container, RUNNING, sandbox) in out
    assert line(out, "container-status").startswith(
        "container-status OK state=%d " % RUNNING)
    execs = [ln for ln in out if ln.startswith("exec ")]
    assert execs[0] == "exec OK exit=0 stdout=web%d" % port
    assert execs[1] == "exec OK exit=3 stdout=out"
    with urllib.request.urlopen("http://127.0.0.1:%d/" % port,
                                timeout=10) as r:
        assert r.read() == b"hello from edgesite busybox\n"


def test_container_lifecycle(containerd, pod):
    sandbox, _, _ = pod
    rc, out, err = cri(containerd,
                       "create name=worker sandbox=%s cmd=sleep,1000"
                       % sandbox,
                       "container-status", "start", "stop t=1",
                       "container-status", "remove",
                       "container-status expect=NOT_FOUND",
                       "stop-sandbox %s" % sandbox,
                       "sandbox-status %s" % sandbox)
    assert rc == 0, (out, err)
    st = [ln for ln in out if ln.startswith("container-status")]
    assert st[0].startswith("container-status OK state=%d " % CREATED)
    # sleep is pid 1 of its pid namespace: SIGTERM is ignored, the
    # grace period ends with SIGKILL (137).
    assert re.match(r"container-status OK state=%d exit=(137|143) " % EXITED,
                    st[1]), st
    assert st[2].startswith("container-status NOT_FOUND sent=1 ")
    assert line(out, "sandbox-status").startswith(
        "sandbox-status OK notready")


def test_not_found_maps_to_not_found(containerd):
    rc, out, err = cri(containerd,
                       "container-status nosuchid expect=NOT_FOUND",
                       "sandbox-status nosuchid expect=NOT_FOUND",
                       "exec id=nosuchid true expect=NOT_FOUND")
    assert rc == 0, (out, err)


def test_many_concurrent_calls(containerd, pod):
    rc, out, err = cri(containerd, "many 500 version",
                       "many 200 list-containers", "many 100 list-images",
                       "many 100 list-sandboxes")
    assert rc == 0, (out, err)
    assert out[1:] == ["many OK ok=500 fail=0", "many OK ok=200 fail=0",
                       "many OK ok=100 fail=0", "many OK ok=100 fail=0"]


def test_deadline_and_cancel(containerd, pod):
    """A call over its deadline fails DEADLINE_EXCEEDED (the stream is
    reset), a cancelled call never completes, and the connection serves
    the next calls."""
    _, container, _ = pod
    t0 = time.monotonic()
    rc, out, err = cri(containerd,
                       "timeout 500",
                       "exec id=%s sleep 5 expect=DEADLINE_EXCEEDED"
                       % container,
                       "timeout 0",
                       "cancel version", "cancel list-containers",
                       "exec id=%s echo still" % container, "version")
    assert rc == 0, (out, err)
    assert time.monotonic() - t0 < 5
    assert line(out, "exec").startswith(
        "exec DEADLINE_EXCEEDED sent=1 ")
    assert out.count("cancel OK") == 2
    # Nothing printed for the cancelled calls, one line per other call.
    assert [ln.split()[0] for ln in out if not ln.startswith("state ")] \
        == ["timeout", "exec", "timeout", "cancel", "cancel", "exec",
            "version"], out
    assert "exec OK exit=0 stdout=still" in out


def test_reply_over_the_size_limit(containerd, pod):
    """A reply over our limit (lowered to 100000 bytes here) fails
    RESOURCE_EXHAUSTED before anything is allocated for it, and the
    connection goes on. containerd keeps a limit of 16 MiB of its own: a
    bigger ExecSync output comes back as its RESOURCE_EXHAUSTED."""
    _, container, _ = pod
    rc, out, err = cri(containerd,
                       "exec id=%s head -c 200000 /dev/zero "
                       "expect=RESOURCE_EXHAUSTED" % container,
                       "exec id=%s head -c 90000 /dev/zero" % container,
                       "version", opts=["-m", "100000"])
    assert rc == 0, (out, err)
    assert line(out, "exec") == "exec RESOURCE_EXHAUSTED sent=1 reply of " \
        "200004 bytes is over the limit of 100000"
    assert [ln for ln in out if ln.startswith("exec OK exit=0 ")]
    assert out[-1].startswith("version OK")
    rc, out, err = cri(containerd,
                       "exec id=%s head -c 17000000 /dev/zero "
                       "expect=RESOURCE_EXHAUSTED" % container, "version")
    assert rc == 0, (out, err)
    assert "larger than max" in line(out, "exec")


def test_unreachable_runtime_fails_fast(tmp_path, containerd):
    sock = str(tmp_path / "nothing.sock")
    t0 = time.monotonic()
    rc, out, err = cri(containerd, "version expect=UNAVAILABLE",
                       "list-containers expect=UNAVAILABLE",
                       endpoint="unix://" + sock)
    assert rc == 0, (out, err)
    assert time.monotonic() - t0 < 5
    assert re.fullmatch(r"version UNAVAILABLE sent=0 connect %s: No such "
                        r"file or directory" % re.escape(sock),
                        line(out, "version")), out


def _read_until(proc, pattern, lines, timeout=30):
    """Reads stdout lines of proc into lines until one matches."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ln = proc.stdout.readline()
        if not ln:
            break
        lines.append(ln.rstrip("\n"))
        if re.search(pattern, ln):
            return
    raise AssertionError("never saw %r: %s" % (pattern, lines))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_containerd_restart_mid_run(containerd, pod, sig):
    """containerd stops under a call in flight: the call fails UNAVAILABLE
    (sent), the client backs off and reconnects, asks Version again, and
    the container started before is still there and answers."""
    _, container, _ = pod
    proc = subprocess.Popen(
        [cri_call_bin(), "-e", containerd.endpoint] + ops(
            "version",
            "exec id=%s sleep 30 expect=UNAVAILABLE" % container,
            "list-sandboxes expect=UNAVAILABLE",
            "wait-ready 30000", "list-containers",
            "exec id=%s echo back" % container),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        _read_until(proc, r"^version OK", lines)
        time.sleep(0.5)     # the exec is in flight now
        containerd.restart(sig=sig, down_s=1.0)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines += out.splitlines()
    assert proc.returncode == 0, (lines, err)
    assert line(lines, "exec").startswith(
        "exec UNAVAILABLE sent=1 connection to the runtime lost")
    # Started while the runtime was down: fails at once, never sent.
    assert line(lines, "list-sandboxes").startswith(
        "list-sandboxes UNAVAILABLE sent=0 ")
    states = [ln for ln in lines if ln.startswith("state ")]
    assert states[:2] == ["state ready", "state backoff"]
    assert states[-1] == "state ready"
    assert line(lines, "wait-ready").startswith("wait-ready OK containerd://")
    assert "container %s %d httpd" % (container, RUNNING) in \
        " ".join(lines)
    assert "exec OK exit=0 stdout=back" in lines
    assert "connecting again in" in err


def test_edgesite_reports_the_runtime(containerd, edgesite_factory):
    es = edgesite_factory(containerd.edgesite_yaml()).start()
    es.wait_log(r"cri: runtime containerd 1\.6\.\S+ \(CRI v1\) at unix://" +
                re.escape(containerd.socket))
    code, _, body = wait_for(lambda: (lambda r: r if b"[+]cri ok" in r[2]
                                      else None)(es.get("/readyz?verbose")),
                             timeout=10, what="cri ok in /readyz", es=es)
    assert code == 200, body
    assert es.stop() == 0


def test_edgesite_without_runtime_is_degraded(edgesite):
    """No runtime is not fatal: /readyz says degraded, and edgesite keeps
    trying (its default test config points at a socket nobody serves)."""
    edgesite.wait_log(r"cri unix://\S+no-runtime\.sock: connect \S+: No such "
                      r"file or directory, connecting again in \d+ ms")
    code, _, body = edgesite.get("/readyz?verbose")
    assert code == 200
    assert re.search(rb"\[\+\]cri degraded: backoff: connect ", body), body
    assert edgesite.stop() == 0
