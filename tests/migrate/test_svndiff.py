"""The svndiff decoder on deltas written by hand from the format's description (svnrdump's
own deltas are covered end to end by the svn:// test)."""

from __future__ import annotations

import zlib

import pytest

from hyperscale.errors import ExternalSystemError
from hyperscale.migrate.svndiff import apply_delta


def varint(value: int) -> bytes:
    groups = [value & 0x7F]
    while value := value >> 7:
        groups.append(0x80 | (value & 0x7F))
    return bytes(reversed(groups))


def section(data: bytes, version: int) -> bytes:
    if version == 0:
        return data
    packed = zlib.compress(data)
    return varint(len(data)) + (packed if len(packed) < len(data) else data)


def window(source: bytes, target_length: int, ops: bytes, new: bytes, version: int) -> bytes:
    ops, new = section(ops, version), section(new, version)
    head = [0, len(source), target_length, len(ops), len(new)]
    return b"".join(varint(v) for v in head) + ops + new


@pytest.mark.parametrize("version", [0, 1])
def test_copies_from_source_new_data_and_overlapping_target(version: int) -> None:
    source = b"hello world\n"
    new = b"brave new " * 8
    ops = (
        bytes([0x00 | 6]) + varint(0)  # "hello " from the source
        + bytes([0x80 | 0]) + varint(len(new))  # new data, its length in a varint
        + bytes([0x40 | 20]) + varint(len(b"hello ") + len(new) - 2)  # overlapping target copy
    )  # fmt: skip
    target = b"hello " + new
    for _ in range(20):
        target += target[len(target) - 2 : len(target) - 1]
    delta = b"SVN" + bytes([version]) + window(source, len(target), ops, new, version)
    assert apply_delta(source, delta) == target


def test_unsupported_versions_and_garbage_are_clear_errors() -> None:
    with pytest.raises(ExternalSystemError, match="svndiff version 2 is not supported"):
        apply_delta(b"", b"SVN\x02")
    with pytest.raises(ExternalSystemError, match="not svndiff"):
        apply_delta(b"", b"PK\x03\x04")
