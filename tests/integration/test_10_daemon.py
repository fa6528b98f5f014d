# SPDX-License-Identifier: Apache-2.0
"""The daemon: options, configuration checks, signals, systemd
notification, the state directory lock."""
import glob
import os
import signal
import socket
import time

import pytest

from conftest import TOP, run_edgesite, free_port


def test_version_lists_libraries():
    r = run_edgesite("-V")
    assert r.returncode == 0
    first = r.stdout.splitlines()[0]
    assert first.startswith("edgesite ")
    for lib in ("libevent", "libevhtp", "cjson", "libyaml", "leveldb",
                "libmosquitto", "openssl", "nghttp2", "protobuf-c"):
        assert ("\n%s " % lib) in r.stdout, lib


def test_usage_on_bad_flag():
    r = run_edgesite("-x")
    assert r.returncode == 1
    assert "usage: edgesite" in r.stderr


def test_sample_config_is_ok():
    r = run_edgesite("-n", "-c", os.path.join(TOP, "conf", "edgeSite.yaml"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "configuration OK"


@pytest.mark.parametrize("path", sorted(glob.glob(
    os.path.join(TOP, "tests", "conf", "good", "*.yaml"))),
    ids=os.path.basename)
def test_good_configs(path):
    r = run_edgesite("-n", "-c", path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "configuration OK"


def test_edgesite_document_layout_warns_for_ignored_keys():
    path = os.path.join(TOP, "tests", "conf", "good", "edgesite-doc.yaml")
    r = run_edgesite("-n", "-c", path)
    assert r.returncode == 0
    assert "metamanager" in r.stderr and "ignored" in r.stderr
    assert "docker-address" in r.stderr


@pytest.mark.parametrize("path", sorted(glob.glob(
    os.path.join(TOP, "tests", "conf", "bad", "*.yaml"))),
    ids=os.path.basename)
def test_bad_configs(path):
    r = run_edgesite("-n", "-c", path)
    assert r.returncode == 1
    assert "configuration OK" not in r.stdout
    with open(path[:-len(".yaml")] + ".expect") as f:
        expected = [l.replace("FILE", path) for l in f.read().splitlines()
                    if l.strip()]
    errors = [l for l in r.stderr.splitlines()
              if not l.startswith("warning: ")]
    assert errors == expected


def test_missing_config_file(tmp_path):
    r = run_edgesite("-n", "-c", str(tmp_path / "nope.yaml"))
    assert r.returncode == 1
    assert str(tmp_path / "nope.yaml") in r.stderr


def test_empty_file_is_a_standalone_config(tmp_path):
    p = tmp_path / "empty.yaml"
    p.write_text("# nothing\n")
    r = run_edgesite("-n", "-c", str(p))
    assert r.returncode == 0, r.stderr


def test_sigterm_exits_zero(edgesite):
    assert edgesite.stop(signal.SIGTERM) == 0
    assert "SIGTERM: stopping" in edgesite.log()
    assert "stopped" in edgesite.log()


def test_sigint_exits_zero(edgesite):
    assert edgesite.stop(signal.SIGINT) == 0


def test_sigpipe_ignored(edgesite):
    edgesite.send(signal.SIGPIPE)
    time.sleep(0.2)
    assert edgesite.proc.poll() is None
    assert edgesite.get("/healthz")[0] == 200


def test_usr1_dumps_state(edgesite):
    edgesite.send(signal.SIGUSR1)
    edgesite.wait_log(r"state: store .*revision \d+")
    edgesite.wait_log(r"state: part api: ok")
    assert edgesite.get("/healthz")[0] == 200


def test_second_instance_refused(edgesite, edgesite_factory):
    other = edgesite_factory(state_dir=edgesite.state_dir)
    other.start(wait=False)
    assert other.proc.wait(10) == 1
    assert "in use by another edgesite" in other.log()
    assert edgesite.state_dir in other.log()
    assert edgesite.get("/healthz")[0] == 200


def test_unopenable_state_dir(edgesite_factory, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    es = edgesite_factory(state_dir=str(blocker / "state"))
    es.start(wait=False)
    assert es.proc.wait(10) == 1
    assert str(blocker) in es.log()


def test_listen_address_in_use(edgesite, edgesite_factory):
    other = edgesite_factory(port=edgesite.port)
    other.start(wait=False)
    assert other.proc.wait(10) == 1
    assert "127.0.0.1:%d" % edgesite.port in other.log()


def test_reload_good_config_applies_live_options(edgesite):
    edgesite.write_conf()
    text = open(edgesite.conf_path).read().replace(
        "log-level: debug", "log-level: warn")
    text += "edged:\n  cluster-domain: example.local\n"
    with open(edgesite.conf_path, "w") as f:
        f.write(text)
    edgesite.send(signal.SIGHUP)
    edgesite.wait_log(r'reload: edgesite.log-level changed from "debug" '
                      r'to "warn"')
    edgesite.wait_log(r"reload: edged.cluster-domain changed .*needs a "
                      r"restart")
    status, _, body = edgesite.get("/debug/config")
    assert status == 200
    assert b'"edgesite.log-level":\t"warn"' in body or \
        b'"edgesite.log-level":"warn"' in body


def test_reload_bad_config_keeps_running(edgesite):
    with open(edgesite.conf_path, "a") as f:
        f.write("bogus-key: 1\n")
    edgesite.send(signal.SIGHUP)
    edgesite.wait_log(r'unknown key "bogus-key"')
    edgesite.wait_log(r"keeping the running configuration")
    assert edgesite.proc.poll() is None
    assert edgesite.get("/healthz")[0] == 200


def test_systemd_notify(edgesite_factory, tmp_path):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    os.environ["NOTIFY_SOCKET"] = path
    try:
        es = edgesite_factory().start(wait=False)
    finally:
        del os.environ["NOTIFY_SOCKET"]
    assert sock.recv(256) == b"READY=1"
    # READY comes only once the endpoint serves
    assert es.get("/healthz")[0] == 200
    es.proc.send_signal(signal.SIGTERM)
    assert sock.recv(256) == b"STOPPING=1"
    assert es.proc.wait(10) == 0
    sock.close()
