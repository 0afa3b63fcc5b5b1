"""`hyperscale health` against real HTTP(S) servers on loopback, through the CLI: states,
thresholds, conditions and exit codes as cron and CI see them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import yaml

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import CliOutcome, invoke
from tests.health.servers import FAILURES_BEFORE_RECOVERY, Certificates


def health(app: AppContext, *args: str) -> CliOutcome:
    """`hyperscale health --urls-only` with quick retries: only the given URLs."""
    return invoke(app, "health", "--urls-only", "--retry-interval", "0.05", *args)


def endpoints(outcome: CliOutcome) -> dict[str, dict[str, Any]]:
    document = json.loads(outcome.stdout)
    assert document["command"] == "health"
    assert document["exit_code"] == outcome.exit_code
    return {e["url"]: e for e in document["data"]["endpoints"]}


def test_an_endpoint_that_meets_every_condition_is_up(isolated_app: AppContext, web: str) -> None:
    url = f"{web}/ok"
    outcome = health(
        isolated_app,
        "--url", url,
        "--expect-json", '$.status == "ok"',
        "--expect-json", "$.checks.db == up",
        "--expect-header", "Content-Type: ^application/json",
        "--max-latency-ms", "2000",
        "-o", "json",
    )  # fmt: skip
    assert outcome.exit_code == ExitCode.OK, outcome.stdout
    [(seen_url, endpoint)] = endpoints(outcome).items()
    assert seen_url == url
    assert (endpoint["state"], endpoint["status_code"], endpoint["attempts"]) == ("up", 200, 1)
    assert {c["name"]: c["outcome"] for c in endpoint["conditions"]} == {
        "status": "pass",
        "latency": "pass",
        "headers": "pass",
        "body": "pass",
    }


def test_a_wrong_json_body_is_down_and_says_what_it_found(
    isolated_app: AppContext, web: str
) -> None:
    outcome = health(
        isolated_app,
        "--url",
        f"{web}/wrong-body",
        "--expect-json",
        '$.status == "ok"',
        "-o",
        "json",
    )
    assert outcome.exit_code == ExitCode.CHECK_FAILED
    endpoint = endpoints(outcome)[f"{web}/wrong-body"]
    assert endpoint["state"] == "down"
    assert endpoint["attempts"] == 2  # the default failure threshold: one retry before DOWN
    assert 'found "degraded"' in endpoint["reason"]


def test_a_body_that_is_not_json_fails_a_json_assertion(isolated_app: AppContext, web: str) -> None:
    url = f"{web}/text"
    outcome = health(isolated_app, "--url", url, "--expect-json", "$.status", "-o", "json")
    assert outcome.exit_code == ExitCode.CHECK_FAILED
    assert endpoints(outcome)[url]["reason"] == "body: not JSON"


def test_a_header_that_does_not_match_is_down(isolated_app: AppContext, web: str) -> None:
    outcome = health(
        isolated_app, "--url", f"{web}/text", "--expect-header", "Content-Type: json", "-o", "json"
    )
    assert outcome.exit_code == ExitCode.CHECK_FAILED
    assert "does not match 'json'" in endpoints(outcome)[f"{web}/text"]["reason"]


def test_a_slow_endpoint_is_down_past_the_latency_limit_degraded_past_the_warning(
    isolated_app: AppContext, web: str
) -> None:
    url = f"{web}/slow"
    down = health(isolated_app, "--url", url, "--max-latency-ms", "300", "-o", "json")
    assert down.exit_code == ExitCode.CHECK_FAILED
    endpoint = endpoints(down)[url]
    assert endpoint["state"] == "down"
    assert endpoint["latency_ms"] >= 600
    assert "> 300 ms" in endpoint["reason"]

    warned = health(isolated_app, "--url", url, "--warn-latency-ms", "300", "-o", "json")
    assert warned.exit_code == ExitCode.OK  # DEGRADED exits 0 unless asked otherwise
    assert endpoints(warned)[url]["state"] == "degraded"

    strict = health(isolated_app, "--url", url, "--warn-latency-ms", "300", "--fail-on-degraded")
    assert strict.exit_code == ExitCode.CHECK_FAILED
    assert "0 up, 1 degraded, 0 down" in strict.stdout


def test_an_endpoint_that_fails_twice_then_recovers_is_judged_by_the_thresholds(
    isolated_app: AppContext, web: str
) -> None:
    patient = f"{web}/flaky/{uuid.uuid4().hex}"
    outcome = health(isolated_app, "--url", patient, "--failure-threshold", "3", "-o", "json")
    assert outcome.exit_code == ExitCode.OK
    endpoint = endpoints(outcome)[patient]
    assert endpoint["state"] == "up"
    assert (endpoint["attempts"], endpoint["failed_attempts"]) == (3, FAILURES_BEFORE_RECOVERY)
    assert "answered after 2 failed attempts" in endpoint["reason"]

    strict = f"{web}/flaky/{uuid.uuid4().hex}"
    outcome = health(isolated_app, "--url", strict, "--failure-threshold", "2", "-o", "json")
    assert outcome.exit_code == ExitCode.CHECK_FAILED
    endpoint = endpoints(outcome)[strict]
    assert (endpoint["state"], endpoint["attempts"]) == ("down", 2)
    assert "503, expected 2xx" in endpoint["reason"]


def test_needing_two_good_answers_keeps_a_recovering_endpoint_from_up_too_soon(
    isolated_app: AppContext, web: str
) -> None:
    """Failure threshold 3 is never reached (2 failures), and one success is not the two
    required: the run ends undecided, which is DEGRADED."""
    url = f"{web}/flaky/{uuid.uuid4().hex}"
    outcome = health(
        isolated_app,
        "--url", url, "--failure-threshold", "3", "--success-threshold", "2", "-o", "json",
    )  # fmt: skip
    endpoint = endpoints(outcome)[url]
    assert (endpoint["state"], endpoint["attempts"]) == ("up", 4)
    url = f"{web}/flaky/{uuid.uuid4().hex}"
    outcome = health(
        isolated_app,
        "--url", url, "--failure-threshold", "5", "--success-threshold", "4", "-o", "json",
    )  # fmt: skip
    endpoint = endpoints(outcome)[url]
    assert (endpoint["state"], endpoint["attempts"]) == ("up", 6)


def test_a_certificate_expiring_in_three_days_is_down_or_degraded_by_configuration(
    isolated_app: AppContext, tls_web: str, certificates: Certificates
) -> None:
    url = f"{tls_web}/ok"
    ca = str(certificates.ca_file)
    default = health(isolated_app, "--url", url, "--ca-file", ca, "-o", "json")
    assert default.exit_code == ExitCode.CHECK_FAILED  # fewer than 7 days: DOWN
    endpoint = endpoints(default)[url]
    assert endpoint["state"] == "down"
    assert 2.9 < endpoint["cert_expires_in_days"] <= 3.0
    assert "expires in 3.0 days (< 7)" in endpoint["reason"]

    lenient = health(
        isolated_app, "--url", url, "--ca-file", ca, "--cert-fail-days", "2", "-o", "json"
    )
    assert lenient.exit_code == ExitCode.OK
    assert endpoints(lenient)[url]["state"] == "degraded"

    calm = health(
        isolated_app, "--url", url, "--ca-file", ca,
        "--cert-fail-days", "1", "--cert-warn-days", "2", "-o", "json",
    )  # fmt: skip
    assert endpoints(calm)[url]["state"] == "up"


def test_a_certificate_nobody_vouches_for_is_down(isolated_app: AppContext, tls_web: str) -> None:
    outcome = health(isolated_app, "--url", f"{tls_web}/ok", "-o", "json")
    assert outcome.exit_code == ExitCode.CHECK_FAILED
    reason = endpoints(outcome)[f"{tls_web}/ok"]["reason"]
    assert reason.startswith("answer: TLS: ")
    assert "certificate verify failed" in reason


def test_nothing_listening_is_down_with_the_reason(isolated_app: AppContext) -> None:
    from tests.support import free_port

    url = f"http://127.0.0.1:{free_port()}/healthz"
    outcome = health(isolated_app, "--url", url, "-o", "json")
    assert outcome.exit_code == ExitCode.CHECK_FAILED
    assert endpoints(outcome)[url]["reason"] == "answer: cannot connect: connection refused"


def test_prometheus_output_is_a_valid_exposition_for_a_textfile_collector(
    isolated_app: AppContext, web: str, tls_web: str, certificates: Certificates
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    ok, tls = f"{web}/ok", f"{tls_web}/ok"
    outcome = health(
        isolated_app, "--url", ok, "--url", tls, "--ca-file", str(certificates.ca_file),
        "--cert-fail-days", "1", "-o", "prometheus",
    )  # fmt: skip
    assert outcome.exit_code == ExitCode.OK
    samples = {
        (s.name, s.labels.get("url"), s.labels.get("state")): s.value
        for family in text_string_to_metric_families(outcome.stdout)
        for s in family.samples
    }
    assert samples[("hyperscale_health_up", ok, None)] == 1
    assert samples[("hyperscale_health_state", tls, "degraded")] == 1
    assert samples[("hyperscale_health_state", tls, "up")] == 0
    assert samples[("hyperscale_health_http_status_code", ok, None)] == 200
    expiry = samples[("hyperscale_health_certificate_expiry_timestamp_seconds", tls, None)]
    assert abs(expiry - certificates.not_after.timestamp()) < 2
    assert ("hyperscale_health_last_run_timestamp_seconds", None, None) in samples


def test_watch_checks_again_and_carries_the_counts_over(isolated_app: AppContext, web: str) -> None:
    """Two rounds, one attempt each allowed to fail: the first sees 503, 503 (DOWN), the
    second sees 200 and the endpoint is UP again; one envelope per line."""
    url = f"{web}/flaky/{uuid.uuid4().hex}"
    outcome = health(
        isolated_app, "--url", url, "--watch", "--count", "2", "--interval", "0.05", "-o", "json"
    )
    lines = [json.loads(line) for line in outcome.stdout.splitlines()]
    states = [doc["data"]["endpoints"][0]["state"] for doc in lines]
    assert states == ["down", "up"]
    assert outcome.exit_code == ExitCode.OK  # the last round's


def test_the_environment_s_workloads_and_endpoints_are_checked(
    isolated_app: AppContext, web: str
) -> None:
    """The local target's API and consumer (their readiness URLs) and an endpoint of the
    environment's health section, with its own conditions."""
    port = web.rsplit(":", 1)[1]
    path = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data["services"] = {
        "api_url": f"http://127.0.0.1:{port}",
        "consumer_metrics_url": f"http://127.0.0.1:{port}/metrics",
    }
    data["local"]["consumers"] = 1
    data["health"] = {
        "retry_interval_s": 0.05,
        "endpoints": [
            {"name": "partner", "url": f"{web}/wrong-body", "json": ["$.checks.db == up"]}
        ],
    }
    path.write_text(yaml.safe_dump(data))
    outcome = invoke(isolated_app, "health", "--env", "local", "-o", "json")
    found = {
        e["name"]: (e["source"], e["state"])
        for e in json.loads(outcome.stdout)["data"]["endpoints"]
    }
    assert found == {
        "api": ("workload", "up"),
        "consumer-1": ("workload", "up"),
        "partner": ("environment", "down"),
    }
    assert outcome.exit_code == ExitCode.CHECK_FAILED


def test_bad_input_is_one_line_and_exit_2(isolated_app: AppContext, web: str) -> None:
    cases = {
        ("--url", "ftp://example"): "give an http:// or https:// URL",
        ("--url", f"{web}/ok", "--expect-json", "$.[["): "is not a JSONPath assertion",
        ("--url", f"{web}/ok", "--expect-header", "no colon"): "is not a header assertion",
        ("--url", f"{web}/ok", "--status", "9xx"): "status must be codes like 200",
        ("--url", f"{web}/ok", "--ca-file", "/nonexistent/ca.pem"): "does not exist",
        ("--url", f"{web}/ok", "--count", "2"): "--count needs --watch",
        ("--url", f"{web}/ok", "--cert-fail-days", "30"): "exceeds --cert-warn-days",
        ("--expect-json", "$.a"): "apply to --url endpoints",
    }
    for args, message in cases.items():
        outcome = health(isolated_app, *args)
        assert outcome.exit_code == ExitCode.USAGE, (args, outcome.stdout, outcome.stderr)
        assert message in outcome.stderr, (args, outcome.stderr)
        assert len(outcome.stderr.strip().splitlines()) == 1, outcome.stderr
        assert "Traceback" not in outcome.stderr


def test_nothing_to_check_is_a_usage_error(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "health", "--urls-only")
    assert outcome.exit_code == ExitCode.USAGE
    assert "nothing to check" in outcome.stderr


def test_a_kubernetes_environment_s_workloads_are_its_ingress_and_consumer_service(
    isolated_app: AppContext,
) -> None:
    """What health checks on staging: the API's readiness through the ingress and the
    consumers' /healthz beside their metrics (nothing is contacted to list them)."""
    from hyperscale.config.loader import load_environment
    from hyperscale.targets import for_env

    staging = load_environment(isolated_app, "staging")
    found = {w.name: (w.role, w.health_url) for w in for_env(staging, isolated_app).workloads()}
    assert found == {
        "api": ("api", "https://api.staging.hyperscale.example.com/readyz"),
        "consumer": ("consumer", "https://consumer.staging.hyperscale.example.com/healthz"),
    }


def test_a_bad_health_section_names_the_file_and_key(isolated_app: AppContext) -> None:
    path = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data["health"] = {
        "endpoints": [{"name": "cdn", "url": "https://cdn.example", "status": ["99x"]}]
    }
    path.write_text(yaml.safe_dump(data))
    outcome = invoke(isolated_app, "health", "--env", "local")
    assert outcome.exit_code == ExitCode.USAGE
    assert f"{path}:" in outcome.stderr
    assert "health.endpoints.0.status" in outcome.stderr
    assert "status must be codes like 200, 2xx or 200-204 (got 99x)" in outcome.stderr
