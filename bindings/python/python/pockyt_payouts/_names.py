"""snake_case <-> camelCase: the one conversion the Python layer makes on
names. The wire (JSON and IPN) spells names in camelCase; Python callers in
snake_case. The conversion is the Rust core's (``_native.snake_case`` and
``_native.camel_case``)."""

from __future__ import annotations

from enum import Enum
from functools import lru_cache
from typing import Mapping

from . import _native


# The rule itself lives in Rust (``pockyt_payouts::naming``). Remembering the
# few names an application uses makes each later conversion a dict lookup
# rather than a call into the extension module.
_camel_case = lru_cache(maxsize=1024)(_native.camel_case)
_snake_case = lru_cache(maxsize=1024)(_native.snake_case)


def camel(name: str) -> str:
    """``invoice_id`` -> ``invoiceId``."""
    return _camel_case(name)


def snake(name: str) -> str:
    """``invoiceId`` -> ``invoice_id`` (``ret_code`` stays as it is)."""
    return _snake_case(name)


def wire(params: Mapping[str, object]) -> dict[str, object]:
    """Keyword arguments as wire parameters: names in camelCase, enum
    members as their ``str`` value. Everything else is passed on as it is
    (the native layer refuses what is not a ``str`` or ``None``)."""
    return {camel(name): value.value if isinstance(value, Enum) else value for name, value in params.items()}
