# SPDX-License-Identifier: Apache-2.0
"""Warnings an operator needs, told the same way by `edgesite -n` and at
startup, never fatal: secrets others can read, a state directory open to
others, insecure-skip-tls-verify, the internal broker letting anonymous
clients in beyond loopback. A configuration without them says nothing."""
import os

from conftest import free_port, run_edgesite

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:%d
    insecure-skip-tls-verify: %s
users:
- name: u
  user:
    tokenFile: %s
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
"""

WARNINGS = [
    r"controller.kube.kubeconfig {d}/kubeconfig can be read by its group "
    r"(mode 0640), and it holds a secret",
    r"edgesite.state-dir {d}/state is open to others (mode 0755)",
    r"mqtt.internal-server tcp://0.0.0.0:{mqtt} listens beyond loopback and "
    r"mqtt.allow-anonymous is true",
    r"kubeconfig {d}/kubeconfig: insecure-skip-tls-verify is true",
    r"tokenFile of the kubeconfig {d}/token can be read by every user "
    r"(mode 0644)",
]


def configure(es, unsafe):
    """Writes es's config: every warning when unsafe, none otherwise."""
    d = str(es.tmp)
    token = os.path.join(d, "token")
    with open(token, "w") as f:
        f.write("abc\n")
    os.chmod(token, 0o644 if unsafe else 0o600)
    kc = os.path.join(d, "kubeconfig")
    with open(kc, "w") as f:
        f.write(KUBECONFIG % (free_port(), "true" if unsafe else "false",
                              token))
    os.chmod(kc, 0o640 if unsafe else 0o600)
    os.makedirs(es.state_dir, exist_ok=True)
    os.chmod(es.state_dir, 0o755 if unsafe else 0o700)
    es.write_conf("controller:\n  kube:\n    kubeconfig: %s\n"
                  "mqtt:\n  internal-server: tcp://%s:%d\n" % (
                      kc, "0.0.0.0" if unsafe else "127.0.0.1",
                      es.mqtt_port))
    return [w.format(d=d, mqtt=es.mqtt_port) for w in WARNINGS]


def test_warnings_in_check_and_at_startup(edgesite_factory):
    es = edgesite_factory()
    want = configure(es, unsafe=True)
    r = run_edgesite("-n", "-c", es.conf_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "configuration OK"
    told = [l.split(" warning: ", 1)[1] for l in r.stderr.splitlines()
            if " warning: " in l]
    for w in want:
        assert any(t.startswith(w) for t in told), (w, r.stderr)
    assert len(told) == len(want), r.stderr

    es.start()
    log = es.log()
    for w in want:
        assert " warning: " + w in log, (w, log)
    assert es.get("/healthz")[0] == 200


def test_no_warnings_when_safe(edgesite_factory):
    es = edgesite_factory()
    configure(es, unsafe=False)
    r = run_edgesite("-n", "-c", es.conf_path)
    assert r.returncode == 0, r.stderr
    assert " warning: " not in r.stderr, r.stderr
