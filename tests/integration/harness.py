# SPDX-License-Identifier: Apache-2.0
"""The one helper module of the integration tests, beside conftest.py (the
edgesite fixtures) and the fixtures of the outside world (containerd.py,
kube_cluster.py, fault_proxy.py): waiting for a condition (wait_for),
edgesite's log lines with their timestamps (log_events), a prerequisite
that is missing (missing: a skip on a developer's machine, a failure when
$CI is set), Pod objects for the cluster (cluster_pod) and the life of a
node joined to the test cluster (node_yaml, forget_node).

Timing is asserted from what edgesite decided and logged, with the instant
it counted from, never from when a container happened to appear: on a
busy machine everything comes late, and only a decision made too early is
a bug."""
import json
import os
import re
import time
from datetime import datetime, timezone

import pytest


def strict():
    """True when a missing prerequisite must fail the run ($CI set)."""
    return os.environ.get("CI", "") not in ("", "0", "false")


def missing(why):
    """A prerequisite is missing: skip, or fail under $CI."""
    if strict():
        pytest.fail("missing prerequisite (CI is set): %s" % why,
                    pytrace=False)
    pytest.skip(why)


def wait_for(pred, timeout=30, what="condition", interval=0.1, es=None,
             ignore=()):
    """Polls pred until it returns something true and returns that; on
    timeout fails with the last value (and es's log tail when given). An
    exception of a class in ignore counts as "not yet"."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
        except ignore as e:  # noqa: PERF203 - polled, rarely raised
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError("no %s in %ds (last %r)%s" % (
        what, timeout, last, "\n" + es.log()[-6000:] if es else ""))


def stamp(text):
    """Seconds since the epoch of an RFC 3339 UTC time, as edgesite logs
    it ("2026-01-02T03:04:05.678Z") or the API shows it (no fraction)."""
    text = text.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S"
    return datetime.strptime(text, fmt).replace(
        tzinfo=timezone.utc).timestamp()


_LINE = re.compile(r"^(\S+Z) (\w+): (.*)$")


def log_events(es, pattern, start=0):
    """[(t, match)] of each log line whose message (after the time and the
    level) matches pattern, oldest first; t is when edgesite logged it."""
    rx = re.compile(pattern)
    out = []
    for line in es.log()[start:].splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        mm = rx.search(m.group(3))
        if mm:
            out.append((stamp(m.group(1)), mm))
    return out


def cluster_pod(name, node=None, command=None, image="busybox",
                container=None, spec=None, ns="default", metadata=None):
    """A one-container Pod object (a dict) for the test cluster, bound to
    node when given; container, spec and metadata add or replace keys."""
    c = {"name": "c", "image": image}
    if command is not None:
        c["command"] = command
    c.update(container or {})
    s = {"automountServiceAccountToken": False, "containers": [c]}
    if node is not None:
        s["nodeName"] = node
    s.update(spec or {})
    md = {"name": name, "namespace": ns}
    md.update(metadata or {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": s}


def cluster_pod_json(*args, **kw):
    return json.dumps(cluster_pod(*args, **kw))


def node_yaml(cluster, node, master=None, extra=""):
    """edgeSite.yaml lines joining edgesite to cluster as node (through
    master, a proxy's URL, when given)."""
    return ("controller:\n  kube:\n%s    kubeconfig: %s\n"
            "    node-name: %s\n%s" % (
                "    master: %s\n" % master if master else "",
                cluster.node_kubeconfig(node), node, extra))


def forget_node(cluster, node, pods=()):
    """Deletes (at once) pods and every pod bound to node, then the Node
    and its Lease: what a test leaves in the shared cluster. Call it once
    the node's edgesite stopped, or it registers the Node again."""
    if pods:
        cluster.kubectl("delete", "pod", *pods, "--grace-period=0",
                        "--force", "--wait=false", "--ignore-not-found",
                        check=False)
    cluster.kubectl("delete", "pods", "--all-namespaces", "--field-selector",
                    "spec.nodeName=" + node, "--force", "--grace-period=0",
                    "--ignore-not-found", "--wait=false", check=False)
    cluster.request("/api/v1/nodes/" + node, method="DELETE")
    cluster.request("/apis/coordination.k8s.io/v1/namespaces/"
                    "kube-node-lease/leases/" + node, method="DELETE")
