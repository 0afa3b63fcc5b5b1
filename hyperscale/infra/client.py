"""The one adapter to Terraform (or OpenTofu): every call drives the binary's JSON interfaces.

`python-terraform` is unmaintained and parses human output; the JSON streams (`plan -json`,
`apply -json`), `show -json PLANFILE`, `output -json` and `validate -json` are the formats
HashiCorp documents as stable, and OpenTofu keeps them, so one adapter serves both programs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.infra.binary import find_terraform
from hyperscale.infra.state_locks import own_lock
from hyperscale.runner import CommandResult, run

#: How long to wait for a state lock another run holds before giving up.
LOCK_TIMEOUT = "120s"
#: How long terraform gets to stop cleanly when hyperscale is interrupted (it finishes the
#: calls in flight, writes its state and releases the lock) before it is killed.
STOP_GRACE_S = 300.0
#: init downloads providers and modules; anything slower than this is stuck.
INIT_TIMEOUT_S = 900.0
_PLAN_NO_CHANGES, _PLAN_CHANGES = 0, 2  # plan -detailed-exitcode; 1 means it failed
_HUMAN_ERROR = re.compile(r"^[│|]?\s*Error: (?P<summary>.+)$")
# "on main.tf line 3, in ...", or init's "... for module "m" at main.tf:1."
_HUMAN_WHERE = re.compile(
    r"on (?P<file>\S+) line (?P<line>\d+)|at (?P<at_file>\S+\.tf(?:\.json)?):(?P<at_line>\d+)"
)
#: init errors that mean a provider could not be installed, not that the configuration is wrong.
_PROVIDER_UNAVAILABLE = (
    "Failed to query available provider packages",
    "Failed to install provider",
    "Incompatible provider version",
)
_PROVIDER_REASON = re.compile(
    r"versions for provider (?P<provider>\S+): (?P<why>.+?)(?= To see which| Error:| ╵|$)"
)


@dataclass(frozen=True)
class Diagnostic:
    """An error or warning Terraform reported, with the file and line it points at if any."""

    severity: str
    summary: str
    detail: str = ""
    file: str | None = None
    line: int | None = None

    def one_line(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else ""
        return f"{where}{self.text()}"

    def text(self) -> str:
        """Summary and detail on one line, without the location."""
        detail = " ".join(self.detail.split())
        return self.summary + (f": {detail}" if detail else "")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        source = data.get("range") or {}
        return cls(
            severity=str(data.get("severity", "error")),
            summary=str(data.get("summary", "")).strip(),
            detail=str(data.get("detail", "")).strip(),
            file=source.get("filename"),
            line=(source.get("start") or {}).get("line"),
        )


class TerraformError(ExternalSystemError):
    """A terraform command failed; ``diagnostics`` are its errors, first one in the message."""

    def __init__(self, what: str, diagnostics: Sequence[Diagnostic], fallback: str) -> None:
        errors = [d for d in diagnostics if d.severity == "error"]
        first = errors[0].one_line() if errors else fallback
        super().__init__(f"{what} failed: {first}", details=[d.one_line() for d in errors[1:]])
        self.diagnostics = list(errors)


class ProvidersUnavailableError(TerraformError):
    """init could not install a provider (none of the allowed versions is in the plugin
    directory); ``reasons`` says, per provider, what terraform said."""

    def __init__(self, what: str, diagnostics: Sequence[Diagnostic], reasons: list[str]) -> None:
        super().__init__(what, diagnostics, "a provider is unavailable")
        self.reasons = reasons


#: The actions of `plan -json`'s planned_change messages, by the word a plan summary counts.
_KIND_OF_ACTION = {
    "create": "add",
    "update": "change",
    "delete": "destroy",
    "replace": "replace",
    "move": "move",
    "import": "import",
    "remove": "forget",
}


@dataclass(frozen=True)
class ResourceChange:
    address: str
    #: add, change, destroy or replace (the words a plan summary counts); move, import, forget.
    kind: str


@dataclass(frozen=True)
class PlanSummary:
    """What a plan would do, from the `plan -json` stream's own messages."""

    has_changes: bool
    resources: list[ResourceChange] = field(default_factory=list)
    #: Resources changed outside Terraform since the last apply.
    drift: list[str] = field(default_factory=list)
    #: Root outputs whose value would change.
    output_changes: list[str] = field(default_factory=list)

    def count(self, kind: str) -> int:
        # A replacement both destroys and adds, as terraform's own summary counts it.
        if kind in ("add", "destroy"):
            return sum(1 for r in self.resources if r.kind in (kind, "replace"))
        return sum(1 for r in self.resources if r.kind == kind)


@dataclass(frozen=True)
class OutputValue:
    value: Any
    sensitive: bool


class Terraform:
    """Runs the binary in one root directory, keeping its working data outside the root.

    ``data_dir`` becomes TF_DATA_DIR: `.terraform/` (providers, backend settings) lives in the
    state directory, so the committed roots stay clean and two environments never share it.
    """

    def __init__(
        self,
        app: AppContext,
        root: Path,
        data_dir: Path,
        plugin_dir: Path | None = None,
        *,
        reclaim_own_locks: bool = False,
    ) -> None:
        self.app = app
        self.root = root
        self.data_dir = data_dir
        #: Where init takes providers from when no other is given (nothing is downloaded).
        self.plugin_dir = plugin_dir
        #: Release a state lock this very command took and then tripped on (see _locked_run).
        self.reclaim_own_locks = reclaim_own_locks
        self.binary = find_terraform(app)

    def _env(self) -> dict[str, str]:
        return {
            "TF_DATA_DIR": str(self.data_dir),
            "TF_IN_AUTOMATION": "1",  # no "run terraform apply next" advice in the output
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",  # no version check call home
        }

    def _run(
        self, *args: str, timeout: float | None = None, input_text: str | None = None
    ) -> CommandResult:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return run(
            [str(self.binary), f"-chdir={self.root}", *args],
            env=self._env(),
            timeout=timeout,
            input_text=input_text,
            check=False,
            what=f"{self.binary.name} {args[0]} in {self.root}",
            stop_grace_s=STOP_GRACE_S,
        )

    def _locked_run(self, *args: str) -> CommandResult:
        """A command that takes the state lock; against moto, once more after releasing a
        lock it took itself and then tripped on (hyperscale.infra.state_locks)."""
        started = dt.datetime.now(dt.UTC)
        done = self._run(*args)
        if done.returncode in (0, _PLAN_CHANGES) or not self.reclaim_own_locks:
            return done
        lock = own_lock("\n".join(d.detail for d in diagnostics_of(done)), done.stderr, started)
        if lock is None:
            return done
        self._run("force-unlock", "-force", lock)
        return self._run(*args)

    def init(self, *, backend: bool = True, plugin_dir: Path | None = None) -> None:
        """Install modules and providers and configure the backend (``backend=False``: not).

        With ``plugin_dir`` providers come from that directory only (nothing is downloaded);
        when one cannot, this raises ProvidersUnavailableError.
        """
        plugin_dir = plugin_dir or self.plugin_dir
        done = self._run(
            "init", "-input=false", "-no-color", f"-lock-timeout={LOCK_TIMEOUT}",
            *(() if backend else ("-backend=false",)),
            *(() if plugin_dir is None else (f"-plugin-dir={plugin_dir}",)),
            timeout=INIT_TIMEOUT_S,
        )  # fmt: skip
        if done.returncode != 0:
            failure = _failure(f"{self.binary.name} init", done)
            if any(d.summary in _PROVIDER_UNAVAILABLE for d in failure.diagnostics):
                raise ProvidersUnavailableError(
                    f"{self.binary.name} init", failure.diagnostics, _provider_reasons(done)
                )
            raise failure

    def init_if_changed(self) -> None:
        """init, unless the last init in this data directory saw the same configuration (the
        root's and its local modules' files, the lock file, the plugin directory): init takes
        seconds per root even when it has nothing to do."""
        marker = self.data_dir / "hyperscale-init.sha256"
        fingerprint = configuration_fingerprint(self.root, self.plugin_dir)
        if marker.is_file() and marker.read_text(encoding="utf-8") == fingerprint:
            return
        marker.unlink(missing_ok=True)
        self.init()
        marker.write_text(configuration_fingerprint(self.root, self.plugin_dir), encoding="utf-8")

    def plan(
        self,
        plan_file: Path,
        var_files: Sequence[Path] = (),
        *,
        targets: Sequence[str] = (),
        destroy: bool = False,
        refresh: bool = True,
    ) -> PlanSummary:
        """Write a plan to ``plan_file`` and say what it would do.

        ``targets`` limits it to those resources (and what they depend on); ``destroy`` plans
        the removal of everything in the state; ``refresh=False`` skips reading the objects.
        The summary comes from the `-json` stream itself (planned_change, resource_drift and
        outputs messages): reading the plan file back with `show -json` would start the
        provider once more only to load its schema.
        """
        done = self._locked_run(
            "plan", "-input=false", "-no-color", "-json", "-detailed-exitcode",
            f"-lock-timeout={LOCK_TIMEOUT}", f"-out={plan_file}",
            *(f"-var-file={path}" for path in var_files),
            *(f"-target={target}" for target in targets),
            *(("-destroy",) if destroy else ()), *(() if refresh else ("-refresh=false",)),
        )  # fmt: skip
        if done.returncode not in (_PLAN_NO_CHANGES, _PLAN_CHANGES):
            raise _failure(f"{self.binary.name} plan", done)
        return stream_summary(done.stdout, changes=done.returncode == _PLAN_CHANGES)

    def apply(self, plan_file: Path) -> None:
        done = self._locked_run(
            "apply", "-input=false", "-no-color", "-json", f"-lock-timeout={LOCK_TIMEOUT}",
            str(plan_file),
        )  # fmt: skip
        if done.returncode != 0:
            raise _failure(f"{self.binary.name} apply", done)

    def destroy(
        self, var_files: Sequence[Path] = (), *, targets: Sequence[str] = ()
    ) -> PlanSummary:
        """Destroy what the state holds (only ``targets`` and what depends on them, when
        given) in one run, planned and applied by the same process; what it planned."""
        done = self._locked_run(
            "apply", "-destroy", "-auto-approve", "-input=false", "-no-color", "-json",
            f"-lock-timeout={LOCK_TIMEOUT}", *(f"-var-file={path}" for path in var_files),
            *(f"-target={target}" for target in targets),
        )  # fmt: skip
        if done.returncode != 0:
            raise _failure(f"{self.binary.name} apply -destroy", done)
        return stream_summary(done.stdout, changes=False)

    def refresh_state(self, var_files: Sequence[Path] = ()) -> None:
        """Record in the state what the objects look like now (`apply -refresh-only`).

        Right after an apply, AWS reports attributes it set itself (an address associated by a
        NAT gateway, an inline policy attached by another resource, empty tags): recording
        them keeps the next plan to what really changed.
        """
        done = self._locked_run(
            "apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color", "-json",
            f"-lock-timeout={LOCK_TIMEOUT}", *(f"-var-file={path}" for path in var_files),
        )  # fmt: skip
        if done.returncode != 0:
            raise _failure(f"{self.binary.name} apply -refresh-only", done)

    def outputs(self) -> dict[str, OutputValue]:
        done = self._run("output", "-json", "-no-color")
        if done.returncode != 0:
            raise _failure(f"{self.binary.name} output", done)
        raw: dict[str, dict[str, Any]] = json.loads(done.stdout or "{}")
        return {
            name: OutputValue(item.get("value"), bool(item.get("sensitive")))
            for name, item in raw.items()
        }

    def validate(self) -> list[Diagnostic]:
        done = self._run("validate", "-json", "-no-color")
        try:
            report = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise _failure(f"{self.binary.name} validate", done) from None
        return [Diagnostic.from_json(d) for d in report.get("diagnostics", [])]


def fmt_unformatted(app: AppContext, files: Sequence[Path]) -> list[Path]:
    """The files `terraform fmt -check` would rewrite (each file must parse)."""
    if not files:
        return []
    binary = find_terraform(app)
    done = run(
        [str(binary), "fmt", "-check", "-list=true", "-no-color", *map(str, files)],
        env={"CHECKPOINT_DISABLE": "1"},
        check=False,
        what=f"{binary.name} fmt -check",
    )
    if done.returncode not in (0, 3):  # 3: some file is not formatted
        raise _failure(f"{binary.name} fmt", done)
    return [Path(line.strip()) for line in done.stdout.splitlines() if line.strip()]


def fmt_text(app: AppContext, text: str) -> str:
    """``text`` as `terraform fmt` would write it."""
    binary = find_terraform(app)
    done = run(
        [str(binary), "fmt", "-no-color", "-"],
        env={"CHECKPOINT_DISABLE": "1"},
        input_text=text,
        check=False,
        what=f"{binary.name} fmt -",
    )
    if done.returncode != 0:
        raise _failure(f"{binary.name} fmt", done)
    return done.stdout


_LOCAL_MODULE = re.compile(r'^\s*source\s*=\s*"(\.\.?/[^"]+)"', re.MULTILINE)


def configuration_fingerprint(root: Path, plugin_dir: Path | None) -> str:
    """A digest of every file init depends on: the ``.tf`` files of the root and of the local
    modules it calls (transitively), its lock file, and which plugin directory is used."""
    digest = hashlib.sha256(str(plugin_dir).encode())
    pending, seen = [root], set()
    while pending:
        directory = Path(os.path.normpath(pending.pop()))
        if directory in seen:
            continue
        seen.add(directory)
        for path in sorted([*directory.glob("*.tf"), *directory.glob(".terraform.lock.hcl")]):
            text = path.read_text(encoding="utf-8")
            digest.update(f"{path}\0{text}\0".encode())
            pending += [directory / source for source in _LOCAL_MODULE.findall(text)]
    return digest.hexdigest()


def stream_summary(stream: str, *, changes: bool) -> PlanSummary:
    """What a `plan -json` (or `apply -json`) stream says was planned; ``changes``: terraform's
    own exit code said so (-detailed-exitcode)."""
    resources: list[ResourceChange] = []
    drift: list[str] = []
    outputs: list[str] = []
    for message in _json_lines(stream):
        kind = message.get("type")
        if kind in ("planned_change", "resource_drift"):
            change = message.get("change") or {}
            address = str((change.get("resource") or {}).get("addr", ""))
            action = str(change.get("action", ""))
            if kind == "resource_drift" and action not in ("noop", "read"):
                drift.append(address)
            elif kind == "planned_change" and action in _KIND_OF_ACTION:
                resources.append(ResourceChange(address, _KIND_OF_ACTION[action]))
        elif kind == "outputs":
            outputs += [
                name
                for name, item in (message.get("outputs") or {}).items()
                if isinstance(item, dict) and item.get("action", "noop") != "noop"
            ]
    has_changes = changes or bool(resources or drift or outputs)
    return PlanSummary(has_changes, resources, drift, outputs)


def _json_lines(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def diagnostics_of(done: CommandResult) -> list[Diagnostic]:
    """Errors from a `-json` stream, else from the human text on stderr (init, fmt)."""
    found = [
        Diagnostic.from_json(message["diagnostic"])
        for message in _json_lines(done.stdout)
        if message.get("type") == "diagnostic" and "diagnostic" in message
    ]
    if not found:
        found += _human_diagnostics(done.stderr)
    return found


def _human_diagnostics(text: str) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _HUMAN_ERROR.match(line.strip())
        if not match:
            continue
        context = " ".join(lines[index + 1 : index + 4])
        where = _HUMAN_WHERE.search(context)
        found.append(
            Diagnostic(
                "error",
                match["summary"].strip(),
                file=(where["file"] or where["at_file"]) if where else None,
                line=int(where["line"] or where["at_line"]) if where else None,
            )
        )
    return found


def _provider_reasons(done: CommandResult) -> list[str]:
    """One reason per provider init could not install, such as "hashicorp/aws: no available
    releases match the given constraints ~> 6.0" (from the human output: OpenTofu's init has
    no -json)."""
    text = " ".join(done.stderr.replace("│", " ").split())
    found = [f"{m['provider']}: {m['why'].strip()}" for m in _PROVIDER_REASON.finditer(text)]
    return found or [d.text() for d in diagnostics_of(done) if d.severity == "error"]


def _failure(what: str, done: CommandResult) -> TerraformError:
    tail = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    fallback = f"exit code {done.returncode}" + (f": {tail[-1]}" if tail else "")
    return TerraformError(what, diagnostics_of(done), fallback)
