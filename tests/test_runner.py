"""The one subprocess helper: output captured, failures explained, secrets masked."""

from __future__ import annotations

import sys

import pytest

from hyperscale.errors import ExternalSystemError
from hyperscale.runner import masked, run, stream


def test_captures_output() -> None:
    result = run([sys.executable, "-c", "print('hello')"])
    assert result.returncode == 0
    assert result.stdout == "hello\n"


def test_failure_names_the_command_code_and_last_error_line_with_secrets_masked() -> None:
    script = "import sys; sys.stderr.write('warming up\\nlogin failed for hunter2\\n'); sys.exit(4)"
    with pytest.raises(ExternalSystemError) as caught:
        run([sys.executable, "-c", script], secrets=["hunter2"], what="db login")
    assert caught.value.message == "db login failed with exit code 4: login failed for ******"


def test_missing_program_says_how_to_install() -> None:
    with pytest.raises(ExternalSystemError) as caught:
        run(["hyperscale-no-such-program"])
    assert caught.value.message == "hyperscale-no-such-program is not installed or not on PATH"
    assert "make bootstrap" in (caught.value.hint or "")


def test_timeout_is_an_external_error() -> None:
    with pytest.raises(ExternalSystemError, match=r"did not finish within 0.2s"):
        run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.2)


def test_check_false_returns_the_failure() -> None:
    result = run([sys.executable, "-c", "import sys; sys.exit(3)"], check=False)
    assert result.returncode == 3


def test_masked_command_line() -> None:
    assert masked(["mysql", "--password=abc def"], ["abc def"]) == "mysql '--password=******'"


def test_a_program_that_cannot_run_is_an_external_error(tmp_path) -> None:
    not_executable = tmp_path / "tool"
    not_executable.write_text("#!/bin/sh\n")
    with pytest.raises(ExternalSystemError, match=r"cannot run .*tool: Permission denied"):
        run([str(not_executable)])


def test_inherit_env_false_passes_only_the_given_variables(monkeypatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    script = "import os; print(sorted(os.environ))"
    shown = run([sys.executable, "-c", script], env={"ONLY": "1"}, inherit_env=False).stdout
    assert "AWS_SECRET_ACCESS_KEY" not in shown
    assert "ONLY" in shown


def test_stream_pipes_bytes_both_ways() -> None:
    echo = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read().upper())"
    with stream([sys.executable, "-c", echo], write=True, read=True) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(b"dump\x00stream")
        proc.stdin.close()
        assert proc.stdout.read() == b"DUMP\x00STREAM"


def test_stream_failure_names_the_program_and_its_last_error_line() -> None:
    script = "import sys; sys.stderr.write('reading\\nno such revision 9\\n'); sys.exit(1)"
    with (
        pytest.raises(ExternalSystemError, match=r"^svnadmin dump failed .*: no such revision 9$"),
        stream([sys.executable, "-c", script], read=True, what="svnadmin dump"),
    ):
        pass


def test_stream_kills_the_program_when_the_caller_fails() -> None:
    with pytest.raises(KeyError), stream([sys.executable, "-c", "input()"], write=True) as proc:
        raise KeyError("parser gave up")
    assert proc.returncode is not None


#: A program that, asked to stop with SIGINT, takes a moment to save its work, as terraform
#: does (state written, lock released); a SIGKILL would leave no file.
_STOPS_CLEANLY = """
import signal, sys, time
def stop(*_):
    time.sleep(0.5)
    open(sys.argv[1], "w").write("saved")
    sys.exit(0)
signal.signal(signal.SIGINT, stop)
open(sys.argv[1] + ".ready", "w").close()
time.sleep(30)
"""


def test_a_timed_out_program_with_stop_grace_is_stopped_cleanly(tmp_path) -> None:
    saved = tmp_path / "saved"
    with pytest.raises(ExternalSystemError, match="did not finish within 5s"):
        run([sys.executable, "-c", _STOPS_CLEANLY, str(saved)], timeout=5, stop_grace_s=10)
    assert (tmp_path / "saved.ready").exists()  # it was running, not starting
    assert saved.read_text() == "saved"


def test_an_interrupted_caller_gives_the_program_its_grace(tmp_path) -> None:
    """Ctrl-C (here: SIGINT sent to this test's main thread) is passed on as one SIGINT, and
    the program gets to finish before the interruption goes on."""
    import signal
    import threading
    import time

    saved = tmp_path / "saved"

    main = threading.main_thread().ident
    assert main is not None

    def interrupt_once_ready() -> None:
        while not (tmp_path / "saved.ready").exists():
            time.sleep(0.05)
        signal.pthread_kill(main, signal.SIGINT)

    threading.Thread(target=interrupt_once_ready, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run([sys.executable, "-c", _STOPS_CLEANLY, str(saved)], timeout=60, stop_grace_s=10)
    assert saved.read_text() == "saved"
