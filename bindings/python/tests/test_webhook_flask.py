"""pockyt_payouts.flask: a Flask app served for real (werkzeug, on
127.0.0.1), receiving real IPNs from the sandbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from webhook_scenario import TOKEN, Recorder, post, run_scenario, start_sandbox

pytest.importorskip("flask")
from flask import Flask, Response  # noqa: E402
from werkzeug.serving import BaseWSGIServer, make_server  # noqa: E402

from pockyt_payouts import PayoutEvent  # noqa: E402
from pockyt_payouts.flask import payout_event, payout_webhook  # noqa: E402
from pockyt_payouts.testing import Sandbox  # noqa: E402
from pockyt_payouts.webhooks import Webhook  # noqa: E402


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


def serve(app: Flask) -> tuple[str, threading.Thread, BaseWSGIServer]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", thread, server


def test_flask_receiver(sandbox: Sandbox) -> None:
    recorder = Recorder()
    webhook = Webhook(sandbox.api_token)
    app = Flask(__name__)

    @app.post("/pockyt/ipn")
    @payout_webhook(webhook)
    def on_payout(event: PayoutEvent) -> None:
        recorder(event)

    @app.post("/event")
    def event_only() -> Response:
        event = payout_event(webhook)
        return Response(event.transaction_no, content_type="text/plain")

    base, thread, server = serve(app)
    try:
        run_scenario(sandbox, base + "/pockyt/ipn", recorder, "flask")
        assert post(base + "/event", "a=b") == (400, "refused: IPN_MISSING_SIGNATURE", "text/plain; charset=utf-8")
    finally:
        server.shutdown()
        thread.join(30)


def test_a_coroutine_handler_is_refused_when_decorated() -> None:
    async def handler(event: PayoutEvent) -> None:
        pass

    with pytest.raises(TypeError, match=r"plain \(def\) handler"):
        payout_webhook(Webhook(TOKEN))(handler)
