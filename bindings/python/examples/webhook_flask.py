"""Receive Pockyt payout webhooks (IPNs) with Flask.

    pip install "pockyt-payouts[flask]"

Your receiver: set ``POCKYT_API_TOKEN`` (and ``PORT``, default 8000), run
``python webhook_flask.py`` (in production, a WSGI server:
``gunicorn 'webhook_flask:create_app()'``), and pay with
``ipn_url="https://<your host>/pockyt/ipn"``.

A demo: with no ``POCKYT_API_TOKEN``, the same app is served on a free
local port and the SDK's embedded sandbox pays to it, then replays an IPN.
"""

from __future__ import annotations

import os
import threading

from _ipn_demo import demo, start_sandbox
from flask import Flask
from werkzeug.serving import make_server

from pockyt_payouts import PayoutEvent
from pockyt_payouts.flask import payout_webhook
from pockyt_payouts.webhooks import SqliteEventStore, Webhook


def create_app(webhook: Webhook | None = None) -> Flask:
    """The app: one IPN route, ``POST /pockyt/ipn``. By default the token
    is ``POCKYT_API_TOKEN`` and handled IPNs are kept in a SQLite file
    shared by every worker."""
    if webhook is None:
        webhook = Webhook(store=SqliteEventStore(os.environ.get("POCKYT_IPN_DB", "pockyt-ipn.sqlite3")))
    app = Flask(__name__)

    @app.post("/pockyt/ipn")
    @payout_webhook(webhook)
    def on_payout(event: PayoutEvent) -> None:
        # Runs at most once per transactionNo + status, after the signature
        # was verified. Raise to answer 500: the API resends later.
        print(f"handled: payout {event.invoice_id} is {event.status} ({event.amount} {event.currency})")

    return app


def main() -> None:
    """Serves the receiver, or runs the demo."""
    if os.environ.get("POCKYT_API_TOKEN"):
        create_app().run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
        return
    with start_sandbox() as sandbox:
        server = make_server("127.0.0.1", 0, create_app(Webhook(sandbox.api_token)), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        demo(sandbox, f"http://127.0.0.1:{server.server_port}/pockyt/ipn")
        server.shutdown()
        thread.join(10)


if __name__ == "__main__":
    main()
