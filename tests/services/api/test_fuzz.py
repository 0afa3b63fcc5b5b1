"""Schemathesis against the API's own OpenAPI document, on the real API process and services:
every operation gets generated requests (valid ones, and ones breaking the document's rules:
bodies, paths, headers) with a
token holding every scope, and no answer may be a server error (5xx) or break the response
schema the document promises. Bounded: MAX_EXAMPLES per operation and TIME_BUDGET_S in all.

Why a 503 is allowed: that is the API saying a dependency is down (tested in test_outages.py);
here every dependency is up, so a 503 would still fail the not_a_server_error check.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode

from tests.services.api.support import ApiClient

pytestmark = [
    pytest.mark.services,
    pytest.mark.mysql,
    pytest.mark.redis,
    pytest.mark.kafka,
    pytest.mark.timeout(240),
]

#: Generated requests per operation (9 operations, 6 with parameters), and the wall-clock bound
#: of the whole run: about 30 s on a quiet 2-core machine, never past TIME_BUDGET_S.
MAX_EXAMPLES = 150
TIME_BUDGET_S = 70.0


def test_no_server_error_and_no_response_schema_violation(api: ApiClient) -> None:
    import schemathesis

    base_url = f"http://127.0.0.1:{api.port}"
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    assert api.token is not None
    headers = {"Authorization": f"Bearer {api.token}"}
    deadline = time.monotonic() + TIME_BUDGET_S
    failures: dict[str, str] = {}
    calls: dict[str, int] = {}

    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # the document itself is invalid
            raise result.err()
        operations.append(result.ok())
    for mode, operation in itertools.product(GenerationMode, operations):
        label = f"{operation.label} ({mode.value})"
        calls[label] = 0
        try:
            _fuzz(
                operation,
                mode,
                lambda: time.monotonic() > deadline,
                calls,
                label,
                base_url,
                headers,
            )
        except Unsatisfiable:
            if mode is GenerationMode.NEGATIVE:  # no parameter or body: nothing to break
                del calls[label]
                continue
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - schemathesis raises a group: collect each
            failures[label] = f"{type(exc).__name__}: {str(exc)[:3000]}"

    assert calls, "the OpenAPI document lists no operation"
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
    # Every operation was reached before the budget ran out (one without parameters has one
    # request to make).
    assert all(n >= 1 for n in calls.values()), calls


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    out_of_time: Any,
    calls: dict[str, int],
    label: str,
    base_url: str,
    headers: dict[str, str],
) -> None:
    """Up to MAX_EXAMPLES generated requests to one operation (the same ones every run): valid
    ones (positive) or ones that break the document's rules (negative, answered 4xx); the
    first failing one is shrunk to the smallest request that still fails, and raised."""
    from schemathesis.checks import not_a_server_error, response_schema_conformance

    checks: list[Any] = [not_a_server_error, response_schema_conformance]

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def exercise(case: Any) -> None:
        if out_of_time():
            return
        calls[label] += 1
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        case.validate_response(response, checks=checks)

    exercise()
