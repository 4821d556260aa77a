"""pockyt_payouts.fastapi: a FastAPI app served for real (uvicorn, on
127.0.0.1), receiving real IPNs from the sandbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from conftest import wait_for
from webhook_scenario import TOKEN, Recorder, pay, post, run_scenario, start_sandbox, tries

fastapi = pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
from fastapi import Depends, FastAPI  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402

from pockyt_payouts import PayoutEvent  # noqa: E402
from pockyt_payouts.fastapi import payout_event, payout_webhook  # noqa: E402
from pockyt_payouts.testing import Sandbox  # noqa: E402
from pockyt_payouts.webhooks import Webhook  # noqa: E402


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


@pytest.fixture
def served() -> Iterator[tuple[FastAPI, list[str]]]:
    """An app (routes added by the test before the first request) and,
    once started, its base URL in the list."""
    app = FastAPI()
    base: list[str] = []
    yield app, base
    stop = getattr(app.state, "stop", None)
    if stop is not None:
        stop()


def start(app: FastAPI) -> str:
    """Serves ``app`` with uvicorn on 127.0.0.1 (a free port) in a thread."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "uvicorn to start")

    def stop() -> None:
        server.should_exit = True
        thread.join(30)

    app.state.stop = stop
    port = server.servers[0].sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_fastapi_receiver_async_handler(sandbox: Sandbox, served: tuple[FastAPI, list[str]]) -> None:
    app, _ = served
    recorder = Recorder()

    @payout_webhook(app, "/pockyt/ipn", Webhook(TOKEN))
    async def on_payout(event: PayoutEvent) -> None:
        recorder(event)

    run_scenario(sandbox, start(app) + "/pockyt/ipn", recorder, "fastapi")


def test_fastapi_receiver_sync_handler(sandbox: Sandbox, served: tuple[FastAPI, list[str]]) -> None:
    app, _ = served
    recorder = Recorder()
    payout_webhook(app, "/pockyt/ipn", Webhook(TOKEN))(recorder)
    run_scenario(sandbox, start(app) + "/pockyt/ipn", recorder, "fastapi sync")


def test_fastapi_dependency_and_the_json_mistake(sandbox: Sandbox, served: tuple[FastAPI, list[str]]) -> None:
    app, _ = served
    webhook = Webhook(TOKEN)
    seen: list[str] = []

    @app.post("/json")
    async def json_answer(event: PayoutEvent = Depends(payout_event(webhook))) -> str:
        seen.append(event.status)
        return "success"  # FastAPI sends JSON: "success", with its quotes

    @app.post("/plain")
    async def plain_answer(event: PayoutEvent = Depends(payout_event(webhook))) -> PlainTextResponse:
        return PlainTextResponse("success")

    base = start(app)
    status, body, _ = post(base + "/plain", "transactionNo=1&status=success&verifySign=0")
    assert (status, body) == (400, '{"detail":"refused: IPN_SIGNATURE_MISMATCH"}')

    pay(sandbox, base + "/json", "wh json")
    wait_for(lambda: len(tries(sandbox, "wh json", "pending")) >= 2, "the sandbox to resend the IPN")
    first = tries(sandbox, "wh json", "pending")[0]
    assert first["http_status"] == 200 and first["answer"] == '"success"'
    assert not first["answered_success"]
    # The sandbox says why it resends: the JSON string, quotes and all.
    assert first["resend_reason"] == 'answered `\\"success\\"`, expected `success`'
    assert "pending" in seen
