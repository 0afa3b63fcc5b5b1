"""Bearer tokens for the platform API: minted by this machine's issuer, or fetched from the
environment's OAuth2 server with the client-credentials grant.

The local issuer (``auth.issuer: local``, the local and sandbox environments) keeps an ES256 key
pair under ``<state>/secrets/auth/<env>/``: ``signing-key.json`` (private, 0600) and
``jwks.json`` (the public key set the API verifies with). Tokens are short-lived (15 minutes)
and travel only in the ``Authorization`` header: never on a command line, in a log or a file.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import LOCAL_ISSUER, Environment
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError, ExternalSystemError

#: Every scope the API knows; the CLI's operations (smoke, drills) use these.
ALL_SCOPES = ("catalog:read", "catalog:write", "orders:write", "events:write", "stats:read")
TOKEN_TTL_S = 900
_ALGORITHM = "ES256"


def auth_dir(app: AppContext, env_name: str) -> Path:
    return app.state_dir / "secrets" / "auth" / env_name


def jwks_path(app: AppContext, env_name: str) -> Path:
    """The local issuer's public keys (made on first use): the API's AUTH_JWKS_FILE."""
    ensure_local_keys(app, env_name)
    return auth_dir(app, env_name) / "jwks.json"


def ensure_local_keys(app: AppContext, env_name: str) -> None:
    """Create the local issuer's key pair once; later calls keep it (tokens stay valid)."""
    from joserfc.jwk import ECKey, KeySet

    directory = auth_dir(app, env_name)
    private, public = directory / "signing-key.json", directory / "jwks.json"
    if private.exists() and public.exists():
        return
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    kid = uuid.uuid4().hex[:16]
    key = ECKey.generate_key(
        "P-256", parameters={"kid": kid, "use": "sig", "alg": _ALGORITHM}, private=True
    )
    _write_private(private, json.dumps(key.as_dict(private=True)))
    _write_private(public, json.dumps(KeySet([key]).as_dict(private=False)), mode=0o644)


def _write_private(path: Path, text: str, mode: int = 0o600) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()


def mint_local_token(
    app: AppContext,
    env_name: str,
    *,
    issuer: str,
    audience: str,
    subject: str,
    scopes: tuple[str, ...] = ALL_SCOPES,
    ttl_s: int = TOKEN_TTL_S,
) -> str:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    ensure_local_keys(app, env_name)
    document = json.loads((auth_dir(app, env_name) / "signing-key.json").read_text("utf-8"))
    key = ECKey.import_key(document)
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
        "scope": " ".join(scopes),
    }
    return jwt.encode({"alg": _ALGORITHM, "kid": key.kid}, claims, key)


def access_token(env: Environment, app: AppContext, scopes: tuple[str, ...] = ALL_SCOPES) -> str:
    """A token for the environment's API with ``scopes``."""
    auth = env.auth
    if auth.issuer == LOCAL_ISSUER:
        return mint_local_token(
            app,
            env.name,
            issuer=auth.issuer_name(env.name),
            audience=auth.audience,
            subject=f"hyperscale-cli@{env.name}",
            scopes=scopes,
        )
    return _client_credentials(env, app, scopes)


def _client_credentials(env: Environment, app: AppContext, scopes: tuple[str, ...]) -> str:
    auth = env.auth
    if auth.token_url is None or auth.client_id is None or auth.client_secret is None:
        raise ConfigError(f"{env.name}: auth needs token_url, client_id and client_secret")
    secret = resolve_secret(app, auth.client_secret, env.aws)
    basic = base64.b64encode(
        f"{urllib.parse.quote(auth.client_id)}:{urllib.parse.quote(secret)}".encode()
    ).decode()
    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "scope": " ".join(scopes), "audience": auth.audience}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the environment's https token endpoint
        str(auth.token_url),
        data=form,
        method="POST",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            token = json.loads(answer.read()).get("access_token")
    except urllib.error.HTTPError as exc:
        raise ConfigError(
            f"the token endpoint {auth.token_url} refused client {auth.client_id} ({exc.code})",
            hint="check auth.client_id and the secret auth.client_secret refers to",
        ) from None
    except (OSError, ValueError) as exc:
        raise ExternalSystemError(
            f"no token from {auth.token_url}: {exc.__class__.__name__}"
        ) from None
    if not isinstance(token, str) or not token:
        raise ExternalSystemError(f"the token endpoint {auth.token_url} sent no access_token")
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
