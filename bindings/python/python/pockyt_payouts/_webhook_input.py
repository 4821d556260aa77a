"""What the IPN functions are handed, checked and converted: the raw
body (or a TypeError naming the mistake: an already parsed form, ``None``,
an un-awaited ``request.body()``), and a decoded form's (name, value) pairs,
every value of a multi-valued field included."""

from __future__ import annotations

import inspect
from typing import Any, Iterable, Mapping

__all__ = ["raw_body", "pairs", "token"]

_RAW_BODY_HINT = (
    "pass the raw request body, exactly as received "
    "(FastAPI: await request.body(); Flask: request.get_data(); Django: request.body)"
)


def raw_body(body: object) -> bytes | bytearray | str:
    """The body, or a TypeError naming the mistake."""
    if isinstance(body, (bytes, bytearray, str)):
        return body
    if isinstance(body, memoryview):
        return body.tobytes()
    if body is None:
        raise TypeError(f"no IPN body (None): {_RAW_BODY_HINT}")
    if inspect.isawaitable(body):
        getattr(body, "close", lambda: None)()
        raise TypeError("the body is an awaitable: await it first (body = await request.body())")
    if isinstance(body, Mapping) or hasattr(body, "getlist"):
        raise TypeError(
            "the body was already parsed: pass the raw body (await request.body()) or use event_from_fields(...)"
        )
    raise TypeError(f"the IPN body must be bytes or str, not {type(body).__name__}: {_RAW_BODY_HINT}")


def pairs(fields: object) -> Iterable[Any]:
    """Every (name, value) pair of a decoded form, a multi-valued field as
    repeated pairs (so that the Rust core sees, and refuses, a repeated
    ``verifySign``)."""
    if fields is None:
        raise TypeError("no IPN fields (None): pass the decoded form (await request.form(), request.form, request.POST)")
    if isinstance(fields, (bytes, bytearray, str, memoryview)):
        raise TypeError("this is the raw body: use construct_event(body, api_token)")
    if inspect.isawaitable(fields):
        getattr(fields, "close", lambda: None)()
        raise TypeError("the fields are an awaitable: await it first (fields = await request.form())")
    multi_items = getattr(fields, "multi_items", None)
    if callable(multi_items):  # Starlette FormData, ImmutableMultiDict
        return list(multi_items())
    lists = getattr(fields, "lists", None)
    if callable(lists):  # Django QueryDict, werkzeug MultiDict
        return [(name, value) for name, values in lists() for value in values]
    if isinstance(fields, Mapping):  # a list value (parse_qs) is a repeated field
        return [
            (name, item)
            for name, value in fields.items()
            for item in (value if isinstance(value, (list, tuple)) else (value,))
        ]
    if isinstance(fields, Iterable):
        return fields
    raise TypeError(f"the IPN fields must be a mapping or (name, value) pairs, not {type(fields).__name__}")


def token(api_token: object) -> str:
    """The token, or a TypeError (never showing the value)."""
    if not isinstance(api_token, str):
        raise TypeError(f"api_token must be a str, not {type(api_token).__name__}")
    return api_token
