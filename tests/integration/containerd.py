# SPDX-License-Identifier: Apache-2.0
"""A private containerd for the CRI and pod tests: Debian's containerd 1.6
with runc and the CNI plugins, run as root with its config, root, state,
socket and runc state in a temporary folder, never the system's.

containerd 1.6 puts shim sockets under /run/containerd/s and network
namespaces under /run/netns whatever its config says, so the fixture runs
it in a private mount namespace (unshare, held by a sleeping process) with
its own tmpfs on both: the host's /run/containerd and /run/netns are left
alone, and restart() starts the new containerd in the same namespace so
it finds the shims and sandboxes of the old one. The images are the two
built by contrib/images/build-images.sh (localhost/edgesite/pause:3.9, the
sandbox image, and localhost/edgesite/busybox:latest), imported into the
k8s.io namespace; $EDGESITE_IMAGES names a folder where they were built
already (tests/run.sh does that once). The CNI network is a bridge with a
random name and /24 and the portmap plugin, so hostPorts work on the host.

The Containerd object owns its processes and kills only those, by PID:
containerd, the namespace holder, and at the end the shims (found by the
socket address on their command line) with their containers. Pod sandboxes
still there at the end are stopped and removed through CRI first (with
tests/unit/cri_call next to the edgesite binary), so CNI takes its veths
and port mappings back.
"""
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD_IMAGES = os.path.join(TOP, "contrib", "images", "build-images.sh")
PAUSE_IMAGE = "localhost/edgesite/pause:3.9"
BUSYBOX_IMAGE = "localhost/edgesite/busybox:latest"
CNI_BIN_DIR = "/usr/lib/cni"

CONFIG = """version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[debug]
  address = ""
  level = "info"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  # Lowering oom_score_adj needs a privilege test machines may lack.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "{snapshotter}"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "{d}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin}"
    conf_dir = "{d}/cni/conf"
"""

CNI_CONF = """{{
  "cniVersion": "1.0.0",
  "name": "edgesite-test",
  "plugins": [
    {{"type": "bridge", "bridge": "{bridge}", "isGateway": true,
      "ipMasq": false, "hairpinMode": true,
      "ipam": {{"type": "host-local", "dataDir": "{d}/cni/ipam",
               "ranges": [[{{"subnet": "{subnet}"}}]],
               "routes": [{{"dst": "0.0.0.0/0"}}]}}}},
    {{"type": "portmap", "capabilities": {{"portMappings": true}}}},
    {{"type": "loopback"}}
  ]
}}
"""


def missing():
    """Why this machine cannot run the fixture, or None."""
    if os.geteuid() != 0:
        return "containerd tests need root"
    for prog in ("containerd", "ctr", "runc", "containerd-shim-runc-v2",
                 "unshare", "nsenter", "ip"):
        if shutil.which(prog) is None:
            return "%s not installed (apt-get install containerd runc " \
                "containernetworking-plugins)" % prog
    if not os.path.exists(os.path.join(CNI_BIN_DIR, "bridge")):
        return "CNI plugins not installed (containernetworking-plugins)"
    return None


def build_images(outdir):
    """Builds the pause and busybox image archives into outdir."""
    r = subprocess.run([BUILD_IMAGES, outdir], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("build-images.sh failed:\n" + r.stdout + r.stderr)


class Containerd:
    """One private containerd; start() brings it up with the images."""

    def __init__(self, cri_call=None):
        # Short: the socket path must fit in sun_path.
        self.dir = tempfile.mkdtemp(prefix="es-ctd-")
        self.socket = os.path.join(self.dir, "containerd.sock")
        self.endpoint = "unix://" + self.socket
        self.config = os.path.join(self.dir, "config.toml")
        self.log_path = os.path.join(self.dir, "containerd.log")
        self.cri_call = cri_call
        self.bridge = "es%06x" % random.randrange(1 << 24)
        self.subnet = "10.%d.%d.0/24" % (random.randrange(200, 250),
                                         random.randrange(256))
        self.images = {"pause": PAUSE_IMAGE, "busybox": BUSYBOX_IMAGE}
        self.snapshotter = None
        self.holder = None
        self.proc = None
        self.restarts = 0

    # --- processes ---------------------------------------------------------

    def _ns(self, args, **kw):
        """Runs args inside the private mount namespace."""
        return subprocess.run(["nsenter", "-t", str(self.holder.pid), "-m",
                               "--"] + list(args), **kw)

    def _start_holder(self):
        """The process that keeps the mount namespace and its tmpfs."""
        script = ("set -e; mkdir -p /run/containerd /run/netns; "
                  "mount -t tmpfs -o mode=0711 edgesite-test /run/containerd;"
                  " mount -t tmpfs -o mode=0755 edgesite-test /run/netns; "
                  "echo ready; exec sleep 100000")
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        line = self.holder.stdout.readline()
        if line.strip() != "ready":
            self.holder.wait(5)
            raise RuntimeError("cannot make a mount namespace: " +
                               self.holder.stderr.read())

    def _pick_snapshotter(self):
        """overlayfs when this kernel and folder allow it, else native."""
        t = os.path.join(self.dir, "ovl")
        for sub in ("lower", "upper", "work", "merged"):
            os.makedirs(os.path.join(t, sub))
        r = self._ns(["mount", "-t", "overlay", "overlay", "-o",
                      "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work" %
                      (t, t, t), t + "/merged"], capture_output=True)
        if r.returncode == 0:
            self._ns(["umount", t + "/merged"], capture_output=True)
        shutil.rmtree(t, ignore_errors=True)
        return "overlayfs" if r.returncode == 0 else "native"

    def _write_config(self):
        os.makedirs(os.path.join(self.dir, "cni", "conf"))
        with open(self.config, "w") as f:
            f.write(CONFIG.format(d=self.dir, pause=PAUSE_IMAGE,
                                  snapshotter=self.snapshotter,
                                  cni_bin=CNI_BIN_DIR))
        with open(os.path.join(self.dir, "cni", "conf",
                               "10-edgesite-test.conflist"), "w") as f:
            f.write(CNI_CONF.format(d=self.dir, bridge=self.bridge,
                                    subnet=self.subnet))

    def _spawn(self, timeout=30):
        """Starts containerd in the namespace and waits for its socket."""
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            ["nsenter", "-t", str(self.holder.pid), "-m", "--",
             "containerd", "--config", self.config],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("containerd exited %d:\n%s" % (
                    self.proc.returncode, self.log()[-3000:]))
            if os.path.exists(self.socket) and self.ctr(
                    "version", check=False).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("containerd did not come up:\n" +
                           self.log()[-3000:])

    def start(self, images_dir=None):
        """Makes the namespace, the config, starts containerd and imports
        the images (built into images_dir unless they are there)."""
        self._start_holder()
        self.snapshotter = self._pick_snapshotter()
        self._write_config()
        self._spawn()
        images_dir = images_dir or os.path.join(self.dir, "images")
        if not all(os.path.exists(os.path.join(images_dir, n + ".tar"))
                   for n in ("pause", "busybox")):
            build_images(images_dir)
        for n in ("pause", "busybox"):
            self.ctr("images", "import", "--snapshotter", self.snapshotter,
                     os.path.join(images_dir, n + ".tar"))

    def stop_containerd(self, sig=signal.SIGTERM, timeout=20):
        """Stops containerd alone (its shims and containers keep running)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, sig=signal.SIGTERM, down_s=0.0):
        """Stops containerd (sig), waits down_s, starts it again."""
        self.stop_containerd(sig)
        if down_s:
            time.sleep(down_s)
        self._spawn()
        self.restarts += 1

    def _shims(self):
        """PIDs of the shims this containerd started."""
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and \
                    self.socket.encode() in argv:
                pids.append(int(pid))
        return pids

    def _children(self, pid):
        """PIDs whose parent is pid."""
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(p))
        return out

    def _remove_sandboxes(self):
        """Stops and removes every pod sandbox, so CNI cleans up."""
        if not self.cri_call or self.proc is None or \
                self.proc.poll() is not None:
            return
        r = subprocess.run([self.cri_call, "-e", self.endpoint,
                            "list-sandboxes"], capture_output=True,
                           text=True, timeout=60)
        for line in r.stdout.splitlines():
            if line.startswith("sandbox "):
                sid = line.split()[1]
                subprocess.run([self.cri_call, "-e", self.endpoint,
                                "stop-sandbox", sid, "--", "remove-sandbox",
                                sid], capture_output=True, timeout=60)

    def stop(self):
        """Tears everything down; kills only what this object started."""
        try:
            self._remove_sandboxes()
        except (OSError, subprocess.SubprocessError):
            pass
        self.stop_containerd()
        for shim in self._shims():
            for child in self._children(shim):
                _kill(child)
            _kill(shim)
        if self.holder is not None and self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait(10)
        subprocess.run(["ip", "link", "del", self.bridge],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers -----------------------------------------------------------

    def ctr(self, *args, check=True, timeout=60):
        """Runs ctr against this containerd in the k8s.io namespace."""
        r = subprocess.run(["ctr", "-a", self.socket, "-n", "k8s.io"] +
                           list(args), capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("ctr %s exited %d: %s" % (
                " ".join(args), r.returncode, r.stderr))
        return r

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def edgesite_yaml(self):
        """The edgeSite.yaml lines that point edgesite at this runtime."""
        return ("edged:\n"
                "  remote-runtime-endpoint: %s\n"
                "  podsandbox-image: %s\n" % (self.endpoint, PAUSE_IMAGE))


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def cri_call_path():
    """tests/unit/cri_call of the build that made $EDGESITE_BIN, or None."""
    from conftest import edgesite_bin
    p = os.path.join(os.path.dirname(os.path.abspath(edgesite_bin())),
                     "tests", "unit", "cri_call")
    return p if os.access(p, os.X_OK) else None


_shared = {"ctd": None, "users": 0}


@pytest.fixture(scope="session")
def containerd_session():
    """A started Containerd for the whole session; stopped at the end.
    Skips when the machine cannot run it (not root, not installed)."""
    why = missing()
    if why:
        harness.missing(why)
    if _shared["ctd"] is None:
        ctd = Containerd(cri_call=cri_call_path())
        try:
            ctd.start(os.environ.get("EDGESITE_IMAGES"))
        except BaseException:
            ctd.stop()
            raise
        _shared["ctd"] = ctd
    _shared["users"] += 1
    try:
        yield _shared["ctd"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared["ctd"].stop()
            _shared["ctd"] = None


@pytest.fixture
def containerd(containerd_session):
    """The session's Containerd for one test. What the test's pods left
    running (edgesite leaves pods running when it stops, as a kubelet does)
    is removed after it, so no later test finds another test's sandbox
    under the same pod name."""
    yield containerd_session
    try:
        containerd_session._remove_sandboxes()
    except (OSError, subprocess.SubprocessError):
        pass
