"""Seed a real registry with small images through the v2 API (no build needed): each has its
own config (so its own digest) and a chosen creation time."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import tarfile
import urllib.error
import urllib.request

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _empty_layer() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w"):
        pass
    return gzip.compress(raw.getvalue(), mtime=0)


def _request(method: str, url: str, data: bytes | None = None, ctype: str | None = None) -> str:
    headers = {"Content-Type": ctype} if ctype else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.headers.get("Location", ""))


def _upload(base: str, repository: str, blob: bytes) -> str:
    digest = _digest(blob)
    location = _request("POST", f"{base}/v2/{repository}/blobs/uploads/")
    if location.startswith("/"):
        location = base + location
    sep = "&" if "?" in location else "?"
    _request("PUT", f"{location}{sep}digest={digest}", blob, "application/octet-stream")
    return digest


def seed_image(base: str, repository: str, tags: list[str], created: dt.datetime) -> str:
    """Push one image under ``tags``; its manifest digest."""
    layer = _empty_layer()
    config = json.dumps(
        {
            "created": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [_digest(gzip.decompress(layer))]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _upload(base, repository, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": _upload(base, repository, layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    for tag in tags:
        _request("PUT", f"{base}/v2/{repository}/manifests/{tag}", manifest, OCI_MANIFEST)
    return _digest(manifest)


def registry_tags(base: str, repository: str) -> set[str]:
    try:
        with urllib.request.urlopen(f"{base}/v2/{repository}/tags/list", timeout=10) as r:
            return set(json.loads(r.read()).get("tags") or [])
    except urllib.error.HTTPError:
        return set()
