"""Where handled IPNs are remembered: the store protocols and the two
stores of the Rust core (memory, SQLite)."""

from __future__ import annotations

import os
from typing import Literal, Protocol, Union, runtime_checkable

from ._native import NativeMemoryEventStore, NativeSqliteEventStore

__all__ = ["Claim", "EventStore", "AsyncEventStore", "AnyEventStore", "MemoryEventStore", "SqliteEventStore"]

Claim = Literal["new", "done", "in_progress"]
"""What a store answers a claim: ``new`` (run the handler, then complete or
release), ``done`` (already handled: answer success), ``in_progress``
(another delivery holds it: answer non-2xx so the API resends)."""


@runtime_checkable
class EventStore(Protocol):
    """A store of handled IPN keys (``transactionNo:status``), synchronous.

    The contract (the Rust core's ``EventStore``): ``claim`` atomically
    answers ``"done"`` for a completed key, ``"in_progress"`` for a key
    claimed within the store's lease and neither completed nor released, and
    otherwise records the claim and answers ``"new"``. ``complete`` marks a
    claimed key done (keep it at least 2 hours: the API resends that long);
    ``release`` forgets an uncompleted claim. Raise to report a failure: the
    IPN is then answered non-2xx."""

    def claim(self, key: str) -> Claim:
        """Claims ``key``: ``"new"``, ``"done"`` or ``"in_progress"``."""
        ...

    def complete(self, key: str) -> None:
        """Marks a claimed ``key`` done."""
        ...

    def release(self, key: str) -> None:
        """Forgets an uncompleted claim of ``key``."""
        ...


class AsyncEventStore(Protocol):
    """:class:`EventStore` with coroutine methods (over an async database
    driver, say); usable by the async path only."""

    async def claim(self, key: str) -> Claim:
        """Claims ``key``: ``"new"``, ``"done"`` or ``"in_progress"``."""
        ...

    async def complete(self, key: str) -> None:
        """Marks a claimed ``key`` done."""
        ...

    async def release(self, key: str) -> None:
        """Forgets an uncompleted claim of ``key``."""
        ...


AnyEventStore = Union[EventStore, AsyncEventStore]
"""A store of either kind."""


class MemoryEventStore:
    """The default store: this process's memory (the Rust core's
    ``MemoryEventStore``: a claim holds 5 minutes, keys are kept 7 days, at
    most 100,000). Lost at restart and not shared between processes: use
    :class:`SqliteEventStore` for several workers of one machine."""

    def __init__(self) -> None:
        self._native = NativeMemoryEventStore()

    def claim(self, key: str) -> Claim:
        """Claims ``key``: ``"new"``, ``"done"`` or ``"in_progress"``."""
        return self._native.claim(key)

    def complete(self, key: str) -> None:
        """Marks a claimed ``key`` done."""
        self._native.complete(key)

    def release(self, key: str) -> None:
        """Forgets an uncompleted claim of ``key``."""
        self._native.release(key)

    def __len__(self) -> int:
        return len(self._native)

    def __repr__(self) -> str:
        return f"MemoryEventStore(keys={len(self)})"


class SqliteEventStore:
    """A store in a SQLite file (the Rust core's ``SqliteEventStore``):
    survives restarts and is shared by every process of one machine that
    opens the same file (gunicorn or uvicorn workers). Each call releases
    the GIL; a failure raises ``OSError`` whose message starts with
    ``IPN_STORE_ERROR``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._native = NativeSqliteEventStore(os.fspath(path))

    @property
    def path(self) -> str:
        """The file the store lives in."""
        return self._native.path

    def claim(self, key: str) -> Claim:
        """Claims ``key``: ``"new"``, ``"done"`` or ``"in_progress"``."""
        return self._native.claim(key)

    def complete(self, key: str) -> None:
        """Marks a claimed ``key`` done."""
        self._native.complete(key)

    def release(self, key: str) -> None:
        """Forgets an uncompleted claim of ``key``."""
        self._native.release(key)

    def __repr__(self) -> str:
        return f"SqliteEventStore({self.path!r})"
