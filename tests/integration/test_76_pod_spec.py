# SPDX-License-Identifier: Apache-2.0
"""What a pod spec becomes inside its containers, against a real
containerd: init containers in order sharing an emptyDir, env values with
$(VAR) expansion, fieldRef and resourceFieldRef, a downwardAPI volume, a
subPath and a read-only hostPath mount, runAsUser/runAsGroup/fsGroup, a
read-only root filesystem, the hostname and dnsConfig with dnsPolicy None,
and resources as the container's cgroup limits (cpu shares, quota,
memory) under the QoS class's cgroup parent."""
import json
import os

from podutil import (BUSYBOX, cri, cstatus, running, runtime_yaml,
                     static_name, wait_status, write_manifest)


def exec_out(ctd, cid, *cmd):
    """The one-line stdout of a command in the container (newlines as \\n),
    or None when the exec failed."""
    for line in cri(ctd, "exec", "id=%s" % cid, *cmd):
        if line.startswith("exec OK "):
            return line.split("stdout=", 1)[1]
    return None


def spec_pod(hostdir):
    init = [{"name": n, "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
             "command": ["sh", "-c", "echo %s >> /work/order" % w],
             "volumeMounts": [{"name": "work", "mountPath": "/work"}]}
            for n, w in (("init1", "one"), ("init2", "two"))]
    c = {"name": "c", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
         "command": ["sh", "-c", "exec sleep 100000"],
         "env": [{"name": "A", "value": "hello"},
                 {"name": "B", "value": "$(A)-world"},
                 {"name": "POD", "valueFrom": {"fieldRef": {
                     "fieldPath": "metadata.name"}}},
                 {"name": "MEM", "valueFrom": {"resourceFieldRef": {
                     "resource": "limits.memory", "divisor": "1Mi"}}}],
         "resources": {"limits": {"memory": "64Mi", "cpu": "500m"},
                       "requests": {"memory": "32Mi", "cpu": "250m"}},
         "securityContext": {"readOnlyRootFilesystem": True,
                             "allowPrivilegeEscalation": False},
         "volumeMounts": [
             {"name": "work", "mountPath": "/work"},
             {"name": "work", "mountPath": "/sub", "subPath": "nested"},
             {"name": "info", "mountPath": "/etc/podinfo"},
             {"name": "host", "mountPath": "/host", "readOnly": True}]}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "spec", "labels": {"app": "demo"}},
            "spec": {
                "hostname": "myhost",
                "terminationGracePeriodSeconds": 1,
                "dnsPolicy": "None",
                "dnsConfig": {"nameservers": ["192.0.2.53"],
                              "searches": ["example.test"],
                              "options": [{"name": "ndots", "value": "2"}]},
                "securityContext": {"runAsUser": 1000, "runAsGroup": 3000,
                                    "fsGroup": 2000},
                "initContainers": init, "containers": [c],
                "volumes": [
                    {"name": "work", "emptyDir": {}},
                    {"name": "info", "downwardAPI": {"items": [
                        {"path": "labels", "fieldRef": {
                            "fieldPath": "metadata.labels"}}]}},
                    {"name": "host", "hostPath": {"path": hostdir,
                                                  "type": "Directory"}}]}}


def test_spec_inside_the_container(containerd, edgesite_factory):
    es = edgesite_factory(runtime_yaml(containerd))
    hostdir = es.tmp / "hostdir"
    hostdir.mkdir()
    (hostdir / "file").write_text("from the host\n")
    write_manifest(es, "spec.yaml", json.dumps(spec_pod(str(hostdir))))
    es.start()
    name = static_name("spec")
    st = wait_status(es, "default", name, running)
    for n in ("init1", "init2"):
        t = cstatus(st, n)["state"]["terminated"]
        assert t["exitCode"] == 0 and t["reason"] == "Completed"
    assert st["qosClass"] == "Burstable"
    cid = cstatus(st, "c")["containerID"].split("//")[1]

    assert exec_out(containerd, cid, "cat", "/work/order") == r"one\x0atwo"
    assert exec_out(containerd, cid, "id", "-u") == "1000"
    assert exec_out(containerd, cid, "id", "-g") == "3000"
    assert "2000" in exec_out(containerd, cid, "id", "-G").split()
    assert exec_out(containerd, cid, "sh", "-c", "echo $B") == "hello-world"
    assert exec_out(containerd, cid, "sh", "-c", "echo $POD") == name
    assert exec_out(containerd, cid, "sh", "-c", "echo $MEM") == "64"
    assert exec_out(containerd, cid, "cat", "/etc/podinfo/labels") == \
        'app="demo"'
    assert exec_out(containerd, cid, "sh", "-c",
                    "touch /rootfs-write 2>/dev/null; echo $?") == "1"
    assert exec_out(containerd, cid, "cat", "/host/file") == "from the host"
    assert exec_out(containerd, cid, "sh", "-c",
                    "touch /host/x 2>/dev/null; echo $?") == "1"
    assert exec_out(containerd, cid, "ls", "-d", "/work/nested") == \
        "/work/nested"
    assert exec_out(containerd, cid, "hostname") == "myhost"
    resolv = exec_out(containerd, cid, "cat", "/etc/resolv.conf")
    assert "nameserver 192.0.2.53" in resolv
    assert "search example.test" in resolv
    assert "options ndots:2" in resolv

    # resources, as the container's cgroup (v1 or v2) shows them
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        assert exec_out(containerd, cid, "cat",
                        "/sys/fs/cgroup/memory.max") == "67108864"
        assert exec_out(containerd, cid, "cat",
                        "/sys/fs/cgroup/cpu.max") == "50000 100000"
    else:
        assert exec_out(containerd, cid, "cat",
                        "/sys/fs/cgroup/memory/memory.limit_in_bytes") == \
            "67108864"
        assert exec_out(containerd, cid, "cat",
                        "/sys/fs/cgroup/cpu/cpu.shares") == "256"
        assert exec_out(containerd, cid, "cat",
                        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us") == "50000"
        uid = es.wait_log(r"pod default/%s: uid (\w+)" % name).group(1)
        assert os.path.isdir("/sys/fs/cgroup/memory/kubepods/burstable/"
                             "pod%s" % uid)
