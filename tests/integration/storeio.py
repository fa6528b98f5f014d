# SPDX-License-Identifier: Apache-2.0
"""Reads and writes edgesite's LevelDB store from a test while edgesite is
stopped, with the value framing of src/store/store_value.c. Version 1:
magic 0xe5, version 1, payload length (u32 BE), CRC-32C over those six
bytes and the payload (u32 BE), the payload, then one NUL. Version 2 (what
edgesite writes now) adds the revision that wrote the value: magic, 2,
length (u32 BE), revision (u64 BE), CRC-32C over those fourteen bytes and
the payload, the payload, NUL. Both are read."""
import os
import struct

import plyvel


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def frame(payload, rev=None):
    """A version 1 frame, or version 2 with revision rev when given."""
    if rev is not None:
        head = struct.pack(">BBIQ", 0xE5, 2, len(payload), rev)
        return (head + struct.pack(">I", crc32c(head + payload)) + payload +
                b"\0")
    head = struct.pack(">BBI", 0xE5, 1, len(payload))
    return head + struct.pack(">I", crc32c(head + payload)) + payload + b"\0"


def unframe_rev(raw):
    """(payload, revision) of a frame of either version (revision 0 for
    version 1)."""
    magic, ver = struct.unpack(">BB", raw[:2])
    assert magic == 0xE5 and ver in (1, 2), "bad header"
    if ver == 1:
        n, crc = struct.unpack(">II", raw[2:10])
        payload, rev, sumlen = raw[10:10 + n], 0, 6
    else:
        n, rev, crc = struct.unpack(">IQI", raw[2:18])
        payload, sumlen = raw[18:18 + n], 14
    assert crc == crc32c(raw[:sumlen] + payload), "bad checksum"
    return payload, rev


def unframe(raw):
    return unframe_rev(raw)[0]


def open_store(state_dir):
    return plyvel.DB(os.path.join(state_dir, "store"), create_if_missing=False)
