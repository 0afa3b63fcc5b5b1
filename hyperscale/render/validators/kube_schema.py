"""Strict schema validation of every rendered object, as the API server of the target version
would judge it with ``fieldValidation=Strict``: an unknown field is an error.

Built-in kinds use the strict JSON schemas that kubernetes-validate ships for each Kubernetes
minor version (generated from the upstream OpenAPI documents; maintained, one release per
Kubernetes release). Only its schema files are used, with our own jsonschema validator, so
every error of a document is reported rather than the first. Custom resources use the CRD
schemas kept in schemas/crds/ (see its README), made strict the same way.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperscale.errors import ExternalSystemError
from hyperscale.findings import Finding
from hyperscale.render.documents import Document
from hyperscale.render.validators.base import ValidatorReport, Workspace

if TYPE_CHECKING:
    import jsonschema
    import referencing

TOOL = "kube-schema"
#: The version EKS runs and the sandbox's kube-apiserver (v1.34.12) is built from.
KUBERNETES_VERSION = "1.34"
_DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"
_OBJECT_META = {"$ref": f"{_DEFINITIONS_ID}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}


def validate(workspace: Workspace) -> ValidatorReport:
    crds = crd_schemas(workspace.app.repo_root / "schemas" / "crds")
    report = ValidatorReport(TOOL)
    checked = 0
    for relative, docs in workspace.documents.items():
        for doc in docs:
            checked += 1
            report.findings += check_document(workspace.display(relative), doc, crds)
    report.notes.append(
        f"{checked} objects against Kubernetes {KUBERNETES_VERSION} (strict) and"
        f" {len(crds)} CRD schemas"
    )
    return report


def check_document(
    shown: Path, doc: Document, crds: dict[tuple[str, str], dict[str, Any]]
) -> list[Finding]:
    if not isinstance(doc.data, dict) or not doc.api_version or not doc.kind:
        return [
            Finding(
                shown,
                doc.line_of([]),
                TOOL,
                "not a Kubernetes object: apiVersion and kind are required",
            )
        ]
    crd = crds.get((doc.api_version, doc.kind))
    validator = (
        _crd_validator(json.dumps(crd))
        if crd is not None
        else builtin_validator(doc.api_version, doc.kind)
    )
    if validator is None:
        return [
            Finding(
                shown,
                doc.line_of(["kind"]),
                TOOL,
                f"{doc.kind} {doc.api_version}: no schema in Kubernetes {KUBERNETES_VERSION} or"
                " schemas/crds/ (a typo in apiVersion or kind, or a CRD schema to add)",
            )
        ]
    return [
        Finding(shown, doc.line_of(path), TOOL, f"{doc.kind}/{doc.name}: {message}")
        for path, message in _errors(validator, doc.data)
    ]


def _errors(
    validator: jsonschema.protocols.Validator, data: Any
) -> Iterator[tuple[list[str | int], str]]:
    from jsonschema.exceptions import best_match

    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        chosen = best_match(error.context) if error.context else error
        path: list[str | int] = list(chosen.absolute_path)
        where = _dotted(path) or "(top level)"
        if chosen.validator == "additionalProperties" and isinstance(chosen.instance, dict):
            known = chosen.schema.get("properties", {}) if isinstance(chosen.schema, dict) else {}
            for extra in sorted(k for k in chosen.instance if k not in known):
                yield [*path, extra], f"{_dotted([*path, extra])}: unknown field (strict schema)"
            continue
        yield path, f"{where}: {chosen.message}"


def _dotted(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@functools.cache
def _definitions_registry() -> referencing.Registry[Any]:
    from referencing import Registry, Resource

    definitions: dict[str, Any] = _schema_file("_definitions.json")
    registry: referencing.Registry[Any] = Registry().with_resource(
        _DEFINITIONS_ID, Resource.from_contents(definitions)
    )
    return registry


def _schema_dir() -> Any:
    from importlib import resources

    try:
        root = resources.files("kubernetes_validate")
    except ModuleNotFoundError:
        raise ExternalSystemError(
            "kubernetes-validate is not installed", hint="run `make bootstrap`"
        ) from None
    return root / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}.0-local-strict"


@functools.cache
def _schema_file(name: str) -> Any:
    entry = _schema_dir() / name
    if not entry.is_file():
        return None
    return json.loads(entry.read_text(encoding="utf-8"))


@functools.cache
def builtin_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    """The strict validator of a built-in kind (None when the version has no such kind)."""
    from jsonschema import Draft202012Validator

    group, _, version = api_version.rpartition("/")
    prefix = f"{group.split('.')[0]}-" if group else ""
    schema = _schema_file(f"{kind.lower()}-{prefix}{version}.json")
    if schema is None:
        return None
    return Draft202012Validator(schema, registry=_definitions_registry())


@functools.cache
def _crd_validator(schema_json: str) -> jsonschema.protocols.Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json), registry=_definitions_registry())


def crd_schemas(directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return dict(_crd_schemas(directory))


@functools.cache
def _crd_schemas(directory: Path) -> tuple[tuple[tuple[str, str], dict[str, Any]], ...]:
    import yaml

    found = []
    for path in sorted(directory.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        schema = strict(spec["openAPIV3Schema"])
        schema["properties"]["metadata"] = _OBJECT_META
        schema["properties"]["apiVersion"] = {"const": spec["apiVersion"]}
        schema["properties"]["kind"] = {"const": spec["kind"]}
        schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind"})
        found.append(((str(spec["apiVersion"]), str(spec["kind"])), schema))
    return tuple(found)


def strict(schema: Any) -> Any:
    """A structural schema as the API server applies it with fieldValidation=Strict: objects
    reject undeclared fields unless they preserve unknown fields."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
    if "properties" in schema:
        out["properties"] = {k: strict(v) for k, v in schema["properties"].items()}
    if (
        schema.get("type") == "object"
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out
