"""OAuth2 bearer tokens: JWTs verified against the environment's issuer (issue 19 item 1).

Every route but the probes needs ``Authorization: Bearer <JWT>``: signed by a key of the issuer's
JWKS (asymmetric algorithms only), ``iss`` the issuer, ``aud`` containing the audience, ``exp`` in
the future (``nbf``, ``iat`` honoured), a ``sub``, and the route's scope in ``scope`` (space
separated, RFC 8693) or ``scp`` (a list). Answers follow RFC 6750: 401 with
``WWW-Authenticate: Bearer error="invalid_token"`` for a missing, malformed, forged or expired
token; 403 ``insufficient_scope`` naming the scope. The reason is logged, not sent: a client
is told what to fix, never which check a forgery failed.

Verification is joserfc (the maintained JOSE library of the Authlib project). A verified token is
remembered until it expires (a bounded map keyed by the token's hash), so a client's requests
after the first cost a dictionary lookup, not a signature check.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from platform_api.errors import ApiError, ConfigurationError

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA")
#: Clock skew between the issuer and this pod.
LEEWAY_S = 30
#: Verified tokens remembered; a client normally reuses one token for minutes.
CACHE_SIZE = 10_000
#: An unknown ``kid`` refetches the JWKS (a key rotation) at most this often.
JWKS_REFRESH_MIN_S = 30.0
JWKS_TIMEOUT_S = 2.0
MAX_TOKEN_BYTES = 8192

SCOPES = ("catalog:read", "catalog:write", "orders:write", "events:write", "stats:read")


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    expires_at: float


class Unauthorized(ApiError):  # noqa: N818 - named after the HTTP status it is
    def __init__(self, description: str) -> None:
        super().__init__(401, "authentication required: " + description)
        self.headers = {
            "WWW-Authenticate": f'Bearer realm="hyperscale", error="invalid_token",'
            f' error_description="{description}"'
        }


class Forbidden(ApiError):  # noqa: N818 - named after the HTTP status it is
    def __init__(self, scope: str) -> None:
        super().__init__(403, f"the token lacks the scope {scope}", scope=scope)
        self.headers = {
            "WWW-Authenticate": f'Bearer realm="hyperscale", error="insufficient_scope",'
            f' scope="{scope}"'
        }


class KeySource:
    """The issuer's public keys: a JWKS file (a mounted ConfigMap, the local issuer's file) or
    the issuer's ``jwks_uri``, refetched when a token names a key it does not know."""

    def __init__(self, jwks_file: Path | None, jwks_url: str | None) -> None:
        if (jwks_file is None) == (jwks_url is None):
            raise ConfigurationError("set exactly one of AUTH_JWKS_FILE and AUTH_JWKS_URL")
        self._file = jwks_file
        self._url = jwks_url
        self._keys: KeySet | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    def load_now(self) -> None:
        """At start, for a file: a missing or broken JWKS stops the start with one line."""
        if self._file is not None:
            self._set(self._read_file())

    async def keys(self, kid: str | None) -> KeySet:
        known = self._keys is not None and (kid is None or kid in self._kids)
        stale = time.monotonic() - self._fetched_at > JWKS_REFRESH_MIN_S
        if self._keys is not None and (known or not stale):
            return self._keys
        async with self._lock:
            if self._keys is None or (kid not in self._kids and stale):
                document = self._read_file() if self._file else await asyncio.to_thread(self._fetch)
                self._set(document)
        assert self._keys is not None  # noqa: S101 - set above or raised
        return self._keys

    def _set(self, document: dict[str, Any]) -> None:
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"the issuer's JWKS is not a key set ({exc})") from None
        self._keys = keys
        self._kids = frozenset(str(k.kid) for k in keys.keys if k.kid)
        self._fetched_at = time.monotonic()

    def _read_file(self) -> dict[str, Any]:
        assert self._file is not None  # noqa: S101 - only called for a file source
        try:
            document: dict[str, Any] = json.loads(self._file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"AUTH_JWKS_FILE: cannot read {self._file} ({exc})") from None
        return document

    def _fetch(self) -> dict[str, Any]:
        assert self._url is not None  # noqa: S101 - only called for a URL source
        try:
            with urllib.request.urlopen(self._url, timeout=JWKS_TIMEOUT_S) as answer:  # noqa: S310 - the configured https issuer
                document: dict[str, Any] = json.loads(answer.read(1 << 20))
        except (OSError, ValueError) as exc:
            log.warning("could not fetch the issuer's JWKS: %s", exc)
            raise ApiError(
                503, "the token issuer's keys are unavailable", retry_after_s=5
            ) from None
        return document


class Authenticator:
    def __init__(self, issuer: str, audience: str, keys: KeySource) -> None:
        self._issuer = issuer
        self._audience = audience
        self._keys = keys
        self._claims = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_S,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        self._verified: OrderedDict[bytes, Principal] = OrderedDict()

    async def require(self, authorization: str | None, scope: str) -> Principal:
        principal = await self.authenticate(authorization)
        if scope not in principal.scopes:
            raise Forbidden(scope)
        return principal

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthorized("send Authorization: Bearer <token>")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_BYTES:
            raise Unauthorized("send Authorization: Bearer <token>")
        digest = hashlib.sha256(token.encode()).digest()
        now = time.time()
        cached = self._verified.get(digest)
        if cached is not None and cached.expires_at + LEEWAY_S > now:
            return cached
        principal = await self._verify(token)
        self._verified[digest] = principal
        if len(self._verified) > CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            keys = await self._keys.keys(_kid(token))
            decoded = jwt.decode(token, keys, algorithms=list(ALGORITHMS))
            self._claims.validate(decoded.claims)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            log.info("token refused: %s", f"{type(exc).__name__}: {exc}"[:200])
            raise Unauthorized("the token is invalid or expired") from None
        claims = decoded.claims
        return Principal(
            subject=str(claims["sub"]),
            scopes=_scopes(claims),
            expires_at=float(claims["exp"]),
        )


def _kid(token: str) -> str | None:
    """The ``kid`` of a compact JWS's protected header (unverified: it only picks a key)."""
    header = token.partition(".")[0]
    document = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    kid = document.get("kid") if isinstance(document, dict) else None
    return None if kid is None else str(kid)


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return frozenset(str(s) for s in scp)
    return frozenset()
