"""The payout flow, end to end: register a payee, add a bank account, list
the payee's accounts, pay, look the payout up, and receive and verify the
signed webhook (IPN) that reports its outcome.

With no ``POCKYT_*`` variables set it starts the SDK's embedded sandbox (the
local emulator, :class:`pockyt_payouts.testing.Sandbox`) on 127.0.0.1: no
credentials needed. With ``POCKYT_MERCHANT_NO``, ``POCKYT_STORE_NO`` and
``POCKYT_API_TOKEN`` set, it runs against the provider's server that
``POCKYT_ENV`` names (``provider-sandbox``, the provider's hosted test
server and the default, or ``production``: real money) or
``POCKYT_BASE_URL``, and starts no sandbox; webhooks then reach it only if
``POCKYT_IPN_URL`` is a public URL forwarded to this machine's receiver
(its address is printed).

    python examples/quickstart.py
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

from pockyt_payouts import BankAccountPurpose, Client, PayoutEvent, PayoutStatus, PockytError, ProfileType
from pockyt_payouts.testing import Sandbox
from pockyt_payouts.webhooks import MAX_BODY_BYTES, Webhook, oversized_reply

IPN_WAIT = 30.0
"""How long to wait for the final webhook before giving up, in seconds."""


def start_receiver(webhook: Webhook, received: queue.Queue[PayoutEvent]) -> ThreadingHTTPServer:
    """A webhook receiver on 127.0.0.1 and a free port: verifies every IPN's
    raw body before trusting it, hands each transactionNo + status on once
    however often it is resent, and answers the plain text ``success``
    (anything else makes the server resend)."""

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                reply = oversized_reply()
            else:
                outcome = webhook.handle(self.rfile.read(length), received.put)
                if outcome.name == "refused":
                    print(f"   (refused a webhook: {outcome.error})", file=sys.stderr)
                reply = outcome.reply
            body = reply.body.encode()
            self.send_response(reply.status)
            self.send_header("content-type", reply.content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(stack: contextlib.ExitStack) -> None:
    # 1. A server: the one named by POCKYT_* variables, or an embedded sandbox.
    if os.environ.get("POCKYT_MERCHANT_NO"):
        client = Client.from_env()
        api_token = os.environ.get("POCKYT_API_TOKEN", "")
        print(f"▶ using the API at {client.base_url} (from POCKYT_* variables)")
    else:
        sandbox = stack.enter_context(Sandbox(settle_delay=1.5))
        client = sandbox.client()
        api_token = sandbox.api_token
        print(f"▶ started an embedded sandbox at {sandbox.base_url} (no credentials needed)")

    # 2. A webhook receiver (the framework integrations, pockyt_payouts.fastapi,
    #    .flask and .django, are this route ready-made).
    received: queue.Queue[PayoutEvent] = queue.Queue()
    receiver = start_receiver(Webhook(api_token), received)
    stack.callback(receiver.server_close)
    stack.callback(receiver.shutdown)
    local_ipn_url = f"http://127.0.0.1:{receiver.server_address[1]}/webhooks/pockyt"
    ipn_url = os.environ.get("POCKYT_IPN_URL") or local_ipn_url
    print(f"▶ webhook receiver listening at {local_ipn_url}")

    # 3. Register a payee.
    payee = client.register_payee(
        profile_type=ProfileType.INDIVIDUAL,
        date_of_birth="1990-05-17",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        country_code="US",
        customer_code=f"quickstart-{time.time_ns() // 1000}",
    )
    customer_no = payee.customer_no
    print(f"1. registered payee       customerNo={customer_no}")

    # 4. Add a bank account (the routing number is checked before sending).
    account = client.add_bank_account(
        customer_no=customer_no,
        bank_account_id="7861053298",
        branch_id="101089292",
        bank_account_purpose=BankAccountPurpose.CHECKING,
        account_tag="main-checking",
    )
    account_token = account.account_token
    print(f"2. added bank account     accountToken={account_token} status={account.account_status or ''}")

    # 5. List the payee's payout accounts.
    for listed in client.list_payout_accounts(customer_no=customer_no).accounts:
        print(f"3. payout account         {listed.account_token or '?'} {listed.card_number or ''} {listed.status or ''}")

    # 6. Pay. The invoice_id is the key that makes retries safe.
    invoice_id = f"quickstart-{time.time_ns() // 1000}"
    payout = client.pay(
        customer_no=customer_no,
        account_token=account_token,
        amount="25.00",
        currency="USD",
        invoice_id=invoice_id,
        ipn_url=ipn_url,
        note="Thanks for your referrals",
    )
    print(
        f"4. paid                   invoiceId={invoice_id} transactionNo={payout.transaction_no} "
        f"amount={payout.amount} status={payout.status}"
    )

    # 7. Look the payout up by invoice_id.
    found = client.inquire_payout(invoice_id=invoice_id)
    print(f"5. inquiry                status={found.status}")

    # 8. Wait for the webhook that reports the final status; it was verified on arrival.
    deadline = time.monotonic() + IPN_WAIT
    while True:
        try:
            event = received.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise SystemExit(
                f"no final webhook within {IPN_WAIT:.0f} s (the server must be able to reach the ipn_url)"
            ) from None
        print(
            f"6. webhook received       signature verified; invoiceId={event.invoice_id} "
            f"status={event.status} transactionNo={event.transaction_no}"
        )
        if event.invoice_id == invoice_id and event.status != PayoutStatus.PENDING:
            break

    # 9. The API agrees, and the balance shows the payout.
    settled = client.inquire_payout(invoice_id=invoice_id)
    balance = client.balance(currency="USD")
    print(f"7. settled                status={settled.status}; balance {balance.amount} {balance.currency or 'USD'}")


def main() -> None:
    try:
        with contextlib.ExitStack() as stack:
            run(stack)
    except PockytError as error:
        sys.exit(f"\nfailed: {error.code}: {error}")
    print("✔ payout flow complete")


if __name__ == "__main__":
    main()
