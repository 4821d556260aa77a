"""Receive Pockyt payout webhooks (IPNs) with FastAPI.

    pip install "pockyt-payouts[fastapi]" uvicorn

Your receiver: set ``POCKYT_API_TOKEN`` (and ``PORT``, default 8000), run
``python webhook_fastapi.py``, and pay with
``ipn_url="https://<your host>/pockyt/ipn"``.

A demo: with no ``POCKYT_API_TOKEN``, the same app is served on a free
local port and the SDK's embedded sandbox pays to it, then replays an IPN.
"""

from __future__ import annotations

import os
import threading
import time

import uvicorn
from _ipn_demo import demo, start_sandbox
from fastapi import FastAPI

from pockyt_payouts import PayoutEvent
from pockyt_payouts.fastapi import payout_webhook
from pockyt_payouts.webhooks import MemoryEventStore, SqliteEventStore, Webhook


def create_app(webhook: Webhook) -> FastAPI:
    """The app: one IPN route, ``POST /pockyt/ipn``."""
    app = FastAPI()

    @payout_webhook(app, "/pockyt/ipn", webhook)
    async def on_payout(event: PayoutEvent) -> None:
        # Runs at most once per transactionNo + status, after the signature
        # was verified. Raise to answer 500: the API resends later.
        print(f"handled: payout {event.invoice_id} is {event.status} ({event.amount} {event.currency})")

    return app


def main() -> None:
    """Serves the receiver, or runs the demo."""
    if os.environ.get("POCKYT_API_TOKEN"):
        # SQLite remembers handled IPNs across restarts and across workers.
        webhook = Webhook(store=SqliteEventStore(os.environ.get("POCKYT_IPN_DB", "pockyt-ipn.sqlite3")))
        uvicorn.run(create_app(webhook), host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
        return
    with start_sandbox() as sandbox:
        app = create_app(Webhook(sandbox.api_token, store=MemoryEventStore()))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        demo(sandbox, f"http://127.0.0.1:{port}/pockyt/ipn")
        server.should_exit = True
        thread.join(10)


if __name__ == "__main__":
    main()
