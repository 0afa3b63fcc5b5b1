"""Which provider plugins a Terraform directory needs, and whether a local mirror holds them.

`terraform validate` loads every provider's schema, so it runs only where the providers are
installed. Nothing can be downloaded on the machines this project runs on, but some have a
filesystem mirror (the layout of `terraform providers mirror`): its location is
``$HYPERSCALE_TF_PLUGIN_DIR`` when set, else ``/opt/tf-plugins`` when that exists.

A directory needs the providers of its own ``.tf`` files and of every local module it calls
(``source = "../x"``), transitively: the configuration `terraform init` would install for.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.context import AppContext

#: Overrides where the provider mirror is.
MIRROR_ENV = "HYPERSCALE_TF_PLUGIN_DIR"
#: Where the mirror is when the variable is not set (if the directory exists).
DEFAULT_MIRROR = Path("/opt/tf-plugins")
DEFAULT_REGISTRY = "registry.terraform.io"
#: The built-in provider (terraform_data, terraform_remote_state) is never installed.
BUILTIN = "terraform.io/builtin/terraform"
_LOCAL_SOURCE = ("./", "../")
_ADDRESS_PARTS = 3  # hostname/namespace/type

#: Reads the documents (python-hcl2 output) of one directory's ``.tf`` files.
DirectoryParser = Callable[[Path], list[dict[str, Any]] | None]


def plugin_mirror(app: AppContext) -> Path | None:
    """The provider mirror: ``$HYPERSCALE_TF_PLUGIN_DIR``, else /opt/tf-plugins, else none.

    A variable naming a directory that does not exist is kept (every provider is then missing
    from it, and the skip note says where it looked) rather than silently ignored.
    """
    chosen = app.environ.get(MIRROR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return DEFAULT_MIRROR if DEFAULT_MIRROR.is_dir() else None


@dataclass(frozen=True)
class Configuration:
    """A directory terraform would run in, and what `terraform init` would have to install."""

    root: Path
    #: The root, then every local module it calls, transitively (lexical paths, as terraform
    #: resolves them: a module reached through a symbolic link keeps the link's path).
    directories: tuple[Path, ...]
    #: Provider source addresses (registry.terraform.io/hashicorp/aws), without the built-in.
    providers: tuple[str, ...]
    #: Module sources that are not local directories (registry, git): they need a download.
    remote_modules: tuple[str, ...]
    #: Local module directories that do not exist or do not parse.
    unreadable: tuple[Path, ...]
    #: The root's ``configuration_aliases`` (``aws.us_east_1``): provider configurations a
    #: caller passes in, which nothing passes when the directory is validated on its own.
    root_aliases: tuple[str, ...] = ()


def configuration(root: Path, parse: DirectoryParser) -> Configuration:
    """``root`` and the local modules it calls; ``parse`` returns None for a broken directory."""
    seen: list[Path] = []
    providers: set[str] = set()
    remote: set[str] = set()
    unreadable: list[Path] = []
    aliases: list[str] = []
    pending = [Path(os.path.normpath(root))]
    while pending:
        directory = pending.pop(0)
        if directory in seen or directory in unreadable:
            continue
        documents = parse(directory) if directory.is_dir() else None
        if documents is None:
            unreadable.append(directory)
            continue
        if not seen:
            aliases = configuration_aliases(documents)
        seen.append(directory)
        providers |= provider_sources(documents)
        for source in module_sources(documents):
            if source.startswith(_LOCAL_SOURCE):
                pending.append(Path(os.path.normpath(directory / source)))
            else:
                remote.add(source)
    return Configuration(
        root=seen[0] if seen else root,
        directories=tuple(seen),
        providers=tuple(sorted(providers - {BUILTIN})),
        remote_modules=tuple(sorted(remote)),
        unreadable=tuple(unreadable),
        root_aliases=tuple(aliases),
    )


def provider_sources(documents: list[dict[str, Any]]) -> set[str]:
    """The providers one module needs: its ``required_providers``, and the provider implied by
    every resource, data source or provider block whose local name is not declared there."""
    declared: dict[str, str] = {}
    for document in documents:
        for block in document.get("terraform", []):
            for requirements in block.get("required_providers", []):
                for name, spec in requirements.items():
                    if name.startswith("__"):
                        continue
                    source = spec.get("source") if isinstance(spec, dict) else None
                    declared[_unquote(name)] = source_address(
                        _unquote(source) if isinstance(source, str) else _unquote(name)
                    )
    used: set[str] = set()
    for document in documents:
        for kind in ("resource", "data"):
            for block in document.get(kind, []):
                used.update(_unquote(t).split("_", 1)[0] for t in block if not t.startswith("__"))
        for block in document.get("provider", []):
            used.update(_unquote(name) for name in block if not name.startswith("__"))
    implied = {source_address(name) for name in used - set(declared)}
    return set(declared.values()) | implied


def configuration_aliases(documents: list[dict[str, Any]]) -> list[str]:
    """``aws.us_east_1`` for ``configuration_aliases = [aws.us_east_1]`` in required_providers,
    unless the module configures that alias itself."""
    found = []
    for document in documents:
        for block in document.get("terraform", []):
            for requirements in block.get("required_providers", []):
                for spec in requirements.values():
                    if isinstance(spec, dict):
                        found += [
                            str(alias).removeprefix("${").removesuffix("}")
                            for alias in spec.get("configuration_aliases", [])
                        ]
    configured = {
        f"{_unquote(name)}.{_unquote(str(body['alias']))}"
        for document in documents
        for block in document.get("provider", [])
        for name, body in block.items()
        if isinstance(body, dict) and "alias" in body
    }
    return sorted(set(found) - configured)


def module_sources(documents: list[dict[str, Any]]) -> list[str]:
    sources = []
    for document in documents:
        for block in document.get("module", []):
            for name, body in block.items():
                if not name.startswith("__") and isinstance(body, dict) and "source" in body:
                    sources.append(_unquote(str(body["source"])))
    return sources


def source_address(source: str) -> str:
    """The fully qualified address: ``aws`` and ``hashicorp/aws`` are
    ``registry.terraform.io/hashicorp/aws``; ``terraform`` is the built-in provider."""
    parts = source.lower().split("/")
    if parts == ["terraform"] or parts[-2:] == ["builtin", "terraform"]:
        return BUILTIN
    defaults = [DEFAULT_REGISTRY, "hashicorp"][: max(0, _ADDRESS_PARTS - len(parts))]
    return "/".join([*defaults, *parts])


def short_name(address: str) -> str:
    """``hashicorp/aws`` for the default registry, the full address for any other."""
    return address.removeprefix(f"{DEFAULT_REGISTRY}/")


def mirror_versions(mirror: Path, address: str) -> list[str]:
    """The versions of a provider the mirror holds for this platform, in either layout
    (unpacked ``HOST/NS/TYPE/VERSION/OS_ARCH/`` or packed ``HOST/NS/TYPE/*_VERSION_OS_ARCH.zip``).
    Whether one satisfies the version constraints is for `terraform init` to say."""
    directory = mirror / address
    if not directory.is_dir():
        return []
    target = current_platform()
    _, _, kind = address.rpartition("/")
    packed_prefix, packed_suffix = f"terraform-provider-{kind}_", f"_{target}.zip"
    versions = set()
    for entry in directory.iterdir():
        if (entry / target).is_dir():
            versions.add(entry.name)
        elif entry.name.startswith(packed_prefix) and entry.name.endswith(packed_suffix):
            versions.add(entry.name[len(packed_prefix) : -len(packed_suffix)])
    return sorted(versions)


def current_platform() -> str:
    """Terraform's name for this machine's platform: linux_amd64, darwin_arm64..."""
    system = {"win32": "windows"}.get(sys.platform, sys.platform)
    system = "linux" if system.startswith("linux") else system
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "i386": "386", "i686": "386"}.get(
        machine, machine
    )
    return f"{system}_{arch}"


def _unquote(name: str) -> str:
    return name.strip('"')
