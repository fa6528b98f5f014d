# SPDX-License-Identifier: Apache-2.0
"""The local Kubernetes read API served from the store, with no cluster at
all: objects planted in the store while edgesite is stopped are what real
kubectl sees (get pods -A, one pod as YAML, label and field selectors,
nodes, the printed columns, get --raw), and what raw requests see
(discovery, lists with kind, apiVersion and the store's revision, paging,
Tables, Status errors, watches from the start or from a revision the store
no longer keeps, bookmarks and timeouts)."""
import json
import os
import re

from localapi import Watch, kubectl, node, plant, pod

import pytest

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture
def site(edgesite_factory):
    """An edgesite whose store holds four pods in two namespaces, a node,
    a configmap, a secret and a device, then started."""
    es = edgesite_factory()
    es.rev = plant(es, {
        "o/pods/default/web-1": pod("web-1", labels={"app": "web"}),
        "o/pods/default/web-2": pod("web-2", labels={"app": "web"},
                                    phase="Pending", ready=False),
        "o/pods/default/db-1": pod("db-1", labels={"app": "db",
                                                   "tier": "back"},
                                   restarts=3),
        "o/pods/other/web-3": pod("web-3", ns="other",
                                  labels={"app": "web"}),
        "o/nodes//edge-1": node("edge-1"),
        "o/configmaps/default/cfg": {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "default",
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "data": {"a": "1", "b": "2"}},
        "o/secrets/default/sec": {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "sec", "namespace": "default",
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "data": {"k": "dg=="}},
        "o/devices.devices.kubeedge.io/default/thermo": {
            "apiVersion": "devices.kubeedge.io/v1alpha1", "kind": "Device",
            "metadata": {"name": "thermo", "namespace": "default",
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {}},
    })
    es.start()
    return es


def get_json(es, path, headers=None, want=200):
    status, hdrs, body = es.get(path, headers=headers)
    assert status == want, (path, status, body)
    assert hdrs.get("Content-Type", "").startswith("application/json")
    return json.loads(body)


def table_rows(text):
    """kubectl's printed table as a list of column lists."""
    return [re.split(r"\s{2,}", line.strip())
            for line in text.strip().splitlines()]


def test_discovery(site):
    v = get_json(site, "/version")
    assert v["major"] == "1" and v["gitVersion"].startswith("v1.")
    assert get_json(site, "/api")["versions"] == ["v1"]
    core = get_json(site, "/api/v1")
    assert core["kind"] == "APIResourceList"
    names = {r["name"]: r for r in core["resources"]}
    for res in ("pods", "configmaps", "secrets", "services", "endpoints",
                "nodes", "events"):
        assert names[res]["verbs"] == ["get", "list", "watch"], res
    assert names["pods"]["namespaced"] and not names["nodes"]["namespaced"]
    assert "po" in names["pods"]["shortNames"]
    groups = {g["name"]: g for g in get_json(site, "/apis")["groups"]}
    assert set(groups) >= {"coordination.k8s.io", "devices.kubeedge.io"}
    assert (groups["devices.kubeedge.io"]["preferredVersion"]["version"] ==
            "v1alpha1")
    dev = get_json(site, "/apis/devices.kubeedge.io/v1alpha1")
    assert {r["name"] for r in dev["resources"]} == {"devices",
                                                    "devicemodels"}
    lease = get_json(site, "/apis/coordination.k8s.io/v1")
    assert lease["resources"][0]["kind"] == "Lease"
    assert get_json(site, "/apis/coordination.k8s.io")["kind"] == "APIGroup"
    assert get_json(site, "/openapi/v3") == {"paths": {}}
    st = get_json(site, "/apis/nosuch.io/v1", want=404)
    assert st["kind"] == "Status" and st["reason"] == "NotFound"


def test_kubectl_get_pods_all_namespaces(site):
    rows = table_rows(kubectl(site, "get", "pods", "-A"))
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS",
                       "AGE"]
    got = {(r[0], r[1]): r for r in rows[1:]}
    assert set(got) == {("default", "web-1"), ("default", "web-2"),
                        ("default", "db-1"), ("other", "web-3")}
    assert got[("default", "web-1")][2:4] == ["1/1", "Running"]
    assert got[("default", "web-2")][2:4] == ["0/1", "Pending"]
    assert got[("default", "db-1")][4] == "3"
    assert re.match(r"^\d+d$", got[("default", "db-1")][5])


def test_kubectl_wide_and_nodes(site):
    rows = table_rows(kubectl(site, "get", "pods", "-o", "wide"))
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP",
                       "NODE", "NOMINATED NODE", "READINESS GATES"]
    assert len(rows) == 4
    assert rows[1][5:7] == ["10.1.0.1", "edge-1"]
    rows = table_rows(kubectl(site, "get", "nodes"))
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert rows[1][:3] == ["edge-1", "Ready", "edge"]
    assert rows[1][4] == "v1.31.0"
    rows = table_rows(kubectl(site, "get", "configmaps,secrets"))
    assert rows[0] == ["NAME", "DATA", "AGE"]
    assert rows[1][:2] == ["configmap/cfg", "2"]
    assert ["NAME", "TYPE", "DATA", "AGE"] in rows
    assert ["secret/sec", "Opaque", "1"] == [r for r in rows
                                             if r[0] == "secret/sec"][0][:3]
    rows = table_rows(kubectl(site, "get", "devices"))
    assert rows[0] == ["NAME", "AGE"] and rows[1][0] == "thermo"


def test_kubectl_get_one_pod_as_yaml(site):
    out = kubectl(site, "get", "pod", "db-1", "-o", "json")
    obj = json.loads(out)
    assert obj["metadata"]["name"] == "db-1"
    assert obj["metadata"]["labels"] == {"app": "db", "tier": "back"}
    # the upstream resourceVersion is replaced by the local revision
    assert obj["metadata"]["resourceVersion"] != "123456"
    assert 1 <= int(obj["metadata"]["resourceVersion"]) <= site.rev
    out = kubectl(site, "get", "pod", "db-1", "-o", "yaml")
    assert "name: db-1" in out and "kind: Pod" in out
    r = kubectl(site, "get", "pod", "nosuch", check=False)
    assert r.returncode != 0
    assert 'pods "nosuch" not found' in r.stderr


def test_kubectl_selectors(site):
    rows = table_rows(kubectl(site, "get", "pods", "-A", "-l", "app=web"))
    assert {r[1] for r in rows[1:]} == {"web-1", "web-2", "web-3"}
    rows = table_rows(kubectl(site, "get", "pods", "-l",
                              "app in (db),tier"))
    assert [r[0] for r in rows[1:]] == ["db-1"]
    rows = table_rows(kubectl(site, "get", "pods", "-A",
                              "--field-selector", "status.phase=Running"))
    assert {r[1] for r in rows[1:]} == {"web-1", "db-1", "web-3"}
    rows = table_rows(kubectl(site, "get", "pods", "-l", "app!=web,!tier"))
    assert rows == [] or len(rows) == 1
    r = kubectl(site, "get", "pods", "-l", "app in (web", check=False)
    assert r.returncode != 0 and "BadRequest" in r.stderr


def test_kubectl_raw_healthz(site):
    assert kubectl(site, "get", "--raw", "/healthz").strip() == "ok"


def test_list_json(site):
    lst = get_json(site, "/api/v1/pods")
    assert lst["kind"] == "PodList" and lst["apiVersion"] == "v1"
    assert lst["metadata"]["resourceVersion"] == str(site.rev)
    assert len(lst["items"]) == 4
    for item in lst["items"]:
        assert int(item["metadata"]["resourceVersion"]) <= site.rev
    lst = get_json(site, "/api/v1/namespaces/other/pods")
    assert [i["metadata"]["name"] for i in lst["items"]] == ["web-3"]
    lst = get_json(site, "/api/v1/pods?fieldSelector=metadata.namespace%3D"
                   "default,spec.nodeName%3Dedge-1&labelSelector=app")
    assert len(lst["items"]) == 3
    lst = get_json(site, "/api/v1/nodes")
    assert lst["kind"] == "NodeList"
    assert lst["items"][0]["metadata"]["name"] == "edge-1"
    lst = get_json(site, "/apis/devices.kubeedge.io/v1alpha1/devices")
    assert lst["kind"] == "DeviceList"
    assert lst["apiVersion"] == "devices.kubeedge.io/v1alpha1"
    one = get_json(site, "/api/v1/namespaces/default/configmaps/cfg")
    assert one["data"] == {"a": "1", "b": "2"}


def test_paging(site):
    names, cont, pages = [], "", 0
    while True:
        lst = get_json(site, "/api/v1/pods?limit=3" +
                       ("&continue=" + cont if cont else ""))
        pages += 1
        names += [i["metadata"]["name"] for i in lst["items"]]
        assert lst["metadata"]["resourceVersion"] == str(site.rev)
        cont = lst["metadata"].get("continue")
        if not cont:
            break
    assert pages == 2 and len(names) == 4 and len(set(names)) == 4
    st = get_json(site, "/api/v1/pods?limit=1&continue=zz", want=400)
    assert st["reason"] == "BadRequest"


def test_table(site):
    t = get_json(site, "/api/v1/namespaces/default/pods",
                 headers={"Accept": TABLE})
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    cols = [c["name"] for c in t["columnDefinitions"]]
    assert cols[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert [c["priority"] for c in t["columnDefinitions"]][5:] == [1] * 4
    assert len(t["rows"]) == 3
    row = t["rows"][0]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["namespace"] == "default"
    t = get_json(site, "/api/v1/namespaces/default/secrets/sec",
                 headers={"Accept": TABLE})
    assert [c["name"] for c in t["columnDefinitions"]] == ["Name", "Type",
                                                           "Data", "Age"]
    assert t["rows"][0]["cells"][:3] == ["sec", "Opaque", 1]


def test_errors(site):
    st = get_json(site, "/api/v1/namespaces/default/pods/nosuch", want=404)
    assert st["kind"] == "Status" and st["code"] == 404
    assert st["reason"] == "NotFound"
    assert st["message"] == 'pods "nosuch" not found'
    st = get_json(site, "/api/v1/pods?labelSelector=a%3D%3D%3Db", want=400)
    assert st["reason"] == "BadRequest"
    st = get_json(site, "/api/v1/pods?fieldSelector=spec.bogus%3D1",
                  want=400)
    assert "field label not supported" in st["message"]
    st = get_json(site, "/api/v1/nodes?fieldSelector=status.phase%3DX",
                  want=400)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        status, hdrs, body = site.get("/api/v1/namespaces/default/pods",
                                      method=method, body=b"{}")
        assert status == 405, method
        assert json.loads(body)["reason"] == "MethodNotAllowed"
    get_json(site, "/api/v1/namespaces/default/nodes", want=404)
    get_json(site, "/api/v2/pods", want=404)


def test_watch_from_start_with_bookmark(site):
    w = Watch(site, "/api/v1/namespaces/default/pods?watch=1&labelSelector="
              "app%3Dweb&timeoutSeconds=1&allowWatchBookmarks=true")
    assert w.status == 200
    assert b"chunked" in w.head.lower()
    evs = w.events_until_end()
    w.close()
    added = [e for e in evs if e["type"] == "ADDED"]
    assert sorted(e["object"]["metadata"]["name"] for e in added) == [
        "web-1", "web-2"]
    # the timeout ends the stream after a bookmark at the store's revision
    assert evs[-1]["type"] == "BOOKMARK"
    assert evs[-1]["object"]["metadata"]["resourceVersion"] == str(site.rev)


def test_watch_too_old_is_gone(site):
    # the store was planted, so its change log starts at its revision
    w = Watch(site, "/api/v1/pods?watch=1&resourceVersion=1")
    evs = w.events_until_end()
    w.close()
    assert len(evs) == 1 and evs[0]["type"] == "ERROR"
    st = evs[0]["object"]
    assert st["kind"] == "Status" and st["code"] == 410
    assert st["reason"] == "Expired"
    # a revision from the future is not served either
    w = Watch(site, "/api/v1/pods?watch=1&resourceVersion=%d" %
              (site.rev + 100))
    assert w.events_until_end()[0]["object"]["code"] == 410
    w.close()
    # at the list's revision: nothing to replay, the timeout ends it
    w = Watch(site, "/api/v1/pods?watch=1&resourceVersion=%d&"
              "timeoutSeconds=1" % site.rev)
    assert w.events_until_end() == []
    w.close()
    assert site.stop() == 0
