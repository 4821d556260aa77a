"""snake_case <-> camelCase: the one conversion the Python layer makes on
names. The wire (JSON and IPN) spells names in camelCase; Python callers in
snake_case."""

from __future__ import annotations

from enum import Enum
from typing import Any, Mapping


def camel(name: str) -> str:
    """``invoice_id`` -> ``invoiceId``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``invoiceId`` -> ``invoice_id`` (``ret_code`` stays as it is)."""
    return "".join("_" + c.lower() if "A" <= c <= "Z" else c for c in name)


def snake_keys(value: Any) -> Any:
    """A JSON value with every object's keys in snake_case."""
    if isinstance(value, Mapping):
        return {snake(str(k)): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def wire(params: Mapping[str, object]) -> dict[str, object]:
    """Keyword arguments as wire parameters: names in camelCase, enum
    members as their ``str`` value. Everything else is passed on as it is
    (the native layer refuses what is not a ``str`` or ``None``)."""
    return {camel(name): value.value if isinstance(value, Enum) else value for name, value in params.items()}
