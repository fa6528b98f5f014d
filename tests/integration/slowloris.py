# SPDX-License-Identifier: Apache-2.0
"""A slowloris for the local endpoint, run as its own process so that the
test's probes are timed apart from it: N connections that each send a
request line a byte at a time, one byte every PERIOD seconds, and open a
new connection for each one the server closes. Raises its descriptor limit
to fit. On its end it prints what it saw as one JSON line.

usage: slowloris.py HOST PORT N PERIOD SECONDS"""
import json
import resource
import selectors
import socket
import sys
import time

PAYLOAD = b"GET /api/v1/pods HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 4096


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    n, period, secs = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, n + 256)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    sel = selectors.DefaultSelector()
    conns = {}
    st = {"opened": 0, "closed_by_server": 0, "open_failed": 0,
          "bytes_sent": 0, "max_open": 0}

    def drop(s):
        sel.unregister(s)
        del conns[s]
        s.close()

    deadline = time.time() + secs
    tick = time.time()
    while time.time() < deadline:
        for _ in range(min(250, n - len(conns))):
            s = socket.socket()
            s.setblocking(False)
            err = s.connect_ex((host, port))
            if err not in (0, 115):     # EINPROGRESS
                st["open_failed"] += 1
                s.close()
                break
            sel.register(s, selectors.EVENT_READ)
            conns[s] = 0
            st["opened"] += 1
        st["max_open"] = max(st["max_open"], len(conns))
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                d = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = b""
            if not d:
                st["closed_by_server"] += 1
                drop(s)
        if time.time() >= tick:
            tick = time.time() + period
            for s, i in list(conns.items()):
                try:
                    st["bytes_sent"] += s.send(PAYLOAD[i:i + 1])
                    conns[s] = i + 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    st["closed_by_server"] += 1
                    drop(s)
    print(json.dumps(st), flush=True)


if __name__ == "__main__":
    main()
