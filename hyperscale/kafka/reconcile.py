"""What `kafka topics` and `kafka acls` share: a plan of the environment against the cluster,
applied, only shown (`apply --dry-run`) or compared (`diff`), and the consent pruning needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hyperscale.errors import UsageError


class ReconcileMode(StrEnum):
    #: Changes were applied (or there were none to apply).
    APPLY = "apply"
    #: `apply --dry-run`: the plan, nothing changed.
    DRY_RUN = "dry-run"
    #: `diff`: the plan, nothing changed; exit 1 when the cluster differs (like `kubectl diff`).
    DIFF = "diff"


@dataclass(frozen=True)
class ReconcileRequest:
    mode: ReconcileMode = ReconcileMode.APPLY
    #: Also delete what the cluster has and the environment no longer asks for (needs ``yes``
    #: to apply).
    prune: bool = False
    #: Consent given on the command line: for --prune, and for a protected environment.
    yes: bool = False
    bootstrap: str | None = None
    timeout: float = 10.0

    @property
    def applying(self) -> bool:
        return self.mode is ReconcileMode.APPLY

    def check_prune_consent(self, what: str) -> None:
        """Applying a prune deletes ``what``: refused without --yes, before anything is read."""
        if self.prune and self.applying and not self.yes:
            raise UsageError(
                f"--prune deletes {what}: it needs --yes",
                hint="see what it would delete with --prune --dry-run",
            )
