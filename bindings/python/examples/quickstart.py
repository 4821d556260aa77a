"""pockyt-payouts quickstart: register a payee, attach a bank account, pay
it (blocking and asyncio), follow the payout to its final status, handle
errors, and verify the signed webhook (IPN) the API sends.

Runs offline against the SDK's sandbox, started in this process:

    python examples/quickstart.py

Against the real API, build the client from your credentials instead, for
example ``Client.from_env()`` with ``POCKYT_MERCHANT_NO``,
``POCKYT_STORE_NO``, ``POCKYT_API_TOKEN`` and ``POCKYT_ENV`` set.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

from pockyt_payouts import (
    AsyncClient,
    BankAccountPurpose,
    Client,
    InsufficientBalanceError,
    InvalidRequestError,
    Payout,
    PayoutOutcomeUnknownError,
    PayoutStatus,
    ProfileType,
    verify_ipn,
)
from pockyt_payouts.testing import Sandbox


def start_ipn_receiver(api_token: str, received: list[str]) -> ThreadingHTTPServer:
    """A webhook endpoint: verify the raw body exactly as received, then
    answer ``success`` (the API resends until it gets that answer)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if verify_ipn(body, api_token):
                received.append(body.decode())
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"success")
            else:
                self.send_response(400)
                self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    return server


def blocking_flow(client: Client, ipn_url: str) -> tuple[str, str]:
    payee = client.register_payee(
        profile_type=ProfileType.INDIVIDUAL,
        date_of_birth="1990-05-17",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
    )
    assert payee.customer_no is not None
    print("registered payee", payee.customer_no)

    account = client.add_bank_account(
        customer_no=payee.customer_no,
        bank_account_id="7861053298",
        branch_id="101089292",  # the ABA routing number
        bank_account_purpose=BankAccountPurpose.CHECKING,
    )
    assert account.account_token is not None
    print("bank account", account.account_token)

    invoice_id = f"inv-{uuid.uuid4().hex[:12]}"  # your own unique id: the key to retry and reconcile
    try:
        payout = client.pay(
            customer_no=payee.customer_no,
            account_token=account.account_token,
            amount="25.00",
            currency="USD",
            invoice_id=invoice_id,
            ipn_url=ipn_url,
        )
    except PayoutOutcomeUnknownError as error:
        # Never pay again under a new invoice id: look it up later.
        print("outcome unknown; reconcile later with", error.invoice_id)
        raise
    print("payout", payout.transaction_no, "is", payout.status)

    # The final status arrives by IPN; it can also be looked up.
    while payout.status == PayoutStatus.PENDING:
        time.sleep(0.1)
        payout = client.inquire_payout(invoice_id=invoice_id)
    print("payout", payout.transaction_no, "ended", payout.status)

    try:
        client.pay(
            customer_no=payee.customer_no,
            account_token=account.account_token,
            amount="1000000000.00",
            currency="USD",
            invoice_id=f"inv-{uuid.uuid4().hex[:12]}",
        )
    except InsufficientBalanceError as error:
        print("refused by the API:", error.code, error.ret_msg)

    try:
        client.pay(
            customer_no=payee.customer_no,
            account_token=account.account_token,
            amount="12,50",
            currency="USD",
            invoice_id="inv-bad-amount",
        )
    except InvalidRequestError as error:
        print("refused before sending:", error.field)

    print("balance", client.balance(currency="USD").amount)
    return payee.customer_no, account.account_token


async def concurrent_payouts(client: AsyncClient, customer_no: str, account_token: str) -> list[Payout]:
    return await asyncio.gather(
        *(
            client.pay(
                customer_no=customer_no,
                account_token=account_token,
                amount="1.50",
                currency="USD",
                invoice_id=f"batch-{i}-{uuid.uuid4().hex[:8]}",
            )
            for i in range(10)
        )
    )


def main() -> None:
    with Sandbox(settle_delay=0.2) as sandbox:
        received: list[str] = []
        receiver = start_ipn_receiver(sandbox.api_token, received)
        try:
            ipn_url = f"http://127.0.0.1:{receiver.server_address[1]}/ipn"
            customer_no, account_token = blocking_flow(sandbox.client(), ipn_url)

            payouts = asyncio.run(concurrent_payouts(sandbox.async_client(), customer_no, account_token))
            print(len(payouts), "concurrent payouts:", sorted({str(p.status) for p in payouts}))

            deadline = time.monotonic() + 30
            while not any("status=success" in body for body in received) and time.monotonic() < deadline:
                time.sleep(0.05)
            print("verified IPNs:", len(received))
        finally:
            receiver.shutdown()
            receiver.server_close()


if __name__ == "__main__":
    main()
