"""Resolve a SecretRef to its value at the moment of use. Values are never logged or rendered."""

from __future__ import annotations

import contextlib
import json
import os
import secrets as token_source
import tempfile
from pathlib import Path

from hyperscale.config.models import Aws, SecretRef
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError, ExternalSystemError


def generated_secret_path(app: AppContext, name: str) -> Path:
    return app.state_dir / "secrets" / name


def ensure_generated_secret(app: AppContext, name: str) -> str:
    """Create the local secret on first use (mode 0600) and return it; later calls read it back."""
    path = generated_secret_path(app, name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written whole to a private temporary file, then linked into place: a concurrent
        # reader never sees a half-written secret, and of two writers the first one wins.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(token_source.token_urlsafe(24))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            Path(tmp).unlink()
    return path.read_text(encoding="utf-8").strip()


def resolve_secret(app: AppContext, ref: SecretRef, aws: Aws | None = None) -> str:
    if ref.env:
        value = app.environ.get(ref.env)
        if not value:
            raise ConfigError(
                f"secret {ref.env} is not set", hint=f"export {ref.env} before running"
            )
        return value
    if ref.file:
        path = Path(ref.file).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"secret file {path} does not exist", hint="create it or fix the path"
            )
        return path.read_text(encoding="utf-8").strip()
    if ref.generated:
        path = generated_secret_path(app, ref.generated)
        if not path.is_file():
            raise ConfigError(
                f"local secret {ref.generated!r} has not been generated yet",
                hint="run `hyperscale local up` first",
            )
        return path.read_text(encoding="utf-8").strip()
    return _from_secrets_manager(ref, aws)


def _from_secrets_manager(ref: SecretRef, aws: Aws | None) -> str:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    if aws is None or ref.aws_secret is None:
        raise ConfigError(f"AWS secret {ref.aws_secret} needs the environment's aws section")
    endpoint = str(aws.endpoint_url) if aws.endpoint_url else None
    client = boto3.client("secretsmanager", region_name=aws.region, endpoint_url=endpoint)
    try:
        raw = client.get_secret_value(SecretId=ref.aws_secret)["SecretString"]
    except (BotoCoreError, ClientError) as exc:
        raise ExternalSystemError(f"cannot read AWS secret {ref.aws_secret}: {exc}") from None
    if not ref.json_key:
        return raw
    try:
        return str(json.loads(raw)[ref.json_key])
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"AWS secret {ref.aws_secret} has no JSON key {ref.json_key!r}",
            hint="fix json_key in the environment file",
        ) from None
