"""HTTP the toolkit makes itself: readiness checks and the smoke test's JSON posts (urllib),
and many endpoints probed at once for `hyperscale health` (aiohttp, imported when used)."""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from hyperscale.errors import UsageError


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status of a GET on ``url``, or None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - the environment's own URLs
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


def post_json(
    url: str, body: dict[str, Any], headers: dict[str, str], timeout: float = 5.0
) -> tuple[int, dict[str, Any]]:
    """POST ``body`` as JSON; the status and the decoded answer (an error's body too)."""
    return send_json("POST", url, body, headers, timeout)


def send_json(
    method: str, url: str, body: dict[str, Any], headers: dict[str, str], timeout: float = 5.0
) -> tuple[int, dict[str, Any]]:
    """``method`` with ``body`` as JSON; the status and the decoded answer (an error's too)."""
    request = urllib.request.Request(  # noqa: S310 - the environment's own API URL
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read() or b"{}")


# -- many endpoints at once (`hyperscale health`), through aiohttp ------------------------------


@dataclass(frozen=True)
class HttpRequest:
    url: str
    timeout: float = 5.0
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    #: A PEM bundle to trust instead of the system's (a private CA, a self-signed certificate).
    ca_file: str | None = None
    #: More of the body than this is not read: health bodies are small, memory stays bounded.
    max_body: int = 256 * 1024


@dataclass(frozen=True)
class HttpObservation:
    """What one request saw. ``error`` set means no HTTP answer came (refused, timed out, TLS)."""

    url: str
    status: int | None
    #: From the request's start to the last byte read (connect and TLS handshake included).
    elapsed_s: float
    #: Lower-case names; repeated headers joined with ", ".
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    body_truncated: bool = False
    #: The server certificate's notAfter (seconds since the epoch), on a verified TLS connection.
    cert_not_after: float | None = None
    error: str | None = None


class HttpProber:
    """One aiohttp session for many probes: at most ``concurrency`` connections at a time, no
    cookies kept, redirects not followed (a 301 is an answer to judge), one TLS context per
    CA bundle. Use as ``async with HttpProber(n) as prober: await prober.probe(request)``."""

    def __init__(self, concurrency: int, user_agent: str = "hyperscale-health") -> None:
        self._concurrency = concurrency
        self._user_agent = user_agent
        self._session: Any = None
        self._tls: dict[str | None, Any] = {}
        self._certificates: dict[tuple[str, int, str | None], float | None] = {}

    async def __aenter__(self) -> HttpProber:
        import aiohttp

        connector = aiohttp.TCPConnector(
            limit=self._concurrency, limit_per_host=0, ttl_dns_cache=60
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": self._user_agent},
            auto_decompress=True,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            import asyncio

            await self._session.close()
            # Let the transports' close callbacks run before the event loop ends (aiohttp's
            # advice for a clean shutdown); otherwise sockets are reported unclosed.
            await asyncio.sleep(0)

    def _tls_context(self, ca_file: str | None) -> Any:
        import ssl

        if ca_file not in self._tls:
            try:
                self._tls[ca_file] = ssl.create_default_context(cafile=ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise UsageError(f"cannot read the CA bundle {ca_file}: {exc}") from None
        return self._tls[ca_file]

    async def _not_after(self, request: HttpRequest, tls: Any) -> float | None:
        """The server certificate's notAfter, read once per host, port and trust in a session
        (aiohttp hands a finished response's connection back before it can be asked)."""
        import asyncio
        import ssl
        from urllib.parse import urlsplit

        parts = urlsplit(request.url)
        host, port = parts.hostname or "", parts.port or 443
        key = (host, port, request.ca_file)
        if key not in self._certificates:
            not_after: float | None = None
            try:
                async with asyncio.timeout(request.timeout):
                    _, writer = await asyncio.open_connection(host, port, ssl=tls)
                peer = writer.get_extra_info("peercert") or {}
                writer.close()
                with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
                    async with asyncio.timeout(1.0):  # a server may never confirm the close
                        await writer.wait_closed()
                if peer.get("notAfter"):
                    not_after = float(ssl.cert_time_to_seconds(peer["notAfter"]))
            except (OSError, TimeoutError, ssl.SSLError):
                not_after = None  # the request was answered; only the figure is missing
            self._certificates[key] = not_after
        return self._certificates[key]

    async def probe(self, request: HttpRequest) -> HttpObservation:
        import time

        import aiohttp

        started = time.perf_counter()
        tls = self._tls_context(request.ca_file) if request.url.startswith("https:") else None

        def failed(reason: str) -> HttpObservation:
            return HttpObservation(request.url, None, time.perf_counter() - started, error=reason)

        try:
            async with self._session.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                timeout=aiohttp.ClientTimeout(total=request.timeout),
                allow_redirects=False,
                ssl=tls if tls is not None else True,
            ) as response:
                body, truncated = await _read_capped(response, request.max_body)
                headers: dict[str, str] = {}
                for name, value in response.headers.items():
                    key = name.lower()
                    headers[key] = f"{headers[key]}, {value}" if key in headers else value
                status, elapsed = response.status, time.perf_counter() - started
            not_after = await self._not_after(request, tls) if tls is not None else None
            return HttpObservation(
                request.url, status, elapsed, headers, body, truncated, not_after
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return failed(_failure_reason(exc, request.timeout))


def _failure_reason(exc: BaseException, timeout: float) -> str:
    """Why no answer came, in the words an operator searches for."""
    import aiohttp

    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS: {exc.certificate_error}"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS: {exc}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        words = os.strerror(error.errno) if error.errno else error.strerror or str(error)
        return f"cannot connect: {words.lower()}"
    if isinstance(exc, aiohttp.InvalidURL):
        return "not a URL that can be requested"
    return f"{type(exc).__name__}: {exc}"


async def _read_capped(response: Any, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False
