# SPDX-License-Identifier: Apache-2.0
"""A real Kubernetes control plane for the integration tests: etcd and
kube-apiserver built from the pinned Go module in tests/kube/ (build.sh), run
on free loopback ports in a temporary folder with certificates made by the
openssl command, Node,RBAC authorization and the NodeRestriction admission
plugin, and the KubeEdge Device and DeviceModel CRDs installed.

No controller-manager, scheduler or kubelet runs: tests bind pods themselves
(spec.nodeName), nothing garbage-collects, and the fixture makes the
"default" ServiceAccount and the kube-root-ca.crt ConfigMap that the
controllers would (namespace() does the same for other namespaces). etcd is
never compacted behind the tests' back: the apiserver's periodic compaction
is off, and compact_etcd() compacts on demand. Pods bound to a node
never finish a graceful delete without a kubelet: delete them with
--force --grace-period=0 (or have the node under test confirm it).

The KubeCluster object owns its processes and kills only those, by PID.
The session fixture kube_cluster builds (or finds) the binaries, starts one
cluster for the whole run and stops it at the end.
"""
import atexit
import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
KUBE_DIR = os.path.join(TOP, "tests", "kube")
CRD_DIR = os.path.join(KUBE_DIR, "crds")
SYSTEM_KUBECTL = "/usr/bin/kubectl"


def _free_port():
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args, timeout=60, **kw):
    """Runs a helper command; raises with its output when it fails."""
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       **kw)
    if r.returncode != 0:
        raise RuntimeError("%s exited %d:\n%s%s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def build_binaries(with_kubectl=False):
    """Runs tests/kube/build.sh; returns the folder holding the binaries."""
    args = [os.path.join(KUBE_DIR, "build.sh")]
    if with_kubectl:
        args.append("--with-kubectl")
    # A cold build compiles the whole apiserver: allow it an hour.
    out = _run(args, timeout=3600)
    return out.strip().splitlines()[-1]


class _Pki:
    """The cluster's certificates and keys, made with the openssl command in
    one folder: a CA, the apiserver's serving pair, the service-account key
    pair and a client pair per user."""

    def __init__(self, folder):
        self.dir = folder
        os.makedirs(folder, exist_ok=True)
        self.ca_crt = self.path("ca.crt")
        self.ca_key = self.path("ca.key")
        self._key(self.ca_key)
        self._conf("ca.cnf", "basicConstraints = critical, CA:TRUE\n"
                   "keyUsage = critical, keyCertSign, cRLSign, "
                   "digitalSignature\n"
                   "subjectKeyIdentifier = hash\n")
        _run(["openssl", "req", "-x509", "-new", "-key", self.ca_key,
              "-subj", "/CN=edgesite-test-ca", "-days", "3650",
              "-config", self.path("ca.cnf"), "-extensions", "ext",
              "-out", self.ca_crt])
        self.sa_key = self.path("sa.key")
        self.sa_pub = self.path("sa.pub")
        self._key(self.sa_key)
        _run(["openssl", "pkey", "-in", self.sa_key, "-pubout",
              "-out", self.sa_pub])
        self.serving_crt, self.serving_key = self.issue(
            "apiserver", "/CN=kube-apiserver", "serverAuth",
            "subjectAltName = IP:127.0.0.1, DNS:localhost, "
            "DNS:kubernetes, DNS:kubernetes.default, "
            "DNS:kubernetes.default.svc, IP:10.0.0.1\n")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _key(self, out):
        _run(["openssl", "genpkey", "-algorithm", "RSA",
              "-pkeyopt", "rsa_keygen_bits:2048", "-out", out])
        os.chmod(out, 0o600)

    def _conf(self, name, ext):
        """An openssl config with an empty DN section and [ext]."""
        with open(self.path(name), "w") as f:
            f.write("[req]\ndistinguished_name = dn\n[dn]\n[ext]\n" + ext)

    def issue(self, name, subject, usage, more=""):
        """Makes name.crt/name.key signed by the CA; returns both paths."""
        crt, key, csr = (self.path(name + s) for s in (".crt", ".key",
                                                         ".csr"))
        self._key(key)
        self._conf(name + ".cnf", "basicConstraints = critical, CA:FALSE\n"
                   "keyUsage = critical, digitalSignature, "
                   "keyEncipherment\n"
                   "extendedKeyUsage = %s\n"
                   "authorityKeyIdentifier = keyid\n%s" % (usage, more))
        _run(["openssl", "req", "-new", "-key", key, "-subj", subject,
              "-config", self.path(name + ".cnf"), "-out", csr])
        _run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_crt,
              "-CAkey", self.ca_key, "-CAcreateserial", "-days", "3650",
              "-sha256", "-extfile", self.path(name + ".cnf"),
              "-extensions", "ext", "-out", crt])
        return crt, key


class _Proc:
    """One child process with its log file; stopped by its own PID."""

    def __init__(self, name, args, log_path):
        self.name = name
        self.log_path = log_path
        self.logf = open(log_path, "ab")
        # A session of its own: the terminal's ^C reaches pytest only, and
        # pytest then stops us in order.
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self.logf,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def log_tail(self, n=40):
        with open(self.log_path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL after timeout seconds; waits for it."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        self.logf.close()


def _kubeconfig(path, server, ca_crt, user, crt, key):
    """Writes a kubeconfig for one user with every credential embedded."""
    def b64(p):
        with open(p, "rb") as f:
            return base64.b64encode(f.read()).decode()
    conf = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "edgesite-test", "cluster": {
            "server": server, "certificate-authority-data": b64(ca_crt)}}],
        "users": [{"name": user, "user": {
            "client-certificate-data": b64(crt),
            "client-key-data": b64(key)}}],
        "contexts": [{"name": user, "context": {
            "cluster": "edgesite-test", "user": user}}],
        "current-context": user,
    }
    with open(path, "w") as f:
        json.dump(conf, f, indent=2)  # JSON is YAML
    os.chmod(path, 0o600)
    return path


def _kubectl_usable(path):
    """Whether this kubectl runs here (the gcloud one is a dispatcher)."""
    try:
        r = subprocess.run([path, "version", "--client", "-o", "json"],
                           capture_output=True, text=True, timeout=30)
    except OSError:
        return False
    return r.returncode == 0 and "clientVersion" in r.stdout


class KubeCluster:
    """etcd plus kube-apiserver on loopback, with their PKI in workdir.

    Attributes: url (https://127.0.0.1:PORT), ca_path, admin_kubeconfig,
    node_name (the default node, whose kubeconfig is made at start),
    etcd_url, bin_dir, kubectl_path, workdir, version (e.g. "v1.37.2")."""

    def __init__(self, workdir, bin_dir, node_name="edge-node-1",
                 kubectl_path=None, extra_apiserver_args=()):
        self.workdir = str(workdir)
        self.bin_dir = bin_dir
        self.node_name = node_name
        self.kubectl_path = kubectl_path or SYSTEM_KUBECTL
        self.extra_apiserver_args = list(extra_apiserver_args)
        self.port = _free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.etcd_port = _free_port()
        self.etcd_peer_port = _free_port()
        self.etcd_url = "http://127.0.0.1:%d" % self.etcd_port
        self.etcd = None
        self.apiserver = None
        self.version = None
        self._node_kubeconfigs = {}
        self.pki = _Pki(os.path.join(self.workdir, "pki"))
        self.ca_path = self.pki.ca_crt
        crt, key = self.pki.issue("admin", "/O=system:masters/"
                                  "CN=kubernetes-admin", "clientAuth")
        self.admin_kubeconfig = _kubeconfig(
            os.path.join(self.workdir, "admin.kubeconfig"), self.url,
            self.ca_path, "kubernetes-admin", crt, key)
        self._ssl = ssl.create_default_context(cafile=self.ca_path)
        self._ssl.load_cert_chain(crt, key)
        self.node_kubeconfig(node_name)

    # --- processes ---------------------------------------------------------

    def start(self, timeout=120):
        """Starts etcd and the apiserver, waits for /readyz, then installs
        the CRDs and the objects controllers would make."""
        self.start_etcd()
        self.start_apiserver(timeout)
        self.version = self.get_json("/version")["gitVersion"]
        self.kubectl("apply", "-f", CRD_DIR)
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                     "crd/devices.devices.kubeedge.io",
                     "crd/devicemodels.devices.kubeedge.io")
        self.namespace("default")
        return self

    def start_etcd(self, timeout=30):
        p = self.etcd_peer_port
        self.etcd = _Proc("etcd", [
            os.path.join(self.bin_dir, "etcd"), "--name=n0",
            "--data-dir=" + os.path.join(self.workdir, "etcd"),
            "--listen-client-urls=" + self.etcd_url,
            "--advertise-client-urls=" + self.etcd_url,
            "--listen-peer-urls=http://127.0.0.1:%d" % p,
            "--initial-advertise-peer-urls=http://127.0.0.1:%d" % p,
            "--initial-cluster=n0=http://127.0.0.1:%d" % p,
            "--enable-grpc-gateway=true", "--unsafe-no-fsync=true",
            "--log-level=warn"],
            os.path.join(self.workdir, "etcd.log"))
        self._wait("etcd", self.etcd, lambda: self._etcd_post(
            "/v3/kv/range", {"key": "AA=="}) is not None, timeout)

    def start_apiserver(self, timeout=120):
        """Starts (or restarts) the apiserver on the same port and etcd."""
        assert self.apiserver is None or not self.apiserver.alive()
        pki = self.pki
        args = [
            os.path.join(self.bin_dir, "kube-apiserver"),
            "--etcd-servers=" + self.etcd_url,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            # The endpoint reconcilers refuse a loopback advertise address.
            "--endpoint-reconciler-type=none",
            "--secure-port=%d" % self.port,
            "--cert-dir=" + os.path.join(self.workdir, "apiserver-certs"),
            "--tls-cert-file=" + pki.serving_crt,
            "--tls-private-key-file=" + pki.serving_key,
            "--client-ca-file=" + pki.ca_crt,
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=true",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-account-key-file=" + pki.sa_pub,
            "--service-account-signing-key-file=" + pki.sa_key,
            # Only compact_etcd() compacts, so 410s come when tests ask.
            "--etcd-compaction-interval=0",
            "--profiling=false", "--v=1",
        ] + self.extra_apiserver_args
        self.apiserver = _Proc("kube-apiserver", args, os.path.join(
            self.workdir, "kube-apiserver.log"))
        self._wait("kube-apiserver", self.apiserver, self._ready, timeout)

    def stop_apiserver(self):
        """Stops the apiserver; etcd and the port stay for a restart."""
        if self.apiserver is not None:
            self.apiserver.stop()

    def start_extra_apiserver(self, timeout=120):
        """Starts one more kube-apiserver on the same etcd, with the same
        flags and certificates as the main one (its serving certificate
        names 127.0.0.1, so any port does), on a port of its own, and
        returns its URL; the main apiserver is untouched. For failover
        tests: stop it with stop_extra_apiserver(url), and always do (its
        log goes to kube-apiserver.log too)."""
        # start_apiserver() on another port builds the very same command.
        saved = (self.port, self.url, self.apiserver)
        self.port = _free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.apiserver = None
        url, ok = self.url, False
        try:
            self.start_apiserver(timeout)
            ok = True
        finally:
            proc = self.apiserver
            self.port, self.url, self.apiserver = saved
            if not ok and proc is not None:
                proc.stop()
        self.__dict__.setdefault("_extra_apiservers", {})[url] = proc
        # If the test dies before stopping it, stop it at exit anyway.
        atexit.register(proc.stop)
        return url

    def stop_extra_apiserver(self, url):
        """Stops an apiserver start_extra_apiserver() started."""
        proc = self.__dict__.get("_extra_apiservers", {}).pop(url, None)
        if proc is not None:
            proc.stop()

    def stop(self):
        """Stops the apiserver, then etcd; safe to call twice."""
        self.stop_apiserver()
        if self.etcd is not None:
            self.etcd.stop()

    def _wait(self, name, proc, ready, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not proc.alive():
                raise RuntimeError("%s exited %d:\n%s" % (
                    name, proc.proc.returncode, proc.log_tail()))
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("%s not ready in %ds:\n%s" % (
            name, timeout, proc.log_tail()))

    def _ready(self):
        return self.request("/readyz")[0] == 200

    # --- talking to it -----------------------------------------------------

    def request(self, path, method="GET", body=None, content_type=None,
                timeout=30):
        """One request as the admin; returns (status, body bytes)."""
        req = urllib.request.Request(self.url + path, method=method,
                                     data=body)
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self._ssl,
                                        timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def get_json(self, path):
        status, body = self.request(path)
        if status != 200:
            raise RuntimeError("GET %s: %d %s" % (path, status, body[:500]))
        return json.loads(body)

    def kubectl(self, *args, kubeconfig=None, input=None, check=True,
                timeout=60):
        """Runs kubectl as the admin (or with kubeconfig); returns stdout.
        With check=False returns the CompletedProcess instead."""
        cmd = [self.kubectl_path, "--kubeconfig",
               kubeconfig or self.admin_kubeconfig,
               "--cache-dir", os.path.join(self.workdir, "kubectl-cache")]
        cmd += list(args)
        r = subprocess.run(cmd, input=input, capture_output=True, text=True,
                           timeout=timeout)
        if not check:
            return r
        if r.returncode != 0:
            raise RuntimeError("kubectl %s exited %d:\n%s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r.stdout

    def node_kubeconfig(self, name):
        """The path of a kubeconfig for node name (system:node:<name> in
        group system:nodes), made on first use."""
        path = self._node_kubeconfigs.get(name)
        if path is None:
            crt, key = self.pki.issue(
                "node-" + name, "/O=system:nodes/CN=system:node:" + name,
                "clientAuth")
            path = _kubeconfig(
                os.path.join(self.workdir, "node-%s.kubeconfig" % name),
                self.url, self.ca_path, "system:node:" + name, crt, key)
            self._node_kubeconfigs[name] = path
        return path

    def node_credentials(self, name):
        """The (certificate, key) PEM file paths of node name, for a config
        that names files rather than a kubeconfig."""
        self.node_kubeconfig(name)
        return (self.pki.path("node-%s.crt" % name),
                self.pki.path("node-%s.key" % name))

    def namespace(self, name):
        """Makes namespace name if needed, with the "default"
        ServiceAccount and kube-root-ca.crt ConfigMap that
        controller-manager would add, so pods can be created in it."""
        with open(self.ca_path) as f:
            ca = f.read()
        objs = [
            {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": name}},
            {"apiVersion": "v1", "kind": "ServiceAccount",
             "metadata": {"name": "default", "namespace": name}},
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "kube-root-ca.crt", "namespace": name},
             "data": {"ca.crt": ca}},
        ]
        self.kubectl("apply", "-f", "-", input=json.dumps(
            {"apiVersion": "v1", "kind": "List", "items": objs}))

    # --- etcd --------------------------------------------------------------

    def _etcd_post(self, path, body):
        """POSTs to etcd's v3 JSON gateway; returns the decoded answer."""
        req = urllib.request.Request(
            self.etcd_url + path, data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def etcd_revision(self):
        """etcd's current revision (what resourceVersions count)."""
        head = self._etcd_post("/v3/kv/range", {"key": "AA=="})["header"]
        return int(head["revision"])

    def compact_etcd(self, revision=None, restart_apiserver=True):
        """Compacts etcd up to revision (default: the current one) and
        returns it. The apiserver's watch cache would go on serving lists
        and watches at older resourceVersions from memory, so by default the
        apiserver is restarted too: after that a watch from an older
        resourceVersion gets an ERROR event with 410 Expired ("too old
        resource version") and an Exact list a 410 Gone, as a client
        reconnecting after a long absence sees."""
        rev = revision or self.etcd_revision()
        self._etcd_post("/v3/kv/compaction",
                        {"revision": str(rev), "physical": True})
        if restart_apiserver:
            self.stop_apiserver()
            self.start_apiserver()
        return rev


# The one cluster of this session and how many fixture instances hold it:
# each test module that imports the fixture gets its own session-scoped
# instance from pytest, and they must share one cluster.
_shared = {"cluster": None, "users": 0}


@atexit.register
def _stop_shared():
    """If pytest dies before the fixtures' teardown, still stop ours."""
    if _shared["cluster"] is not None:
        _shared["cluster"].stop()


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory):
    """A started KubeCluster for the whole session; stopped at the end.
    $EDGESITE_KUBECTL picks kubectl; else /usr/bin/kubectl if it runs,
    else one built by build.sh --with-kubectl."""
    if _shared["cluster"] is None:
        kubectl = os.environ.get("EDGESITE_KUBECTL")
        if not kubectl and not _kubectl_usable(SYSTEM_KUBECTL):
            kubectl = os.path.join(build_binaries(with_kubectl=True),
                                   "kubectl")
        cluster = KubeCluster(tmp_path_factory.mktemp("kube"),
                              build_binaries(), kubectl_path=kubectl)
        _shared["cluster"] = cluster
        try:
            cluster.start()
        except BaseException:
            cluster.stop()
            _shared["cluster"] = None
            raise
    _shared["users"] += 1
    try:
        yield _shared["cluster"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared["cluster"].stop()
            _shared["cluster"] = None
