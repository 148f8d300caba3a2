"""``.project.yaml``: what the repository says about the project it belongs to.

Rendered with ruamel.yaml: fixed key order at the top, ``config`` keys sorted
(PostgreSQL's JSONB does not keep key order, so sorting keeps the bytes stable
across round trips), unicode kept as written. The ``repository``
settings asked for are recorded under ``repository`` (only when there are any, so
a project without them keeps the bytes it always had). It never holds secret values:
only the names of the secrets that were set, so agents know what CI can use.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

__all__ = ["PROJECT_FILE_PATH", "project_id_in", "render_project_file"]

PROJECT_FILE_PATH = ".project.yaml"
_HEADER = "# Written by provisioner. The id ties this repository to its project.\n"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_unicode = True
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value


def render_project_file(
    *,
    project_id: UUID,
    name: str,
    description: str | None,
    owner: str | None,
    config: Mapping[str, Any],
    secret_names: Sequence[str],
    repository: Mapping[str, Any] | None = None,
) -> bytes:
    """The file's bytes; equal inputs give equal bytes."""
    document: dict[str, Any] = {
        "project": {
            "id": str(project_id),
            "name": name,
            "description": description or "",
            "owner": owner or "",
        },
        "config": _sorted(config),
        "secrets": sorted(secret_names),
    }
    if repository:
        document["repository"] = _sorted(repository)
    buffer = io.StringIO()
    buffer.write(_HEADER)
    _yaml().dump(document, buffer)
    return buffer.getvalue().encode("utf-8")


def project_id_in(content: bytes) -> str | None:
    """The project id a ``.project.yaml`` names, or ``None`` if it names none (or is not YAML)."""
    try:
        document = YAML(typ="safe").load(content.decode("utf-8", errors="replace"))
    except YAMLError:
        return None
    if not isinstance(document, Mapping):
        return None
    project = document.get("project")
    if not isinstance(project, Mapping) or project.get("id") is None:
        return None
    return str(project["id"])
