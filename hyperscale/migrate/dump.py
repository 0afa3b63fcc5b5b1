"""Reading a Subversion dump stream (svnadmin dump, svnrdump dump): revisions and node
changes, in order, with file texts handed out as a stream of chunks.

The format (subversion/notes/dump-load-format.txt): header lines ``Key: value`` up to a blank
line, then ``Prop-content-length`` bytes of properties and ``Text-content-length`` bytes of
text. Versions 2 (full texts) and 3 (``Text-delta`` / ``Prop-delta``) are both read here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from hyperscale.errors import ExternalSystemError

_CHUNK = 1 << 20


@dataclass
class RevisionRecord:
    number: int
    props: dict[str, str]


@dataclass
class NodeRecord:
    path: str
    #: "file", "dir", or None (a deletion, or a change that does not say).
    kind: str | None
    #: "change", "add", "delete" or "replace".
    action: str
    copyfrom_path: str | None = None
    copyfrom_rev: int | None = None
    #: None when the properties did not change; with ``prop_delta`` a value of None deletes.
    props: dict[str, str | None] | None = None
    prop_delta: bool = False
    #: None when the text did not change.
    text_length: int | None = None
    text_delta: bool = False
    text_md5: str | None = None
    _stream: IO[bytes] | None = field(default=None, repr=False)
    _left: int = field(default=0, repr=False)

    def text_chunks(self) -> Iterator[bytes]:
        """The text (or delta) in pieces; read it before asking for the next record."""
        while self._left > 0:
            assert self._stream is not None  # noqa: S101 - set whenever _left is
            chunk = self._stream.read(min(self._left, _CHUNK))
            if not chunk:
                raise ExternalSystemError(f"the dump stream ended inside the text of {self.path}")
            self._left -= len(chunk)
            yield chunk

    def text(self) -> bytes:
        return b"".join(self.text_chunks())

    def skip_text(self) -> None:
        for _ in self.text_chunks():
            pass


def _headers(stream: IO[bytes]) -> dict[str, str] | None:
    """The next header block, or None at the end of the stream."""
    line = stream.readline()
    while line in (b"\n", b"\r\n"):
        line = stream.readline()
    if not line:
        return None
    headers: dict[str, str] = {}
    while line not in (b"\n", b""):
        key, sep, value = line.decode("utf-8").rstrip("\n").partition(": ")
        if not sep:
            raise ExternalSystemError(f"the dump stream has a malformed header line: {line!r}")
        headers[key] = value
        line = stream.readline()
    return headers


def parse_props(data: bytes) -> dict[str, str | None]:
    """A property block: ``K n/key/V n/value`` pairs, ``D n/key`` deletions, ``PROPS-END``."""
    props: dict[str, str | None] = {}
    pos = 0
    while True:
        end = data.index(b"\n", pos)
        line = data[pos:end]
        pos = end + 1
        if line == b"PROPS-END":
            return props
        kind, _, length = line.partition(b" ")
        key = data[pos : pos + int(length)].decode("utf-8")
        pos += int(length) + 1
        if kind == b"D":
            props[key] = None
            continue
        if kind != b"K":
            raise ExternalSystemError(f"the dump stream has a malformed property block: {line!r}")
        end = data.index(b"\n", pos)
        vlength = int(data[pos:end].partition(b" ")[2])
        pos = end + 1
        props[key] = data[pos : pos + vlength].decode("utf-8", "replace")
        pos += vlength + 1


def records(stream: IO[bytes]) -> Iterator[RevisionRecord | NodeRecord]:
    """Every revision and node record of a dump stream, in order."""
    pending: NodeRecord | None = None
    while True:
        if pending is not None:
            pending.skip_text()  # the consumer did not want this text
            pending = None
        headers = _headers(stream)
        if headers is None:
            return
        if "SVN-fs-dump-format-version" in headers or "UUID" in headers:
            continue
        prop_length = int(headers.get("Prop-content-length", "-1"))
        text_length = int(headers.get("Text-content-length", "-1"))
        content_length = int(headers.get("Content-length", "0"))
        props = None
        if prop_length >= 0:
            props = parse_props(_read_exactly(stream, prop_length))
        if "Revision-number" in headers:
            _read_exactly(stream, content_length - max(prop_length, 0))
            yield RevisionRecord(
                int(headers["Revision-number"]),
                {k: v for k, v in (props or {}).items() if v is not None},
            )
            continue
        if "Node-path" not in headers:
            raise ExternalSystemError(f"the dump stream has an unknown record: {headers}")
        copy_rev = headers.get("Node-copyfrom-rev")
        node = NodeRecord(
            path=headers["Node-path"].strip("/"),
            kind=headers.get("Node-kind"),
            action=headers.get("Node-action", "change"),
            copyfrom_path=headers.get("Node-copyfrom-path", "").strip("/") if copy_rev else None,
            copyfrom_rev=int(copy_rev) if copy_rev else None,
            props=props,
            prop_delta=headers.get("Prop-delta") == "true",
            text_length=text_length if text_length >= 0 else None,
            text_delta=headers.get("Text-delta") == "true",
            text_md5=headers.get("Text-content-md5"),
            _stream=stream,
            _left=max(text_length, 0),
        )
        pending = node
        yield node


def _read_exactly(stream: IO[bytes], length: int) -> bytes:
    data = stream.read(length)
    if len(data) != length:
        raise ExternalSystemError("the dump stream ended in the middle of a record")
    return data
