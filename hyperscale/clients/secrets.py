"""Resolve a SecretRef to its value at the moment of use. Values are never logged or rendered."""

from __future__ import annotations

import json
from pathlib import Path

from hyperscale.config.models import Aws, SecretRef
from hyperscale.config.secrets import generated_secret_path
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError


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
    from hyperscale.clients.aws import secret_string

    if aws is None or ref.aws_secret is None:
        raise ConfigError(f"AWS secret {ref.aws_secret} needs the environment's aws section")
    raw = secret_string(aws, ref.aws_secret)
    if not ref.json_key:
        return raw
    try:
        return str(json.loads(raw)[ref.json_key])
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"AWS secret {ref.aws_secret} has no JSON key {ref.json_key!r}",
            hint="fix json_key in the environment file",
        ) from None
