"""What every model of an environment file shares: unknown keys are errors, values immutable."""

from __future__ import annotations

from pydantic import ConfigDict

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"

#: The configuration of every model (hyperscale.config.models.Strict and the section models
#: kept in modules of their own).
STRICT = ConfigDict(extra="forbid", frozen=True)
