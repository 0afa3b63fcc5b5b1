"""No secret value in a rendered file: Secrets with data, literal passwords and tokens, well-known
credential shapes, and the actual values of the environment's own secrets where this machine can
read them. A finding names the file and line, never the value."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from hyperscale.clients.secrets import resolve_secret
from hyperscale.clients.tokens import auth_dir
from hyperscale.config.models import SERVICE_NAMES, SecretRef
from hyperscale.errors import HyperscaleError
from hyperscale.findings import Finding
from hyperscale.render.documents import Document, parse
from hyperscale.render.validators.base import ValidatorReport, Workspace

TOOL = "secrets"
#: Shorter values are too likely to occur by chance ("true", a port) to search for.
MIN_SECRET_LENGTH = 6
#: A field whose name says it holds a credential itself (not a file, a reference or a name).
_SECRET_FIELD = re.compile(
    r"(^|[_-])(password|passwd|pwd|token|api_?key|secret_?key|private_?key|auth_?token|"
    r"routing_?key|service_?key|webhook_?url|api_url|credentials?)$",
    re.IGNORECASE,
)
#: Fields that name a secret or a key in one (ExternalSecret, volumes), never hold its value.
_REFERENCE_FIELDS = {"secretKey", "secretName", "key", "property", "name"}
_SECRET_VARIABLE = re.compile(r"(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|CREDENTIAL)", re.IGNORECASE)
_SHAPES = {
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a Slack webhook URL": re.compile(r"hooks\.slack\.com/services/T[0-9A-Z]+/"),
    "credentials in a URL": re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@'\"]*:[^/\s@'\"]+@"),
    "a GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
}


def validate(workspace: Workspace) -> ValidatorReport:
    report = ValidatorReport(TOOL)
    # Every rendered YAML file, including those that are not Kubernetes objects (Alertmanager's
    # configuration, whose receivers take passwords, keys and webhook URLs).
    everything = dict(workspace.documents)
    for rendered in workspace.files:
        if rendered.relative not in everything:
            everything[rendered.relative] = parse(
                workspace.display(rendered.relative), rendered.text
            )[0]
    for relative, docs in everything.items():
        for doc in docs:
            report.findings += [
                Finding(workspace.display(relative), doc.line_of(path), TOOL, message)
                for path, message in _in_document(doc)
            ]
    values, skipped = _known_values(workspace)
    for rendered in workspace.files:
        shown = workspace.display(rendered.relative)
        for number, line in enumerate(rendered.text.splitlines(), start=1):
            report.findings += [
                Finding(shown, number, TOOL, f"{what} in the rendered text")
                for what, pattern in _SHAPES.items()
                if pattern.search(line)
            ]
            report.findings += [
                Finding(shown, number, TOOL, f"the value of {key} ({ref}) appears here")
                for key, (ref, value) in values.items()
                if value in line
            ]
    report.notes.append(
        f"{len(values)} secret values of the environment searched for"
        + (f"; not read at render time: {', '.join(skipped)}" if skipped else "")
    )
    return report


def _in_document(doc: Document) -> Iterator[tuple[list[str | int], str]]:
    data = doc.data
    if isinstance(data, dict) and data.get("kind") == "Secret":
        for field in ("data", "stringData"):
            if data.get(field):
                yield (
                    [field],
                    (
                        f"Secret/{doc.name} carries {field}: secret values never go in a rendered"
                        " file; use an ExternalSecret (config/external-secrets.yaml.j2)"
                    ),
                )
    yield from _literal_credentials(data, [])


def _literal_credentials(node: Any, path: list[str | int]) -> Iterator[tuple[list[str | int], str]]:
    if isinstance(node, dict):
        name = node.get("name")
        literal = node.get("value")
        if (
            isinstance(name, str)
            and _SECRET_VARIABLE.search(name)
            and not name.upper().endswith("_FILE")
            and isinstance(literal, str)
            and literal
        ):
            yield (
                [*path, "value"],
                (
                    f"environment variable {name} is given a literal value: mount the secret"
                    " as a file (*_FILE) or use valueFrom.secretKeyRef"
                ),
            )
        for key, value in node.items():
            if (
                isinstance(key, str)
                and isinstance(value, str)
                and value
                and key not in _REFERENCE_FIELDS
                and _SECRET_FIELD.search(key)
                and not value.startswith("/")
            ):
                yield (
                    [*path, key],
                    f"{key} holds a literal value: reference a secret file or key instead",
                )
            yield from _literal_credentials(value, [*path, key])
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _literal_credentials(item, [*path, index])


def _local_signing_key(workspace: Workspace) -> str | None:
    """The private part (``d``) of the local issuer's signing key, if this machine made one."""
    path = auth_dir(workspace.app, workspace.env.name) / "signing-key.json"
    try:
        private = json.loads(path.read_text(encoding="utf-8")).get("d")
    except (OSError, ValueError):
        return None
    return private if isinstance(private, str) and len(private) >= MIN_SECRET_LENGTH else None


def _known_values(workspace: Workspace) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """The environment's secret values this machine can read (env, file, generated); AWS
    references are not fetched: rendering never needs cloud credentials."""
    env = workspace.env
    refs: dict[str, SecretRef | None] = {
        "mysql.password": env.mysql.password,
        "redis.auth_token": env.redis.auth_token,
        "kafka.security.password": env.kafka.security.password,
        "reports.email.smtp.password": env.reports.email.smtp.password,
        "auth.client_secret": env.auth.client_secret,
    }
    if env.kafka.services is not None:
        refs |= {
            f"kafka.services.{s}.password": env.kafka.services.principal(s).password
            for s in SERVICE_NAMES
        }
    values: dict[str, tuple[str, str]] = {}
    signing_key = _local_signing_key(workspace)
    if signing_key is not None:
        values["auth (local issuer)"] = ("the local issuer's private key", signing_key)
    skipped: list[str] = []
    for key, ref in refs.items():
        if ref is None:
            continue
        if ref.aws_secret:
            skipped.append(key)
            continue
        try:
            value = resolve_secret(workspace.app, ref)
        except HyperscaleError:
            continue  # not set on this machine: nothing to leak from here
        if len(value) >= MIN_SECRET_LENGTH:
            values[key] = (ref.describe(), value)
    return values, skipped
