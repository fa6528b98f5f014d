"""Reads and writes edgesite's LevelDB store from a test while edgesite is
stopped, with the value framing of src/store/store_value.c: magic 0xe5,
version 1, payload length (u32 BE), CRC-32C over those six bytes and the
payload (u32 BE), the payload, then one NUL."""
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


def frame(payload):
    head = struct.pack(">BBI", 0xE5, 1, len(payload))
    return head + struct.pack(">I", crc32c(head + payload)) + payload + b"\0"


def unframe(raw):
    magic, ver, n, crc = struct.unpack(">BBII", raw[:10])
    payload = raw[10:10 + n]
    assert magic == 0xE5 and ver == 1, "bad header"
    assert crc == crc32c(raw[:6] + payload), "bad checksum"
    return payload


def open_store(state_dir):
    return plyvel.DB(os.path.join(state_dir, "store"), create_if_missing=False)
