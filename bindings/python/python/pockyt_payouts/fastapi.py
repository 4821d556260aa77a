"""FastAPI (and Starlette) integration: install with
``pip install "pockyt-payouts[fastapi]"``.

- :func:`payout_webhook` registers a ready ``POST`` route: it reads the raw
  body, verifies it, runs your handler at most once per transactionNo +
  status, and answers the plain text ``success`` (never JSON
  ``"success"``, which the API does not take for an answer) after the
  handler succeeded or had already; the Rust core's non-2xx answer
  otherwise, so the API resends.
- :func:`payout_event` is a dependency giving a verified
  :class:`~pockyt_payouts.PayoutEvent` (no deduplication); a refused IPN
  raises ``HTTPException`` with the Rust core's status.
- :func:`handle` runs the whole sequence inside a route of your own.

.. code-block:: python

    app = FastAPI()
    webhook = Webhook()  # POCKYT_API_TOKEN

    @payout_webhook(app, "/pockyt/ipn", webhook)
    async def on_payout(event: PayoutEvent) -> None:
        ...  # raise to have the API resend
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, TypeVar, Union

from fastapi import APIRouter, FastAPI, HTTPException, Request
from starlette.responses import PlainTextResponse

from .webhooks import MAX_BODY_BYTES, Outcome, PayoutEvent, Reply, Webhook, WebhookError, oversized_reply

__all__ = ["payout_webhook", "payout_event", "handle", "respond"]

Handler = TypeVar("Handler", bound=Callable[[PayoutEvent], Any])


def respond(reply: Reply) -> PlainTextResponse:
    """The reply as a plain-text response (``text/plain; charset=utf-8``)."""
    return PlainTextResponse(reply.body, status_code=reply.status)


async def _raw_body(request: Request) -> bytes | None:
    """The raw body, read up to :data:`MAX_BODY_BYTES` (``None`` past it)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


async def handle(request: Request, webhook: Webhook, handler: Callable[[PayoutEvent], Any]) -> PlainTextResponse:
    """Reads the raw body of ``request`` (at most ``MAX_BODY_BYTES``), runs
    ``handler`` at most once for its event (:meth:`Webhook.handle_async`: a
    coroutine function is awaited, a plain one runs in a worker thread) and
    answers the reply."""
    body = await _raw_body(request)
    if body is None:
        return respond(oversized_reply())
    outcome: Outcome = await webhook.handle_async(body, handler)
    return respond(outcome.reply)


def payout_webhook(router: Union[FastAPI, APIRouter], path: str, webhook: Webhook) -> Callable[[Handler], Handler]:
    """A decorator registering ``handler`` as the IPN route ``POST path`` on
    ``router`` (left out of the OpenAPI schema). The handler gets the
    verified event; raising makes the API resend. Answers ``handler``
    itself, unchanged."""

    def register(handler: Handler) -> Handler:
        async def pockyt_ipn(request: Request) -> PlainTextResponse:
            return await handle(request, webhook, handler)

        router.add_api_route(
            path, pockyt_ipn, methods=["POST"], response_class=PlainTextResponse, include_in_schema=False
        )
        return handler

    return register


def payout_event(webhook: Webhook) -> Callable[[Request], Awaitable[PayoutEvent]]:
    """A dependency giving the verified event of the request's raw body:
    ``event: PayoutEvent = Depends(payout_event(webhook))``. A refused IPN
    raises ``HTTPException`` with the Rust core's status (``400``; ``500``
    for an empty token) and its text as ``detail``. It does not
    deduplicate, and your route must answer ``PlainTextResponse("success")``
    itself: prefer :func:`payout_webhook`."""

    async def verified_payout_event(request: Request) -> PayoutEvent:
        body = await _raw_body(request)
        if body is None:
            reply = oversized_reply()
            raise HTTPException(status_code=reply.status, detail=reply.body)
        try:
            return webhook.construct_event(body)
        except WebhookError as refused:
            status, text = refused.reply
            raise HTTPException(status_code=status, detail=text) from refused

    return verified_payout_event
