"""Applying an svndiff delta (what ``svnrdump dump`` sends as a file's text) to its source.

The format is in subversion/libsvn_delta/svndiff.c: ``SVN`` and a version byte, then windows
of (source offset, source length, target length, instructions length, new data length),
each a 7-bit varint, followed by the instructions and the new data. Version 1 compresses both
sections with zlib; version 2 (LZ4) is not read here.
"""

from __future__ import annotations

import zlib

from hyperscale.errors import ExternalSystemError

_COPY_SOURCE, _COPY_TARGET, _NEW_DATA = 0, 1, 2


def _varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos


def _section(data: bytes, version: int) -> bytes:
    if version == 0:
        return data
    original, pos = _varint(data, 0)
    body = data[pos:]
    return body if len(body) == original else zlib.decompress(body)


def apply_delta(source: bytes, delta: bytes) -> bytes:
    if not delta.startswith(b"SVN") or len(delta) < len(b"SVN") + 1:
        raise ExternalSystemError("a file's delta in the dump stream is not svndiff")
    version = delta[3]
    if version not in (0, 1):
        raise ExternalSystemError(
            f"svndiff version {version} is not supported",
            hint="dump with an svn that writes svndiff 0 or 1 (svnrdump does)",
        )
    out = bytearray()
    pos = 4
    while pos < len(delta):
        src_offset, pos = _varint(delta, pos)
        src_length, pos = _varint(delta, pos)
        target_length, pos = _varint(delta, pos)
        ins_length, pos = _varint(delta, pos)
        new_length, pos = _varint(delta, pos)
        instructions = _section(delta[pos : pos + ins_length], version)
        pos += ins_length
        new_data = _section(delta[pos : pos + new_length], version)
        pos += new_length
        window_source = source[src_offset : src_offset + src_length]
        out += _window(window_source, instructions, new_data, target_length)
    return bytes(out)


def _window(source: bytes, instructions: bytes, new_data: bytes, target_length: int) -> bytes:
    target = bytearray()
    ip = 0
    new_pos = 0
    while ip < len(instructions):
        head = instructions[ip]
        ip += 1
        action, length = head >> 6, head & 0x3F
        if length == 0:
            length, ip = _varint(instructions, ip)
        if action == _NEW_DATA:
            target += new_data[new_pos : new_pos + length]
            new_pos += length
            continue
        if action not in (_COPY_SOURCE, _COPY_TARGET):
            raise ExternalSystemError("a delta in the dump stream has an unknown instruction")
        offset, ip = _varint(instructions, ip)
        if action == _COPY_SOURCE:
            target += source[offset : offset + length]
        elif offset + length <= len(target):
            target += target[offset : offset + length]
        else:  # a copy that overlaps what it writes repeats a pattern, byte by byte
            for i in range(length):
                target.append(target[offset + i])
    if len(target) != target_length:
        raise ExternalSystemError("a delta in the dump stream does not add up")
    return bytes(target)
