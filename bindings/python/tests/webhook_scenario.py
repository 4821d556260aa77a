"""The scenario every framework integration is tested with: a real
receiver served on 127.0.0.1, real IPNs from the sandbox (pending, then
success), replays, a failing handler, a forged IPN and a re-encoded genuine
one. Also the small servers that run each framework in a thread."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from conftest import DEADLINE, new_payee_and_account, wait_for

from pockyt_payouts import PayoutEvent, sign
from pockyt_payouts.testing import Sandbox
from pockyt_payouts.webhooks import MAX_BODY_BYTES

# Short waits between IPN tries, so a resend comes at once. Bounds only.
RETRY_DELAYS = [0.0, 0.05, 0.05, 0.05, 0.05]


# The sandbox's API token in these tests (a test value).
TOKEN = "webhook-test-token"


def start_sandbox() -> Sandbox:
    """A sandbox that settles and resends quickly."""
    return Sandbox(api_token=TOKEN, settle_delay=0.05, ipn_retry_delays=RETRY_DELAYS, balances={"USD": "1000.00"})


class Recorder:
    """An IPN handler: records every run as (invoice_id, status) and fails
    the runs listed in ``fail_once`` (once each)."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []
        self.fail_once: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def __call__(self, event: PayoutEvent) -> None:
        with self._lock:
            run = (event.invoice_id or "", str(event.status))
            self.runs.append(run)
            if run in self.fail_once:
                self.fail_once.discard(run)
                raise RuntimeError("the handler failed (on purpose)")

    def count(self, invoice_id: str, status: str) -> int:
        """How many times the handler ran for this payout and status."""
        with self._lock:
            return self.runs.count((invoice_id, status))


def post(url: str, body: str | bytes, method: str = "POST") -> tuple[int, str, str]:
    """POSTs a form; answers (status, body, content type)."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    try:
        with urllib.request.urlopen(request, timeout=DEADLINE) as response:
            return response.status, response.read().decode(), response.headers.get("content-type", "")
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode(), refused.headers.get("content-type", "")


def tries(sandbox: Sandbox, invoice_id: str, status: str | None = None) -> list[dict[str, Any]]:
    """The sandbox's IPN tries for one payout (and status)."""
    return [
        t
        for t in sandbox.ipn_log()
        if t["fields"].get("reference") == invoice_id and (status is None or t["fields"].get("status") == status)
    ]


def received(sandbox: Sandbox, invoice_id: str, status: str) -> bool:
    """Whether the receiver answered ``success`` to this IPN."""
    return any(t["answered_success"] for t in tries(sandbox, invoice_id, status))


def pay(sandbox: Sandbox, url: str, invoice_id: str) -> None:
    """Pays 1.00 USD with ``url`` as the ipn_url."""
    client = sandbox.client()
    customer_no, account_token = new_payee_and_account(client)
    client.pay(
        customer_no=customer_no,
        account_token=account_token,
        amount="1.00",
        currency="USD",
        invoice_id=invoice_id,
        ipn_url=url,
    )


def run_scenario(sandbox: Sandbox, url: str, recorder: Recorder, tag: str) -> None:
    """The whole scenario against the receiver at ``url``."""
    # Spaces and a non-ASCII letter: the form carries `+` and %XX escapes.
    paid = f"wh {tag} ü"
    pay(sandbox, url, paid)
    wait_for(lambda: received(sandbox, paid, "success"), "the success IPN to be answered")
    assert recorder.count(paid, "pending") == 1
    assert recorder.count(paid, "success") == 1
    for t in tries(sandbox, paid):
        assert (t["http_status"], t["answer"], t["resend_reason"]) == (200, "success", None)

    # A replay of the current status: answered success, not run again.
    before = len(tries(sandbox, paid))
    assert sandbox.resend_ipn(paid)
    wait_for(lambda: len(tries(sandbox, paid)) > before, "the replayed IPN")
    replay = tries(sandbox, paid)[-1]
    assert replay["answered_success"] and replay["answer"] == "success"
    assert recorder.count(paid, "success") == 1

    # A failing handler: answered non-2xx, the sandbox resends, the retry runs it.
    failing = f"wh {tag} fails"
    recorder.fail_once.add((failing, "success"))
    pay(sandbox, url, failing)
    wait_for(lambda: received(sandbox, failing, "success"), "the resent IPN to be answered")
    attempts = tries(sandbox, failing, "success")
    assert attempts[0]["http_status"] == 500 and not attempts[0]["answered_success"]
    assert attempts[0]["answer"].startswith("failed:")
    assert "500" in attempts[0]["resend_reason"]
    assert attempts[-1]["answered_success"] and attempts[-1]["attempt"] > 1
    assert recorder.count(failing, "success") == 2

    # A forged IPN: refused before the handler runs.
    genuine = dict(tries(sandbox, paid, "success")[-1]["fields"])
    forged = {**genuine, "amount": "999.00"}
    status, body, content_type = post(url, urllib.parse.urlencode(forged))
    assert (status, body) == (400, "refused: IPN_SIGNATURE_MISMATCH")
    assert content_type.startswith("text/plain")
    runs = len(recorder.runs)

    # A genuine IPN, re-encoded: other field order, %20 instead of +,
    # uppercase hex signature. Accepted (a duplicate: answered success).
    reordered = list(reversed(genuine.items()))
    reordered = [(k, v.upper() if k == "verifySign" else v) for k, v in reordered]
    status, body, content_type = post(url, urllib.parse.urlencode(reordered, quote_via=urllib.parse.quote))
    assert (status, body) == (200, "success")
    assert content_type.startswith("text/plain")
    # A new status of the same payout, signed with the sandbox's token and
    # re-encoded the same way: verified and run once.
    fields = {k: v for k, v in genuine.items() if k != "verifySign"}
    fields["status"] = "returned"
    signed = [*reversed(fields.items()), ("verifySign", sign(fields, sandbox.api_token).upper())]
    status, body, _ = post(url, urllib.parse.urlencode(signed, quote_via=urllib.parse.quote))
    assert (status, body) == (200, "success")
    assert recorder.count(paid, "returned") == 1
    assert len(recorder.runs) == runs + 1

    # A body over MAX_BODY_BYTES is not read: refused.
    status, body, _ = post(url, "a=" + "x" * MAX_BODY_BYTES)
    assert (status, body) == (400, "refused: IPN_MALFORMED_BODY")
    assert len(recorder.runs) == runs + 1


def configure_django() -> None:
    """Configures Django once for this test process (every test that needs
    it calls this, in any order): CSRF middleware on, URLs from
    ``test_webhook_django``."""
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="test-only",
            ALLOWED_HOSTS=["127.0.0.1"],
            ROOT_URLCONF="test_webhook_django",
            MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
            INSTALLED_APPS=[],
        )
        import django

        django.setup()


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_wsgi(app: Any, path: str) -> Iterator[str]:
    """Serves a WSGI app on 127.0.0.1 (a free port) in a thread; yields
    the URL of ``path``."""
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(DEADLINE)
