# SPDX-License-Identifier: Apache-2.0
"""Helpers of the pod tests (test_7[5-9]_pod_*.py, test_8[1-9]_pod_*.py): the edgeSite.yaml lines
that point edgesite at the containerd fixture, static manifests written
atomically, the pod status edgesite logs at debug level whenever it stores
a new one, and the runtime's view through tests/unit/cri_call."""
import json
import os
import re
import subprocess
import urllib.request

from conftest import edgesite_bin
from harness import wait_for

BUSYBOX = "localhost/edgesite/busybox:latest"


def runtime_yaml(ctd, extra=""):
    """edged: lines for the containerd fixture (image endpoint too)."""
    return ("edged:\n"
            "  remote-runtime-endpoint: %s\n"
            "  remote-image-endpoint: %s\n"
            "  podsandbox-image: %s\n%s" % (ctd.endpoint, ctd.endpoint,
                                            ctd.images["pause"], extra))


def manifest_dir(es):
    d = es.tmp / "manifests"
    d.mkdir(exist_ok=True)
    return d


def write_manifest(es, name, text):
    """Writes a static pod manifest atomically (write, then rename)."""
    d = manifest_dir(es)
    tmp = d / (".%s.tmp" % name)
    tmp.write_text(text)
    os.rename(tmp, d / name)


def remove_manifest(es, name):
    os.unlink(manifest_dir(es) / name)


def node_name():
    """The node name edgesite picks standalone: the hostname, lowercased."""
    return os.uname().nodename.lower()


def static_name(name):
    return "%s-%s" % (name, node_name())


def statuses(es, ns, name):
    """Every status edgesite stored for pod ns/name, oldest first."""
    rx = re.compile(r" debug: pod %s/%s: status (\{.*\})$" % (
        re.escape(ns), re.escape(name)))
    out = []
    for line in es.log().splitlines():
        m = rx.search(line)
        if m:
            out.append(json.loads(m.group(1)))
    return out


def status(es, ns, name):
    """The last status stored for pod ns/name, or None."""
    s = statuses(es, ns, name)
    return s[-1] if s else None


def wait_status(es, ns, name, pred, timeout=60, what="status"):
    """Waits until the last stored status satisfies pred; returns it."""
    def check():
        st = status(es, ns, name)
        return st if st is not None and pred(st) else None
    try:
        return wait_for(check, timeout=timeout, what=what)
    except AssertionError:
        raise AssertionError("pod %s/%s: no %s in %ds; last: %s\n%s" % (
            ns, name, what, timeout, json.dumps(status(es, ns, name),
                                                indent=1),
            es.log()[-6000:])) from None


def running(st):
    return st.get("phase") == "Running" and all(
        "running" in cs["state"] for cs in st.get("containerStatuses", []))


def condition(st, ctype):
    for c in st.get("conditions", []):
        if c["type"] == ctype:
            return c["status"]
    return None


def cstatus(st, cname):
    for cs in st.get("containerStatuses", []) + \
            st.get("initContainerStatuses", []):
        if cs["name"] == cname:
            return cs
    return None


def cri_call_bin():
    return os.path.join(os.path.dirname(os.path.abspath(edgesite_bin())),
                        "tests", "unit", "cri_call")


def cri(ctd, *args, timeout=60):
    """Runs cri_call ops (separated by "--") against the fixture."""
    r = subprocess.run([cri_call_bin(), "-e", ctd.endpoint] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return r.stdout.splitlines()


def sandboxes(ctd, ns, name):
    """[(id, ready)] of pod ns/name's sandboxes in the runtime."""
    out = []
    for line in cri(ctd, "list-sandboxes"):
        f = line.split()
        if f[0] == "sandbox" and f[3] == "%s/%s" % (ns, name):
            out.append((f[1], f[2] == "ready"))
    return out


def containers(ctd, sandbox_ids):
    """[(id, state, name, sandbox)] of the containers in those sandboxes."""
    out = []
    for line in cri(ctd, "list-containers"):
        f = line.split()
        if f[0] == "container" and f[4] in sandbox_ids:
            out.append((f[1], int(f[2]), f[3], f[4]))
    return out


def http_get(port, path="/", host="127.0.0.1", timeout=3):
    """(status, body) of a GET, or (None, error text)."""
    try:
        with urllib.request.urlopen("http://%s:%d%s" % (host, port, path),
                                    timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except Exception as e:  # noqa: BLE001 - any failure is "not yet"
        return None, str(e)


def busybox_pod(name, command, extra_container="", extra_spec="", ports="",
                grace=None):
    """A one-container busybox pod manifest (YAML)."""
    spec = "spec:\n"
    if grace is not None:
        spec += "  terminationGracePeriodSeconds: %d\n" % grace
    spec += extra_spec
    return ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n%s"
            "  containers:\n  - name: c\n    image: %s\n"
            "    imagePullPolicy: IfNotPresent\n"
            "    command: %s\n%s%s" % (name, spec, BUSYBOX,
                                       json.dumps(command), ports,
                                       extra_container))
