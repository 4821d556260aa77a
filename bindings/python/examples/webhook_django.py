"""Receive Pockyt payout webhooks (IPNs) with Django, in one file.

    pip install "pockyt-payouts[django]"

Your receiver: set ``POCKYT_API_TOKEN`` (and ``PORT``, default 8000) and
run ``python webhook_django.py``; pay with
``ipn_url="https://<your host>/pockyt/ipn"``. In a project, put the view
in a ``views.py`` and its route in ``urls.py``; serve with your WSGI server.

A demo: with no ``POCKYT_API_TOKEN``, the same app is served on a free
local port and the SDK's embedded sandbox pays to it, then replays an IPN.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable
from wsgiref.simple_server import WSGIRequestHandler, make_server

import django
from _ipn_demo import demo, start_sandbox
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import URLPattern, path

from pockyt_payouts import PayoutEvent
from pockyt_payouts.django import payout_webhook
from pockyt_payouts.webhooks import SqliteEventStore, Webhook

urlpatterns: list[URLPattern] = []


def ipn_view(webhook: Webhook) -> Callable[..., HttpResponse]:
    """The IPN view (CSRF-exempt, POST only) for ``webhook``."""

    @payout_webhook(webhook)
    def on_payout(event: PayoutEvent) -> None:
        # Runs at most once per transactionNo + status, after the signature
        # was verified. Raise to answer 500: the API resends later.
        print(f"handled: payout {event.invoice_id} is {event.status} ({event.amount} {event.currency})")

    return on_payout


def setup(webhook: Webhook) -> Any:
    """Configures Django with this module as URLconf; answers the WSGI app."""
    settings.configure(
        DEBUG=False,
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "only-for-this-example"),
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
    )
    django.setup()
    urlpatterns.append(path("pockyt/ipn", ipn_view(webhook)))
    return get_wsgi_application()


class QuietHandler(WSGIRequestHandler):
    """Request logging off (the handler prints what it handles)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    """Serves the receiver, or runs the demo."""
    if os.environ.get("POCKYT_API_TOKEN"):
        store = SqliteEventStore(os.environ.get("POCKYT_IPN_DB", "pockyt-ipn.sqlite3"))
        app = setup(Webhook(store=store))
        make_server("0.0.0.0", int(os.environ.get("PORT", "8000")), app).serve_forever()
        return
    with start_sandbox() as sandbox:
        server = make_server("127.0.0.1", 0, setup(Webhook(sandbox.api_token)), handler_class=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        demo(sandbox, f"http://127.0.0.1:{server.server_port}/pockyt/ipn")
        server.shutdown()
        thread.join(10)


if __name__ == "__main__":
    main()
