# SPDX-License-Identifier: Apache-2.0
"""Who may connect to the local read API. Listening beyond loopback without
TLS and a bearer token refuses to start and says why. With them, in a
network namespace of the test's own (so the address, 192.0.2.1, is not a
loopback one and reaches nothing outside), clients without the token are
answered 401 on everything but the health paths and are never served a
secret; with the token, raw HTTPS, a watch and real kubectl work."""
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import edgesite_bin, run_edgesite
from harness import missing
from localapi import kubectl_path, plant, pod

ADDR = "192.0.2.1"
TOKEN = "s3cret-token-for-tests"


def write_conf(path, state, listen, extra=""):
    with open(path, "w") as f:
        f.write("edgesite:\n  state-dir: %s\n  listen: %s\n"
                "  log-level: debug\n%s" % (state, listen, extra))


def make_cert(d):
    """A self-signed certificate for ADDR; returns (cert, key) paths."""
    crt, key = os.path.join(d, "api.crt"), os.path.join(d, "api.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=edgesite-local-api",
                    "-addext", "subjectAltName=IP:" + ADDR],
                   check=True, capture_output=True)
    return crt, key


def test_remote_needs_tls_and_token(tmp_path):
    conf = str(tmp_path / "e.yaml")
    state = str(tmp_path / "state")
    crt, key = make_cert(str(tmp_path))
    tok = tmp_path / "token"
    tok.write_text(TOKEN + "\n")
    cases = [
        ("", "needs TLS and bearer tokens"),
        ("  tls-cert: %s\n  tls-key: %s\n" % (crt, key),
         "needs TLS and bearer tokens"),
        ("  token-file: %s\n" % tok, "needs TLS and bearer tokens"),
        ("  tls-cert: %s\n  tls-key: %s\n  token-file: %s\n" % (
            crt, str(tmp_path / "nokey"), tok), "nokey"),
        ("  tls-cert: %s\n  tls-key: %s\n  token-file: %s\n" % (
            crt, key, str(tmp_path / "notoken")), "token file"),
    ]
    for extra, why in cases:
        write_conf(conf, state, "%s:10550" % ADDR, extra)
        r = run_edgesite("-c", conf)
        assert r.returncode == 1, (extra, r.stdout, r.stderr)
        assert why in r.stderr, (extra, r.stderr)
        assert "local api" in r.stderr


def fetch(url, ctx, token=None, timeout=10):
    """(status, body) of a GET."""
    req = urllib.request.Request(url)
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def inside(args):
    """In the network namespace: starts edgesite on ADDR, asks it as
    remote clients would, prints what it saw as JSON, stops edgesite."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", ADDR + "/32", "dev", "lo"],
                   check=True)
    logf = open(args["log"], "ab")
    proc = subprocess.Popen([args["bin"], "-c", args["conf"]], stdout=logf,
                            stderr=subprocess.STDOUT)
    base = "https://%s:%d" % (ADDR, args["port"])
    ctx = ssl.create_default_context(cafile=args["crt"])
    out = {}
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if fetch(base + "/healthz", ctx)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        out["healthz"] = fetch(base + "/healthz", ctx)[0]
        for name, path in (("secret", "/api/v1/namespaces/default/secrets/"
                            "sec"), ("secrets", "/api/v1/secrets"),
                           ("pods", "/api/v1/pods"),
                           ("watch", "/api/v1/secrets?watch=1"),
                           ("debug", "/debug/store?prefix=o/")):
            st, body = fetch(base + path, ctx)
            out[name + "_anon"] = [st, body.decode(errors="replace")]
            out[name + "_wrong"] = fetch(base + path, ctx, "wrong")[0]
        st, body = fetch(base + "/api/v1/namespaces/default/secrets/sec",
                         ctx, TOKEN)
        out["secret_token"] = [st, json.loads(body)]
        st, body = fetch(base + "/api/v1/namespaces/default/pods?watch=1&"
                         "timeoutSeconds=1", ctx, TOKEN)
        out["watch_token"] = [st, body.decode()]
        try:
            urllib.request.urlopen("http://%s:%d/healthz" % (
                ADDR, args["port"]), timeout=5)
            out["plain"] = "answered"
        except (OSError, urllib.error.URLError) as e:
            out["plain"] = "refused: %s" % e
        k = [args["kubectl"], "--server", base, "--certificate-authority",
             args["crt"], "--cache-dir", args["cache"]]
        r = subprocess.run(k + ["--token", TOKEN, "get", "pods,secrets"],
                           capture_output=True, text=True, timeout=60)
        out["kubectl_token"] = [r.returncode, r.stdout + r.stderr]
        r = subprocess.run(k + ["--token", "wrong", "get", "secrets"],
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        out["kubectl_anon"] = [r.returncode, r.stdout + r.stderr]
    finally:
        proc.terminate()
        out["exit"] = proc.wait(15)
    print(json.dumps(out))


def test_remote_clients(edgesite_factory, tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None or \
            shutil.which("ip") is None:
        missing("needs root, unshare and ip for a namespace")
    es = edgesite_factory()
    plant(es, {
        "o/pods/default/web": pod("web"),
        "o/secrets/default/sec": {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "sec", "namespace": "default"},
            "data": {"password": "aHVudGVyMg=="}},
    })
    crt, key = make_cert(str(tmp_path))
    tok = tmp_path / "token"
    tok.write_text(TOKEN + "\n")
    conf = str(tmp_path / "remote.yaml")
    write_conf(conf, es.state_dir, "%s:%d" % (ADDR, es.port),
               "  tls-cert: %s\n  tls-key: %s\n  token-file: %s\n" % (
                   crt, key, tok))
    args = {"bin": edgesite_bin(), "conf": conf, "port": es.port,
            "crt": crt, "log": es.log_path, "kubectl": kubectl_path(),
            "cache": str(tmp_path / "kcache")}
    r = subprocess.run(["unshare", "-n", sys.executable, __file__,
                        json.dumps(args)], capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stderr + es.log()[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["healthz"] == 200
    for name in ("secret", "secrets", "pods", "watch", "debug"):
        st, body = out[name + "_anon"]
        assert st == 401, (name, st, body)
        assert "aHVudGVyMg" not in body
        assert json.loads(body)["reason"] == "Unauthorized"
        assert out[name + "_wrong"] == 401
    st, obj = out["secret_token"]
    assert st == 200 and obj["data"]["password"] == "aHVudGVyMg=="
    st, body = out["watch_token"]
    assert st == 200
    assert json.loads(body.splitlines()[0])["object"]["metadata"][
        "name"] == "web"
    assert out["plain"].startswith("refused"), out["plain"]
    rc, text = out["kubectl_token"]
    assert rc == 0 and "pod/web" in text and "secret/sec" in text, text
    rc, text = out["kubectl_anon"]
    assert rc != 0 and "Unauthorized" in text, text
    assert "aHVudGVyMg" not in text
    assert out["exit"] == 0
    assert TOKEN not in es.log()


if __name__ == "__main__":
    inside(json.loads(sys.argv[1]))
