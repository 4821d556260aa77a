"""pockyt_payouts.webhooks: construct_event / event_from_fields over every
shape a framework hands over, the typed refusals, the stores, and the
at-most-once sequence (sync and async)."""

from __future__ import annotations

import asyncio
import io
import pickle
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from webhook_scenario import configure_django

from pockyt_payouts import PayoutEvent, sign
from pockyt_payouts.errors import PockytError
from pockyt_payouts.webhooks import (
    CONTENT_TYPE,
    MAX_BODY_BYTES,
    SUCCESS_BODY,
    Claim,
    EventStore,
    MemoryEventStore,
    SqliteEventStore,
    Webhook,
    WebhookError,
    construct_event,
    event_from_fields,
)

TOKEN = "a-webhook-token-for-tests"
FIELDS = {
    "merchantNo": "202333",
    "transactionNo": "378265991124154801",
    "reference": "inv 1/ü",
    "status": "success",
    "amount": "1.00",
    "currency": "USD",
    "note": "",
}
SIGNED = {**FIELDS, "verifySign": sign(FIELDS, TOKEN)}
BODY = urllib.parse.urlencode(SIGNED)


def refusal(call: Any, *args: Any) -> WebhookError:
    with pytest.raises(WebhookError) as raised:
        call(*args)
    error = raised.value
    assert isinstance(error, PockytError)
    assert TOKEN not in str(error) and TOKEN not in repr(error)
    return error


def test_construct_event_types_a_genuine_ipn() -> None:
    for body in (BODY, BODY.encode(), bytearray(BODY.encode()), memoryview(BODY.encode())):
        event = construct_event(body, TOKEN)
        assert isinstance(event, PayoutEvent)
        assert (event.transaction_no, event.status, event.invoice_id, event.amount) == (
            "378265991124154801",
            "success",
            "inv 1/ü",
            "1.00",
        )
    assert (SUCCESS_BODY, CONTENT_TYPE, MAX_BODY_BYTES) == ("success", "text/plain; charset=utf-8", 64 * 1024)


def test_every_refusal_has_a_code_and_a_reason() -> None:
    cases = [
        (BODY, " ", "IPN_EMPTY_TOKEN", "empty_token", (500, "misconfigured: IPN_EMPTY_TOKEN")),
        (urllib.parse.urlencode(FIELDS), TOKEN, "IPN_MISSING_SIGNATURE", "missing_signature", None),
        (BODY + "&verifySign=" + SIGNED["verifySign"], TOKEN, "IPN_REPEATED_SIGNATURE", "repeated_signature", None),
        (BODY, "another-token", "IPN_SIGNATURE_MISMATCH", "signature_mismatch", None),
        (BODY + "&x=%zz", TOKEN, "IPN_MALFORMED_BODY", "malformed_body", None),
    ]
    for body, token, code, reason, reply in cases:
        error = refusal(construct_event, body, token)
        assert (error.code, error.reason) == (code, reason)
        assert error.reply == (reply or (400, f"refused: {code}"))
    unsigned = {"transactionNo": "1", "verifySign": sign({"transactionNo": "1"}, TOKEN)}
    assert refusal(event_from_fields, unsigned, TOKEN).code == "IPN_MALFORMED_BODY"  # no status
    error = refusal(construct_event, BODY, "another-token")
    assert pickle.loads(pickle.dumps(error)).reason == "signature_mismatch"


def test_the_mistakes_users_make_are_named() -> None:
    with pytest.raises(TypeError, match=r"already parsed: pass the raw body \(await request.body\(\)\) or use event_from_fields"):
        construct_event(SIGNED, TOKEN)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no IPN body"):
        construct_event(None, TOKEN)  # type: ignore[arg-type]

    async def body() -> bytes:
        return BODY.encode()

    with pytest.raises(TypeError, match="await it first"):
        construct_event(body(), TOKEN)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="raw body: use construct_event"):
        event_from_fields(BODY, TOKEN)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no IPN fields"):
        event_from_fields(None, TOKEN)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="api_token must be a str"):
        construct_event(BODY, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match='"amount" must be a str'):
        event_from_fields({**SIGNED, "amount": 1}, TOKEN)


def test_event_from_fields_takes_dicts_and_pairs() -> None:
    assert event_from_fields(SIGNED, TOKEN).invoice_id == "inv 1/ü"
    assert event_from_fields(list(SIGNED.items()), TOKEN).invoice_id == "inv 1/ü"
    parsed = urllib.parse.parse_qs(BODY, keep_blank_values=True)
    assert event_from_fields(parsed, TOKEN).invoice_id == "inv 1/ü"
    twice = urllib.parse.parse_qs(BODY + "&verifySign=x", keep_blank_values=True)
    assert refusal(event_from_fields, twice, TOKEN).code == "IPN_REPEATED_SIGNATURE"


def test_event_from_fields_takes_starlette_form_data() -> None:
    datastructures = pytest.importorskip("starlette.datastructures")
    form = datastructures.FormData(list(SIGNED.items()))
    assert event_from_fields(form, TOKEN).transaction_no == "378265991124154801"
    repeated = datastructures.FormData([*SIGNED.items(), ("verifySign", SIGNED["verifySign"])])
    assert refusal(event_from_fields, repeated, TOKEN).code == "IPN_REPEATED_SIGNATURE"
    upload = datastructures.UploadFile(io.BytesIO(b"x"), filename="x.txt")
    with pytest.raises(TypeError, match='"file" must be a str'):
        event_from_fields(datastructures.FormData([*SIGNED.items(), ("file", upload)]), TOKEN)


def test_event_from_fields_takes_werkzeug_multidict() -> None:
    datastructures = pytest.importorskip("werkzeug.datastructures")
    form = datastructures.ImmutableMultiDict(list(SIGNED.items()))
    assert event_from_fields(form, TOKEN).status == "success"
    repeated = datastructures.MultiDict([*SIGNED.items(), ("verifySign", SIGNED["verifySign"])])
    assert refusal(event_from_fields, repeated, TOKEN).code == "IPN_REPEATED_SIGNATURE"


def test_event_from_fields_takes_django_querydict() -> None:
    pytest.importorskip("django")
    configure_django()
    from django.http import QueryDict

    assert event_from_fields(QueryDict(BODY), TOKEN).invoice_id == "inv 1/ü"
    repeated = QueryDict(BODY + "&verifySign=" + SIGNED["verifySign"])
    assert refusal(event_from_fields, repeated, TOKEN).code == "IPN_REPEATED_SIGNATURE"


def test_the_handler_runs_at_most_once_per_transaction_and_status() -> None:
    webhook = Webhook(TOKEN)
    assert TOKEN not in repr(webhook)
    runs: list[str] = []
    first = webhook.handle(BODY, lambda event: runs.append(event.status))
    assert (first.name, first.reply.status, first.reply.body, first.succeeded) == ("handled", 200, "success", True)
    again = webhook.handle(BODY.encode(), lambda event: runs.append("again"))
    assert (again.name, again.reply.body) == ("duplicate", "success")
    assert runs == ["success"]

    refused = webhook.handle(BODY.replace("1.00", "9.00"), lambda event: runs.append("forged"))
    assert (refused.name, refused.reply.status, refused.reply.body) == ("refused", 400, "refused: IPN_SIGNATURE_MISMATCH")
    assert isinstance(refused.error, WebhookError) and refused.event is None
    assert runs == ["success"]


def test_a_failed_handler_runs_again_on_the_resend() -> None:
    webhook = Webhook(TOKEN)

    def fail(event: PayoutEvent) -> None:
        raise RuntimeError("database down")

    failed = webhook.handle(BODY, fail)
    assert (failed.name, failed.reply.status, failed.succeeded) == ("handler_failed", 500, False)
    assert isinstance(failed.error, RuntimeError)
    assert webhook.handle(BODY, lambda event: None).name == "handled"


def test_in_progress_and_store_failures_answer_non_2xx() -> None:
    store = MemoryEventStore()
    webhook = Webhook(TOKEN, store=store)
    assert store.claim("378265991124154801:success") == "new"
    busy = webhook.handle(BODY, lambda event: None)
    assert (busy.name, busy.reply.status) == ("in_progress", 409)

    class Broken:
        def claim(self, key: str) -> Claim:
            raise OSError("database down")

        def complete(self, key: str) -> None: ...

        def release(self, key: str) -> None: ...

    assert isinstance(Broken(), EventStore)
    broken = Webhook(TOKEN, store=Broken()).handle(BODY, lambda event: None)
    assert (broken.name, broken.reply.status, broken.reply.body) == (
        "store_failed",
        500,
        "failed: IPN_STORE_ERROR; resend later",
    )


def test_async_handlers_and_async_stores() -> None:
    class AsyncStore:
        def __init__(self) -> None:
            self.inner = MemoryEventStore()

        async def claim(self, key: str) -> Claim:
            return self.inner.claim(key)

        async def complete(self, key: str) -> None:
            self.inner.complete(key)

        async def release(self, key: str) -> None:
            self.inner.release(key)

    async def scenario() -> list[str]:
        runs: list[str] = []

        async def handler(event: PayoutEvent) -> None:
            await asyncio.sleep(0)
            runs.append(event.status)

        webhook = Webhook(TOKEN, store=AsyncStore())
        assert (await webhook.handle_async(BODY, handler)).name == "handled"
        assert (await webhook.handle_async(BODY, handler)).name == "duplicate"
        # A plain function runs in a worker thread.
        sync = Webhook(TOKEN)
        assert (await sync.handle_async(BODY, lambda event: runs.append("sync"))).name == "handled"
        # The sync path refuses a coroutine function instead of not running it.
        refused = Webhook(TOKEN).handle(BODY, handler)
        assert refused.name == "handler_failed" and isinstance(refused.error, TypeError)
        return runs

    assert asyncio.run(scenario()) == ["success", "sync"]


def test_sqlite_store_is_shared_through_its_file(tmp_path: Path) -> None:
    path = tmp_path / "ipn.sqlite3"
    one, two = SqliteEventStore(path), SqliteEventStore(str(path))
    assert one.path == str(path)
    assert one.claim("1:success") == "new"
    assert two.claim("1:success") == "in_progress"
    one.release("1:success")
    assert two.claim("1:success") == "new"
    two.complete("1:success")
    assert one.claim("1:success") == "done"
    # Two receivers on the same file: the handler runs once.
    runs: list[str] = []
    assert Webhook(TOKEN, store=one).handle(BODY, lambda e: runs.append("one")).name == "handled"
    assert Webhook(TOKEN, store=SqliteEventStore(path)).handle(BODY, lambda e: runs.append("two")).name == "duplicate"
    assert runs == ["one"]
    with pytest.raises(OSError, match="IPN_STORE_ERROR"):
        SqliteEventStore(tmp_path / "missing-dir" / "ipn.sqlite3")


def test_an_empty_token_is_refused_when_the_receiver_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POCKYT_API_TOKEN", raising=False)
    with pytest.raises(WebhookError) as raised:
        Webhook()
    assert raised.value.code == "IPN_EMPTY_TOKEN"
    monkeypatch.setenv("POCKYT_API_TOKEN", TOKEN)
    assert Webhook().handle(BODY, lambda e: None).name == "handled"
