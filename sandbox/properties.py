"""Custom property values checked against an organization's schema."""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.models import Organization, PropertyDefinition, PropertyValue

__all__ = ["VALUE_TYPES", "check_value", "checked_values", "initial_values"]

VALUE_TYPES = ("string", "single_select", "multi_select", "true_false", "url")


def check_value(definition: PropertyDefinition, value: object) -> PropertyValue | None:
    """``value`` as stored for ``definition`` (None: unset), or ValueError saying why not."""
    name, kind = definition.name, definition.value_type
    if value is None:
        if definition.required:
            raise ValueError(f"Property {name} is required and cannot be unset.")
        return None
    allowed = definition.allowed_values or []
    if kind == "multi_select":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"Property {name} takes a list of strings.")
        for item in value:
            if item not in allowed:
                raise ValueError(f"Value {item} is not allowed for property {name}.")
        return list(value)
    if not isinstance(value, str):
        raise ValueError(f"Property {name} takes a string.")
    if kind == "single_select" and value not in allowed:
        raise ValueError(f"Value {value} is not allowed for property {name}.")
    if kind == "true_false" and value not in {"true", "false"}:
        raise ValueError(f"Property {name} takes true or false.")
    if kind == "url" and not value.startswith(("https://", "http://")):
        raise ValueError(f"Property {name} takes a URL.")
    return value


def checked_values(
    org: Organization, values: Iterable[tuple[object, object]]
) -> dict[str, PropertyValue | None]:
    """``(name, value)`` pairs checked against ``org``'s schema, by the schema's spelling.

    Raises ValueError naming the first unknown property or refused value.
    """
    out: dict[str, PropertyValue | None] = {}
    for name, value in values:
        definition = org.properties.get(str(name).lower()) if isinstance(name, str) else None
        if definition is None:
            raise ValueError(f"Property {name} is not defined for the organization.")
        out[definition.name] = check_value(definition, value)
    return out


def initial_values(org: Organization) -> dict[str, PropertyValue]:
    """What a new repository starts with: each required property's default value."""
    return {
        d.name: d.default_value
        for d in org.properties.values()
        if d.required and d.default_value is not None
    }
