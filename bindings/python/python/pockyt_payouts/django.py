"""Django integration: install with ``pip install "pockyt-payouts[django]"``.

:func:`payout_webhook` turns a handler of events into a view (CSRF-exempt,
``POST`` only): it reads the raw body (``request.body``), verifies it, runs
the handler at most once per transactionNo + status, and answers the plain
text ``success`` after the handler succeeded or had already; the Rust
core's non-2xx answer otherwise, so the API resends.

.. code-block:: python

    webhook = Webhook(store=SqliteEventStore("ipn.sqlite3"))  # POCKYT_API_TOKEN

    @payout_webhook(webhook)
    def on_payout(event: PayoutEvent) -> None:
        ...  # raise to have the API resend

    urlpatterns = [path("pockyt/ipn", on_payout)]
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .webhooks import MAX_BODY_BYTES, PayoutEvent, Reply, Webhook, oversized_reply

__all__ = ["payout_webhook", "respond"]


def respond(reply: Reply) -> HttpResponse:
    """The reply as a plain-text response."""
    return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)


def payout_webhook(webhook: Webhook) -> Callable[[Callable[[PayoutEvent], Any]], Callable[..., HttpResponse]]:
    """A decorator making a view of ``handler`` (synchronous; raising makes
    the API resend): CSRF-exempt (the API sends no token), ``POST`` only
    (``405`` otherwise)."""

    def decorate(handler: Callable[[PayoutEvent], Any]) -> Callable[..., HttpResponse]:
        if inspect.iscoroutinefunction(handler):
            raise TypeError("payout_webhook needs a plain (def) handler: this view runs it synchronously")

        @functools.wraps(handler)
        def view(request: HttpRequest, *_args: Any, **_kwargs: Any) -> HttpResponse:
            # request.body is bounded by Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
            body = request.body
            if len(body) > MAX_BODY_BYTES:
                return respond(oversized_reply())
            return respond(webhook.handle(body, handler).reply)

        return csrf_exempt(require_POST(view))

    return decorate
