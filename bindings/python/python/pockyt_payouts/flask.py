"""Flask integration: install with ``pip install "pockyt-payouts[flask]"``.

:func:`payout_webhook` turns a handler of events into a view: it reads the
raw body (``request.get_data()``), verifies it, runs the handler at most
once per transactionNo + status, and answers the plain text ``success``
after the handler succeeded or had already; the Rust core's non-2xx answer
otherwise, so the API resends.

.. code-block:: python

    app = Flask(__name__)
    webhook = Webhook()  # POCKYT_API_TOKEN

    @app.post("/pockyt/ipn")
    @payout_webhook(webhook)
    def on_payout(event: PayoutEvent) -> None:
        ...  # raise to have the API resend
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from flask import Response, abort, request

from .webhooks import MAX_BODY_BYTES, PayoutEvent, Reply, Webhook, WebhookError, oversized_reply

__all__ = ["payout_webhook", "payout_event", "respond"]


def respond(reply: Reply) -> Response:
    """The reply as a plain-text response."""
    return Response(reply.body, status=reply.status, content_type=reply.content_type)


def _raw_body() -> bytes | None:
    """The current request's raw body; ``None`` when it declares more than
    :data:`MAX_BODY_BYTES` (not read then)."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return None
    body = request.get_data(cache=True)
    return None if len(body) > MAX_BODY_BYTES else body


def payout_webhook(webhook: Webhook) -> Callable[[Callable[[PayoutEvent], Any]], Callable[..., Response]]:
    """A decorator making a view of ``handler`` (synchronous; raising makes
    the API resend). Register the view for ``POST`` only."""

    def decorate(handler: Callable[[PayoutEvent], Any]) -> Callable[..., Response]:
        if inspect.iscoroutinefunction(handler):
            raise TypeError("payout_webhook needs a plain (def) handler: this view runs it synchronously")

        @functools.wraps(handler)
        def view(*_args: Any, **_kwargs: Any) -> Response:
            body = _raw_body()
            if body is None:
                return respond(oversized_reply())
            return respond(webhook.handle(body, handler).reply)

        return view

    return decorate


def payout_event(webhook: Webhook) -> PayoutEvent:
    """The verified event of the current request's raw body (no
    deduplication); a refused IPN aborts the request with the Rust core's
    plain-text answer. Your view must answer ``success`` as plain text
    itself: prefer :func:`payout_webhook`."""
    body = _raw_body()
    if body is None:
        abort(respond(oversized_reply()))
    try:
        return webhook.construct_event(body)
    except WebhookError as refused:
        status, text = refused.reply
        abort(respond(Reply(status, text)))
