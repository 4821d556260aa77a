"""Webhooks (IPN): verify, type, deduplicate, answer.

The API POSTs every payout status change to the pay call's ``ipn_url``: a
signed ``application/x-www-form-urlencoded`` form, resent (up to 8 times
over 2 hours) until the receiver answers the plain text ``success``. Every
rule here is the Rust core's (``pockyt_payouts::webhook``); this module
only carries calls across and sequences them.

- :func:`construct_event` takes the **raw body** and the API token and
  returns a :class:`~pockyt_payouts.PayoutEvent` only when the IPN is
  genuine and unambiguous; otherwise it raises :class:`WebhookError` with a
  stable ``code``. :func:`event_from_fields` does the same for a form a
  framework already decoded.
- :class:`Webhook` holds the token and a store, and runs your handler **at
  most once per transactionNo + status** (:meth:`Webhook.handle`,
  :meth:`Webhook.handle_async`), answering the :class:`Reply` to send:
  ``200 success`` only after the handler succeeded (or had already),
  non-2xx otherwise so the API resends.
- Framework integrations (optional extras): :mod:`pockyt_payouts.fastapi`,
  :mod:`pockyt_payouts.flask`, :mod:`pockyt_payouts.django`.

This module imports no web framework.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Union

from . import _native
from ._models import PayoutEvent
from ._webhook_error import WebhookError
from ._webhook_input import pairs as _pairs
from ._webhook_input import raw_body as _raw_body
from ._webhook_input import token as _token
from ._webhook_stores import AnyEventStore, AsyncEventStore, Claim, EventStore, MemoryEventStore, SqliteEventStore

__all__ = [
    "construct_event",
    "event_from_fields",
    "WebhookError",
    "Webhook",
    "Outcome",
    "Reply",
    "oversized_reply",
    "Fields",
    "Claim",
    "EventStore",
    "AsyncEventStore",
    "AnyEventStore",
    "MemoryEventStore",
    "SqliteEventStore",
    "PayoutEvent",
    "SUCCESS_BODY",
    "CONTENT_TYPE",
    "MAX_BODY_BYTES",
]

SUCCESS_BODY: str = _native.IPN_SUCCESS_BODY
"""The plain-text body that tells the API an IPN was received: ``success``."""
CONTENT_TYPE: str = _native.IPN_CONTENT_TYPE
"""The content type of every answer (plain text)."""
MAX_BODY_BYTES: int = _native.IPN_MAX_BODY_BYTES
"""The largest IPN body a receiver should read (genuine ones are a few
hundred bytes)."""

Fields = Union[Mapping[str, Any], Iterable["tuple[str, Any]"]]
"""A decoded IPN form: any mapping (Starlette ``FormData``, Django
``QueryDict``, werkzeug ``MultiDict``, a ``dict``; every value of a
multi-valued field is passed on) or ``(name, value)`` pairs."""

_logger = logging.getLogger("pockyt_payouts.webhooks")

def construct_event(body: bytes | bytearray | memoryview | str, api_token: str) -> PayoutEvent:
    """Verifies a raw IPN body (exactly as received) with the API token and
    returns the typed event.

    :raises WebhookError: the IPN is refused (``code``: ``IPN_EMPTY_TOKEN``,
        ``IPN_MISSING_SIGNATURE``, ``IPN_REPEATED_SIGNATURE``,
        ``IPN_SIGNATURE_MISMATCH``, ``IPN_MALFORMED_BODY``).
    :raises TypeError: ``body`` is not the raw body (``None``, an already
        parsed form, an un-awaited ``request.body()``).
    """
    return _native.construct_event(_raw_body(body), _token(api_token), PayoutEvent)


def event_from_fields(fields: Fields, api_token: str) -> PayoutEvent:
    """Verifies an IPN whose form a framework already decoded (``await
    request.form()``, ``request.form``, ``request.POST``, or pairs) and
    returns the typed event. Prefer :func:`construct_event` with the raw
    body: a decoder can hide what verification must see.

    :raises WebhookError: the IPN is refused (a multi-valued ``verifySign``
        is ``IPN_REPEATED_SIGNATURE``).
    :raises TypeError: a name or value is not a ``str`` (an uploaded file).
    """
    return _native.event_from_fields(_pairs(fields), _token(api_token), PayoutEvent)


@dataclass(frozen=True)
class Reply:
    """An answer to the API: HTTP ``status`` and plain-text ``body``
    (exactly ``success`` when the API should stop resending), sent with
    ``content_type``."""

    status: int
    """The HTTP status."""
    body: str
    """The plain-text body; never echoes what the IPN carried."""
    content_type: str = CONTENT_TYPE
    """``text/plain; charset=utf-8``."""

    @classmethod
    def for_outcome(cls, name: str, code: str | None = None) -> Reply:
        """The Rust core's answer for the outcome ``name``; ``refused``
        needs the refusal's ``code``."""
        status, body = _native.reply_for(name, code)
        return cls(status, body)


def oversized_reply() -> Reply:
    """The answer to a body over :data:`MAX_BODY_BYTES` (which the
    integrations stop reading at): the Rust core's refusal of a malformed
    IPN, ``400 refused: IPN_MALFORMED_BODY``."""
    return Reply.for_outcome("refused", "IPN_MALFORMED_BODY")


@dataclass(frozen=True)
class Outcome:
    """How one IPN delivery ended, and the :class:`Reply` to send."""

    name: str
    """``handled``, ``duplicate``, ``in_progress``, ``refused``,
    ``handler_failed`` or ``store_failed``."""
    reply: Reply
    """The answer to send."""
    event: PayoutEvent | None = None
    """The verified event (``None`` when refused)."""
    error: BaseException | None = None
    """Why it was refused or failed (the :class:`WebhookError`, the
    handler's or the store's exception)."""

    @property
    def succeeded(self) -> bool:
        """Whether the reply is a 2xx ``success`` (the API stops resending)."""
        return 200 <= self.reply.status < 300


def _outcome(name: str, event: PayoutEvent | None = None, error: BaseException | None = None) -> Outcome:
    code = error.code if isinstance(error, WebhookError) else None
    return Outcome(name, Reply.for_outcome(name, code), event, error)


def _claimed(event: PayoutEvent, claim: object) -> Outcome | None:
    """The outcome a claim decides (``None``: run the handler)."""
    name = _native.outcome_for_claim(claim)
    if name is None:
        return None
    if name == "store_failed":
        return _outcome(name, event, ValueError(f"the store answered {claim!r} to a claim"))
    return _outcome(name, event)


class Webhook:
    """An IPN receiver: the API token to verify with (default
    ``POCKYT_API_TOKEN``) and the store that remembers handled events
    (default :class:`MemoryEventStore`). The token never appears in its
    repr.

    :raises WebhookError: ``IPN_EMPTY_TOKEN`` when the token is empty or
        only whitespace (refused here, not at the first IPN).
    """

    def __init__(self, api_token: str | None = None, *, store: AnyEventStore | None = None) -> None:
        token = os.environ.get("POCKYT_API_TOKEN", "") if api_token is None else _token(api_token)
        _native.check_api_token(token)
        self._token = token
        self._store: AnyEventStore = MemoryEventStore() if store is None else store

    @property
    def store(self) -> AnyEventStore:
        """The store handled events are remembered in."""
        return self._store

    def __repr__(self) -> str:
        return f"Webhook(api_token=<redacted>, store={self._store!r})"

    def construct_event(self, body: bytes | bytearray | memoryview | str) -> PayoutEvent:
        """:func:`construct_event` with this receiver's token."""
        return construct_event(body, self._token)

    def event_from_fields(self, fields: Fields) -> PayoutEvent:
        """:func:`event_from_fields` with this receiver's token."""
        return event_from_fields(fields, self._token)

    # -- synchronous ------------------------------------------------------

    def handle(self, body: bytes | bytearray | memoryview | str, handler: Callable[[PayoutEvent], object]) -> Outcome:
        """Verifies the raw body, then runs ``handler`` at most once for the
        event (:meth:`run_once`). A refused IPN is an outcome (``refused``),
        not an exception. Send ``outcome.reply`` back."""
        try:
            event = self.construct_event(body)
        except WebhookError as refused:
            _logger.warning("IPN refused: %s", refused.code)
            return _outcome("refused", None, refused)
        return self.run_once(event, handler)

    def run_once(self, event: PayoutEvent, handler: Callable[[PayoutEvent], object]) -> Outcome:
        """Runs ``handler`` (synchronous; raising means it failed) unless it
        already succeeded for the same transactionNo + status or runs
        elsewhere now: claims the key, runs, then completes the key, or
        releases it when the handler raised so the API's resend runs it
        again. Needs a synchronous store."""
        key = _native.dedup_key(event.transaction_no, event.status)
        store = self._store
        try:
            claim = store.claim(key)
            if inspect.isawaitable(claim):
                getattr(claim, "close", lambda: None)()
                raise TypeError("the store is asynchronous: use handle_async / run_once_async")
        except Exception as failed:
            _logger.warning("IPN store failed to claim %s", key)
            return _outcome("store_failed", event, failed)
        decided = _claimed(event, claim)
        if decided is not None:
            return decided
        try:
            result = handler(event)
            if inspect.isawaitable(result):
                getattr(result, "close", lambda: None)()
                raise TypeError("the handler is a coroutine function: use handle_async / run_once_async")
        except Exception as error:
            _logger.warning("IPN handler failed for %s", key, exc_info=True)
            try:
                store.release(key)
            except Exception as failed:
                return _outcome("store_failed", event, failed)
            return _outcome("handler_failed", event, error)
        try:
            store.complete(key)
        except Exception as failed:
            return _outcome("store_failed", event, failed)
        return _outcome("handled", event)

    # -- asynchronous -----------------------------------------------------

    async def handle_async(
        self, body: bytes | bytearray | memoryview | str, handler: Callable[[PayoutEvent], object]
    ) -> Outcome:
        """:meth:`handle` for an event loop: ``handler`` may be a coroutine
        function (awaited) or a plain one (run in a worker thread)."""
        try:
            event = self.construct_event(body)
        except WebhookError as refused:
            _logger.warning("IPN refused: %s", refused.code)
            return _outcome("refused", None, refused)
        return await self.run_once_async(event, handler)

    async def run_once_async(self, event: PayoutEvent, handler: Callable[[PayoutEvent], object]) -> Outcome:
        """:meth:`run_once` for an event loop; the store may be an
        :class:`AsyncEventStore` (awaited) or an :class:`EventStore`
        (:class:`SqliteEventStore` and your own run in a worker thread)."""
        key = _native.dedup_key(event.transaction_no, event.status)
        try:
            claim = await self._store_call("claim", key)
        except Exception as failed:
            _logger.warning("IPN store failed to claim %s", key)
            return _outcome("store_failed", event, failed)
        decided = _claimed(event, claim)
        if decided is not None:
            return decided
        try:
            await _call_handler(handler, event)
        except Exception as error:
            _logger.warning("IPN handler failed for %s", key, exc_info=True)
            try:
                await self._store_call("release", key)
            except Exception as failed:
                return _outcome("store_failed", event, failed)
            return _outcome("handler_failed", event, error)
        try:
            await self._store_call("complete", key)
        except Exception as failed:
            return _outcome("store_failed", event, failed)
        return _outcome("handled", event)

    async def _store_call(self, method: str, key: str) -> object:
        call: Callable[[str], object] = getattr(self._store, method)
        if isinstance(self._store, MemoryEventStore) or inspect.iscoroutinefunction(call):
            result = call(key)
        else:
            result = await asyncio.get_running_loop().run_in_executor(None, call, key)
        if inspect.isawaitable(result):
            result = await result
        return result


async def _call_handler(handler: Callable[[PayoutEvent], object], event: PayoutEvent) -> None:
    """Awaits a coroutine function; runs a plain one in a worker thread (and
    awaits what it returns, if awaitable)."""
    if inspect.iscoroutinefunction(handler):
        result: object = handler(event)
    else:
        result = await asyncio.get_running_loop().run_in_executor(None, handler, event)
    if inspect.isawaitable(result):
        await result
