# SPDX-License-Identifier: Apache-2.0
"""Store integrity: a damaged store is never shrunk or replaced without a
word. A flipped bit in LevelDB's log and a lost CURRENT refuse the start
and leave every file in place; `edgesite --repair` recovers what can be
read and reports it per key family; a table damaged while running makes
/readyz degraded, is counted on /metrics and logged once per file."""
import glob
import http.client
import json
import os
import re
import signal
import time

from conftest import run_edgesite
from storeio import frame, open_store, unframe_rev

N = 2000


def fill(es, compact, extra=None):
    """Stops es and writes N configmaps (and extra keys) into its store,
    into a table when compact, else left in LevelDB's log."""
    assert es.stop(signal.SIGTERM) == 0
    db = open_store(es.state_dir)
    rev = 100
    for i in range(N):
        body = json.dumps({"metadata": {"name": "cm%04d" % i,
                                        "namespace": "ns"},
                           "data": {"k": "v" * 64}}).encode()
        db.put(b"o/configmaps/ns/cm%04d" % i, frame(body, rev=rev))
    for k, v in (extra or {}).items():
        db.put(k, frame(v, rev=rev))
    db.put(b"r", frame(b"%d" % rev, rev=rev))
    if compact:
        db.compact_range()
    db.close()


def count(state_dir, prefix):
    db = open_store(state_dir)
    n = sum(1 for _ in db.iterator(prefix=prefix, include_value=False))
    db.close()
    return n


def files(state_dir):
    d = os.path.join(state_dir, "store")
    return {f: os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
            if f not in ("LOG", "LOG.old", "LOCK")}


def start_fails(es):
    """Starts es and waits for it to exit; returns its exit status."""
    es.start(wait=False)
    try:
        return es.proc.wait(15)
    finally:
        es.logf.close()


def repair(es):
    r = run_edgesite("-c", es.conf_path, "--repair", timeout=60)
    return r.returncode, r.stderr


def test_log_bit_flip_refuses_start_then_repair_reports(edgesite):
    fill(edgesite, compact=False)
    logs = glob.glob(os.path.join(edgesite.state_dir, "store", "*.log"))
    big = max(logs, key=os.path.getsize)
    assert os.path.getsize(big) > 100000
    with open(big, "r+b") as f:
        f.seek(os.path.getsize(big) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0x10]))
    before = files(edgesite.state_dir)

    assert start_fails(edgesite) == 1
    log = edgesite.log()
    assert "cannot open the store" in log and "Corruption" in log
    assert "edgesite --repair" in log
    assert files(edgesite.state_dir) == before   # nothing replaced

    rc, out = repair(edgesite)
    assert rc == 0, out
    # LevelDB's repair verifies no log checksum and would keep the damaged
    # record: our own reading of the log finds it, and the key it wrote
    # (damaged or not) is deleted and named
    assert "repair: 1 records of LevelDB's log fail their checksum" in out
    suspects = re.findall(r"repair: (.*): written by a damaged log record, "
                          r"deleted", out)
    assert len(suspects) == 1, out
    m = re.search(r"repair: objects \(the relist restores them\): (\d+) "
                  r"kept; how many there were before cannot be counted", out)
    assert m, out
    kept = int(m.group(1))
    assert kept == N - 1
    assert count(edgesite.state_dir, b"o/configmaps/") == kept
    # nothing of it is left under any name
    assert count(edgesite.state_dir, b"") == kept + 2   # and r, k

    edgesite.start()
    status, _, body = edgesite.get("/readyz?verbose")
    assert status == 200 and b"[+]store ok" in body, body
    _, _, body = edgesite.get("/api/v1/configmaps")
    assert len(json.loads(body)["items"]) == kept


def test_lost_current_refuses_start_then_repair_restores(edgesite):
    extra = {b"x/pods/ns/a": b"{}", b"x/pods/ns/b": b"{}",
             b"s/ns/static": b"{}", b"v/configmaps": b"12345"}
    fill(edgesite, compact=True, extra=extra)
    assert glob.glob(os.path.join(edgesite.state_dir, "store", "*.ldb"))
    os.unlink(os.path.join(edgesite.state_dir, "store", "CURRENT"))
    before = files(edgesite.state_dir)

    assert start_fails(edgesite) == 1
    log = edgesite.log()
    assert "CURRENT is missing" in log and "edgesite --repair" in log
    assert files(edgesite.state_dir) == before   # nothing created over it

    rc, out = repair(edgesite)
    assert rc == 0, out
    assert re.search(r"repair: outbox \(upstream writes not yet sent\): 2 "
                     r"kept", out), out
    assert re.search(r"repair: static pods: 1 kept", out), out
    assert "repair: 1 resume points deleted: every reflector lists again" \
        in out
    assert count(edgesite.state_dir, b"o/configmaps/") == N
    assert count(edgesite.state_dir, b"v/") == 0
    db = open_store(edgesite.state_dir)
    # the revision moved past every value's, the change log restarts there
    rev = int(unframe_rev(db.get(b"r"))[0])
    assert 100 < int(unframe_rev(db.get(b"k"))[0]) <= rev
    db.close()

    edgesite.start()
    _, _, body = edgesite.get("/api/v1/configmaps")
    assert len(json.loads(body)["items"]) == N
    assert b"[+]store ok" in edgesite.get("/readyz?verbose")[2]


def test_damaged_table_while_running_degrades(edgesite):
    fill(edgesite, compact=True)
    tables = glob.glob(os.path.join(edgesite.state_dir, "store", "*.ldb"))
    table = max(tables, key=os.path.getsize)
    name = os.path.basename(table)
    edgesite.start()
    assert b"[+]store ok" in edgesite.get("/readyz?verbose")[2]
    assert edgesite.metric("edgesite_store_corruption_errors_total") == 0
    assert edgesite.metric("edgesite_store_damaged") == 0

    with open(table, "r+b") as f:
        f.seek(os.path.getsize(table) // 3)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0x01]))
    for _ in range(3):
        # a LIST is streamed: damage met after its first bytes cuts it
        # (the client sees an incomplete body, never a short list)
        try:
            status, _, _ = edgesite.get("/api/v1/configmaps")
            assert status == 500, status
        except http.client.IncompleteRead:
            pass
    status, _, body = edgesite.get("/readyz?verbose")
    assert status == 200, body
    # LevelDB 1.23 names no file for a block checksum mismatch: the
    # text stands for it, and is logged once however often it is met
    assert re.search(rb"\[\+\]store degraded: damaged: (" + name.encode() +
                     rb"|block checksum mismatch); run edgesite --repair",
                     body), body
    assert edgesite.metric("edgesite_store_corruption_errors_total") >= 3
    assert edgesite.metric("edgesite_store_damaged") == 1
    assert len(re.findall(r"store: scan: .* is damaged \(Corruption: ",
                          edgesite.log())) == 1

    assert edgesite.stop(signal.SIGTERM) == 0
    rc, out = repair(edgesite)
    assert rc == 0, out
    m = re.search(r"repair: objects \(the relist restores them\): (\d+) "
                  r"kept", out)
    assert m, out
    kept = int(m.group(1))
    assert 0 < kept < N
    assert "the scan stopped at damage" in out
    assert "repair: blocks that fail their checksum were left behind" in out
    # the old files are kept aside, the damaged table among them
    aside = re.search(r"the old files are kept in (\S+) ", out).group(1)
    assert os.path.exists(os.path.join(aside, name))

    edgesite.start()
    assert b"[+]store ok" in edgesite.get("/readyz?verbose")[2]
    _, _, body = edgesite.get("/api/v1/configmaps")
    assert len(json.loads(body)["items"]) == kept
    assert edgesite.metric("edgesite_store_corruption_errors_total") == 0


def test_repair_without_a_store(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("edgesite:\n  state-dir: %s\n" % (tmp_path / "none"))
    r = run_edgesite("-c", str(conf), "--repair")
    assert r.returncode == 1
    assert "nothing to repair" in r.stderr
    assert not (tmp_path / "none").exists()


def test_repair_refused_while_running(edgesite):
    rc, out = repair(edgesite)
    assert rc == 1
    assert "is in use by another edgesite (pid %d)" % edgesite.proc.pid in out
    assert "repair: leveldb:" not in out
    assert edgesite.get("/readyz")[0] == 200
