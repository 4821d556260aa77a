"""The demo half of the webhook examples: with no ``POCKYT_API_TOKEN`` set,
each example starts the SDK's embedded sandbox, serves its app on a free
local port, and pays to itself with this module, so the sandbox sends it
real, signed IPNs (``pending``, then ``success``)."""

from __future__ import annotations

import time

from pockyt_payouts import BankAccountPurpose, ProfileType
from pockyt_payouts.testing import Sandbox


def start_sandbox() -> Sandbox:
    """A sandbox that settles quickly and resends a refused IPN soon."""
    return Sandbox(settle_delay=0.1, ipn_retry_delays=[0, 0.5, 1, 2], balances={"USD": "100.00"}).start()


def pay_to(sandbox: Sandbox, ipn_url: str, invoice_id: str) -> None:
    """Registers a payee with a bank account and pays it 10.00 USD, with
    ``ipn_url`` as the payout's webhook."""
    client = sandbox.client()
    payee = client.register_payee(
        profile_type=ProfileType.INDIVIDUAL,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        date_of_birth="1990-05-17",
    )
    assert payee.customer_no
    account = client.add_bank_account(
        customer_no=payee.customer_no,
        bank_account_id="7861053298",
        branch_id="101089292",
        bank_account_purpose=BankAccountPurpose.CHECKING,
    )
    assert account.account_token
    client.pay(
        customer_no=payee.customer_no,
        account_token=account.account_token,
        amount="10.00",
        currency="USD",
        invoice_id=invoice_id,
        ipn_url=ipn_url,
    )


def wait_answered(sandbox: Sandbox, invoice_id: str, tries: int, within: float = 30.0) -> None:
    """Waits (at most ``within`` seconds) until the payout's IPNs were
    answered ``success`` and the sandbox made at least ``tries`` tries."""
    give_up = time.monotonic() + within
    while time.monotonic() < give_up:
        log = [t for t in sandbox.ipn_log() if t["fields"].get("reference") == invoice_id]
        if len(log) >= tries and log[-1]["answered_success"]:
            return
        time.sleep(0.05)
    raise SystemExit(f"the IPNs of {invoice_id} were not answered in time")


def demo(sandbox: Sandbox, ipn_url: str) -> None:
    """Pays to ``ipn_url``, waits for both IPNs, then replays the last one:
    the app answers ``success`` and does not handle it again."""
    pay_to(sandbox, ipn_url, "demo-invoice-1")
    wait_answered(sandbox, "demo-invoice-1", tries=2)
    sandbox.resend_ipn("demo-invoice-1")
    wait_answered(sandbox, "demo-invoice-1", tries=3)
    for t in sandbox.ipn_log():
        print(f"sandbox: IPN {t['fields']['status']} try {t['attempt']} answered {t['http_status']} {t['answer']!r}")
    print("the last IPN was a replay: answered success, not handled again")
