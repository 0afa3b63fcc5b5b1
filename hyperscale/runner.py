"""Every subprocess goes through here: logged with secrets masked, failures turned into errors."""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hyperscale.errors import ExternalSystemError

log = logging.getLogger(__name__)

MASK = "******"


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def mask_text(text: str, secrets: Sequence[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def masked(argv: Sequence[str], secrets: Sequence[str] = ()) -> str:
    """The command line as it may appear in logs and error messages."""
    return mask_text(shlex.join(argv), secrets)


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    timeout: float | None = None,
    check: bool = True,
    secrets: Sequence[str] = (),
    what: str | None = None,
    new_session: bool = False,
    inherit_env: bool = True,
    stop_grace_s: float | None = None,
) -> CommandResult:
    """Run a program (never through a shell) and capture its output.

    Secrets must travel by ``env`` or ``input_text``, never in ``argv``; ``secrets`` lists values
    to mask should one appear in output that ends up in an error message. With
    ``inherit_env=False`` the program sees only ``env``: long-lived services get no copy of the
    caller's credentials.

    With ``stop_grace_s`` the program is never killed outright when this call is interrupted
    (Ctrl-C, a timeout, a test harness's alarm): it runs in a session of its own, so a
    terminal's Ctrl-C does not reach it twice, gets one SIGINT and that long to stop cleanly
    (Terraform then saves its state and releases its lock); a second interruption kills it.
    """
    shown = masked(argv, secrets)
    log.debug("run: %s", shown)
    full_env = ({**os.environ, **env} if inherit_env else dict(env)) if env is not None else None
    try:
        if stop_grace_s is not None:
            proc = _run_stoppable(list(argv), cwd, full_env, input_text, timeout, stop_grace_s)
        else:
            proc = subprocess.run(
                list(argv),
                cwd=cwd,
                env=full_env,
                input=input_text,
                stdin=subprocess.DEVNULL if input_text is None else None,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                start_new_session=new_session,
            )
    except FileNotFoundError as exc:
        raise ExternalSystemError(
            f"{argv[0]} is not installed or not on PATH",
            hint="run `make bootstrap` to install the project's tools",
        ) from exc
    except OSError as exc:  # not executable, a directory, too many open files...
        raise ExternalSystemError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ExternalSystemError(f"{what or shown} did not finish within {timeout:g}s") from exc
    result = CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        tail = _last_line(mask_text(proc.stderr or proc.stdout, secrets))
        raise ExternalSystemError(
            f"{what or shown} failed with exit code {proc.returncode}"
            + (f": {tail}" if tail else "")
        )
    return result


def _run_stoppable(
    argv: list[str],
    cwd: Path | None,
    env: Mapping[str, str] | None,
    input_text: str | None,
    timeout: float | None,
    grace_s: float,
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` that stops the program with SIGINT, not SIGKILL (see ``run``)."""
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL if input_text is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(input_text, timeout=timeout)
        except BaseException:
            if proc.poll() is None:
                log.warning("interrupted: asking %s to stop (SIGINT)", argv[0])
                proc.send_signal(signal.SIGINT)
                try:
                    proc.communicate(timeout=grace_s)  # keeps draining its output meanwhile
                except BaseException:  # noqa: BLE001 - grace over, or interrupted again: kill
                    proc.kill()
                    proc.wait()
            raise
        return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


@contextlib.contextmanager
def stream(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    write: bool = False,
    read: bool = False,
    secrets: Sequence[str] = (),
    what: str | None = None,
    ok_codes: Sequence[int] = (0,),
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a program whose standard input (``write``) or output (``read``) is a byte stream
    the caller feeds or consumes while it runs: a dump piped through a parser, a stream of
    import commands. No shell, logged like ``run``.

    The program runs in a session of its own, so a Ctrl-C at the terminal reaches only us and
    the caller decides how to stop. On leaving the block normally its input is closed and its
    exit code checked (a failure raises ``ExternalSystemError`` with its last stderr line); if
    the block raises, the program is killed and the caller's exception goes on.
    """
    shown = masked(argv, secrets)
    log.debug("stream: %s", shown)
    full_env = {**os.environ, **env} if env is not None else None
    # stderr goes to a file, never a pipe: nobody reads it while the program runs, and a full
    # pipe would stall the program.
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=full_env,
                stdin=subprocess.PIPE if write else subprocess.DEVNULL,
                stdout=subprocess.PIPE if read else subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise ExternalSystemError(
                f"{argv[0]} is not installed or not on PATH",
                hint="run `make bootstrap` to install the project's tools",
            ) from exc
        except OSError as exc:
            raise ExternalSystemError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
        try:
            yield proc
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    # BrokenPipeError: it exited before reading all we wrote
                    with contextlib.suppress(BrokenPipeError):
                        pipe.close()
        code = proc.wait()
        if code not in ok_codes:
            errors.seek(0)
            tail = _last_line(mask_text(errors.read().decode("utf-8", "replace"), secrets))
            raise ExternalSystemError(
                f"{what or shown} failed with exit code {code}" + (f": {tail}" if tail else "")
            )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
