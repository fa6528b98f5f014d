# SPDX-License-Identifier: Apache-2.0
"""Static pods from the manifest folder, with no cluster, against a real
containerd and runc: the quick start's demo (busybox httpd on a hostPort
reached over HTTP) and the status edgesite computes for it, a changed file
replacing its pod, a removed file stopping and removing it, and pods that
cannot run (bad YAML, an invalid spec, a bad image name) getting a clear
reason while the others run."""

from conftest import free_port
from harness import wait_for
from podutil import (busybox_pod, condition, containers, cstatus, http_get,
                     remove_manifest, running, runtime_yaml, sandboxes,
                     static_name, wait_status, write_manifest)

def httpd_pod(name, port, text=None, grace=2):
    """busybox httpd on container port 8080 published on host port."""
    if text is None:
        cmd = ["httpd", "-f", "-p", "8080", "-h", "/var/www"]
    else:
        cmd = ["sh", "-c", "mkdir -p /tmp/w && echo %s > /tmp/w/index.html"
               " && exec httpd -f -p 8080 -h /tmp/w" % text]
    return busybox_pod(name, cmd, grace=grace,
                       ports="    ports:\n    - containerPort: 8080\n"
                       "      hostPort: %d\n" % port)

def test_static_httpd_on_a_host_port(containerd, edgesite_factory):
    port = free_port()
    es = edgesite_factory(runtime_yaml(containerd))
    write_manifest(es, "web.yaml", httpd_pod("web", port))
    es.start()
    name = static_name("web")
    st = wait_status(es, "default", name, running)
    body = wait_for(lambda: http_get(port)[0] == 200 and http_get(port)[1],
                    what="an answer on the host port")
    assert "hello from edgesite busybox" in body

    sbs = sandboxes(containerd, "default", name)
    assert len(sbs) == 1 and sbs[0][1], sbs
    st = wait_status(es, "default", name,
                     lambda s: condition(s, "Ready") == "True")
    for ctype in ("PodScheduled", "Initialized", "ContainersReady"):
        assert condition(st, ctype) == "True", st
    cs = cstatus(st, "c")
    assert cs["ready"] and cs["started"] and cs["restartCount"] == 0
    assert cs["containerID"].startswith("containerd://")
    assert cs["image"] == "localhost/edgesite/busybox:latest"
    assert cs["imageID"].startswith("sha256:")
    assert "startedAt" in cs["state"]["running"]
    assert st["qosClass"] == "BestEffort"
    assert st["hostIP"] and st["podIP"] and st["startTime"]
    assert st["podIPs"][0]["ip"] == st["podIP"]
    es.wait_log(r"pod default/%s: Started: Started container c" % name)

    # the file goes: the pod is stopped and removed from the runtime
    remove_manifest(es, "web.yaml")
    wait_for(lambda: not sandboxes(containerd, "default", name),
             what="the sandbox removed")
    es.wait_log(r"pod default/%s: removed" % name)
    assert http_get(port, timeout=1)[0] is None
    assert not (es.tmp / "state" / "pods").exists() or \
        not list((es.tmp / "state" / "pods").iterdir())

def test_changed_file_replaces_the_pod(containerd, edgesite_factory):
    port = free_port()
    es = edgesite_factory(runtime_yaml(containerd))
    write_manifest(es, "web.yaml", httpd_pod("chg", port, "first"))
    es.start()
    name = static_name("chg")
    st1 = wait_status(es, "default", name, running)
    wait_for(lambda: http_get(port)[1].strip() == "first",
             what="the first pod serving")
    uid1 = es.wait_log(r"pod default/%s: uid (\w+)" % name).group(1)

    # a new port too: the old pod keeps its port during its grace period
    port2 = free_port()
    write_manifest(es, "web.yaml", httpd_pod("chg", port2, "second"))
    es.wait_log(r"pod default/%s: uid \S+ replaces %s" % (name, uid1),
                timeout=20)
    wait_for(lambda: http_get(port2)[1].strip() == "second",
             what="the second pod serving")
    wait_for(lambda: len(sandboxes(containerd, "default", name)) == 1,
             what="the old sandbox removed")
    st2 = wait_status(es, "default", name, running)
    assert st2["podIP"] and st1["startTime"]
    assert http_get(port, timeout=1)[0] is None

def test_pods_that_cannot_run_get_a_reason(containerd, edgesite_factory):
    port = free_port()
    es = edgesite_factory(runtime_yaml(containerd))
    write_manifest(es, "broken.yaml", "apiVersion: v1\nkind: Pod\n"
                   "metadata: {name: [oops\n")
    write_manifest(es, "empty.yaml", "apiVersion: v1\nkind: Pod\n"
                   "metadata:\n  name: empty\nspec:\n  containers: []\n")
    write_manifest(es, "badimage.yaml", busybox_pod(
        "badimage", ["sleep", "1000"]).replace(
        "localhost/edgesite/busybox:latest", "Bad Image!!"))
    write_manifest(es, "noname.yaml", "apiVersion: v1\nkind: Pod\n"
                   "metadata:\n  name: noname\nspec:\n  containers:\n"
                   "  - image: busybox\n")
    write_manifest(es, "good.yaml", httpd_pod("good", port))
    es.start()

    es.wait_log(r"static pods: \S+broken.yaml: \d+:\d+: .*ignoring the "
                r"file")
    st = wait_status(es, "default", static_name("empty"),
                     lambda s: s["phase"] == "Failed")
    assert st["reason"] == "InvalidSpec"
    assert st["message"] == "the pod has no containers"
    st = wait_status(es, "default", static_name("noname"),
                     lambda s: s["phase"] == "Failed")
    assert st["reason"] == "InvalidSpec"
    assert "is not a DNS label" in st["message"]
    st = wait_status(es, "default", static_name("badimage"),
                     lambda s: cstatus(s, "c")["state"].get("waiting", {})
                     .get("reason") == "InvalidImageName")
    assert "invalid reference format" in \
        cstatus(st, "c")["state"]["waiting"]["message"]
    assert st["phase"] == "Pending"
    wait_status(es, "default", static_name("good"), running)
    wait_for(lambda: http_get(port)[0] == 200, what="the good pod serving")
    # the bad image's pod has a sandbox but no container
    sbs = sandboxes(containerd, "default", static_name("badimage"))
    assert len(sbs) == 1
    assert containers(containerd, [sbs[0][0]]) == []
    for f in ("empty.yaml", "noname.yaml", "badimage.yaml", "good.yaml"):
        remove_manifest(es, f)
    for n in ("badimage", "good"):
        wait_for(lambda: not sandboxes(containerd, "default",
                                       static_name(n)),
                 what="%s removed" % n)
