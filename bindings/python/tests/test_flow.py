"""The whole flow against the sandbox, blocking and asyncio: register, add a
bank account, list, pay, inquire, and the signed IPN that follows."""

from __future__ import annotations

import asyncio
import urllib.parse

from conftest import IpnReceiver, new_payee_and_account, wait_for

from pockyt_payouts import (
    AccountStatus,
    AccountType,
    AsyncClient,
    BankAccountPurpose,
    Client,
    Customer,
    GovernmentIdType,
    PayeeStatus,
    PayoutStatus,
    ProcessingChannel,
    ProfileType,
    verify_ipn,
)
from pockyt_payouts.testing import Sandbox


def ipn_statuses(receiver: IpnReceiver, token: str, invoice_id: str, final: str) -> list[dict[str, str]]:
    """Collects the IPNs of one payout until its final status arrives;
    every one must verify."""
    seen: list[dict[str, str]] = []

    def final_seen() -> bool:
        while not receiver.bodies.empty():
            body = receiver.bodies.get()
            assert verify_ipn(body, token), body
            fields = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
            if fields["reference"] == invoice_id:
                seen.append(fields)
        return any(f["status"] == final for f in seen)

    wait_for(final_seen, f"the {final} IPN of {invoice_id}")
    return seen


def test_blocking_flow(sandbox: Sandbox, client: Client, ipn_receiver: IpnReceiver) -> None:
    payee = client.register_payee(
        profile_type=ProfileType.INDIVIDUAL,
        date_of_birth="1990-05-17",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        country_code="US",
        government_id="123456789",
        government_id_type=GovernmentIdType.SSN,
        customer_code="cust-1",
    )
    assert isinstance(payee, Customer)
    assert payee.customer_no and payee.first_name == "Ada" and payee.customer_code == "cust-1"
    customer_no = payee.customer_no

    retrieved = client.retrieve_payee(customer_no=customer_no)
    assert retrieved.customer_no == customer_no
    assert retrieved.profile_type == ProfileType.INDIVIDUAL
    assert retrieved.email == "ada@example.com"
    assert retrieved.payee_status in {s.value for s in PayeeStatus}

    updated = client.update_payee(customer_no=customer_no, city="London", zip="10005")
    assert updated.ret_code == "000100"
    assert client.retrieve_payee(customer_no=customer_no).city == "London"

    account = client.add_bank_account(
        customer_no=customer_no,
        bank_account_id="7861053298",
        branch_id="101089292",
        bank_account_purpose=BankAccountPurpose.SAVINGS,
        account_tag="tag-1",
        client_ip="127.0.0.1",
    )
    assert account.account_token and account.customer_no == customer_no
    assert account.account_type == AccountType.BANK_ACCOUNT
    assert account.account_status == AccountStatus.ACTIVATED
    assert (account.country, account.currency) == ("US", "USD")

    listed = client.list_payout_accounts(customer_no=customer_no)
    assert [a.account_token for a in listed.accounts] == [account.account_token]
    assert listed.accounts[0].card_number == "****3298"
    assert listed.accounts[0].account_tag == "tag-1"
    assert listed.user is not None and listed.user.customer_no == customer_no

    before = client.balance(currency="USD")
    assert before.currency == "USD" and before.amount == "1000000.00"

    payout = client.pay(
        customer_no=customer_no,
        account_token=account.account_token,
        amount="500",
        currency="USD",
        invoice_id="inv-sync-1",
        description="thank you",
        note="Payouts, Thanks",
        subject="Payouts",
        ipn_url=ipn_receiver.url,
        processing_channel=ProcessingChannel.SAME_DAY_ACH,
    )
    assert payout.status == PayoutStatus.PENDING
    assert (payout.amount, payout.currency, payout.invoice_id) == ("500.00", "USD", "inv-sync-1")
    assert payout.transaction_no

    ipns = ipn_statuses(ipn_receiver, sandbox.api_token, "inv-sync-1", "success")
    assert ipns[-1]["transactionNo"] == payout.transaction_no
    assert ipns[-1]["amount"] == "500.00"

    settled = client.inquire_payout(invoice_id="inv-sync-1")
    assert settled.status == PayoutStatus.SUCCESS
    assert settled.transaction_no == payout.transaction_no
    assert client.balance(currency="USD").amount == "999500.00"
    assert sandbox.balance("USD") == "999500.00"
    assert [p.invoice_id for p in sandbox.payouts()] == ["inv-sync-1"]
    log = sandbox.ipn_log()
    assert log and all(entry["url"] == ipn_receiver.url for entry in log)
    assert all(verify_ipn(entry["fields"], sandbox.api_token) for entry in log)
    assert any(entry["answered_success"] for entry in log)


def test_failed_and_returned_payouts_end_so(client: Client, ipn_receiver: IpnReceiver, sandbox: Sandbox) -> None:
    customer_no, token = new_payee_and_account(client)
    for invoice_id, final in [("failed-1", "failed"), ("returned-1", "returned")]:
        client.pay(
            customer_no=customer_no,
            account_token=token,
            amount="10.00",
            currency="USD",
            invoice_id=invoice_id,
            ipn_url=ipn_receiver.url,
        )
        ipn_statuses(ipn_receiver, sandbox.api_token, invoice_id, final)
        assert client.inquire_payout(invoice_id=invoice_id).status == final
    # Failed and returned payouts give the funds back.
    assert client.balance(currency="USD").amount == "1000000.00"


def test_async_flow(ipn_receiver: IpnReceiver) -> None:
    async def flow() -> None:
        async with Sandbox(settle_delay=0.05) as sandbox:
            client = sandbox.async_client()
            assert isinstance(client, AsyncClient)
            payee = await client.register_payee(
                profile_type=ProfileType.BUSINESS, date_of_birth="1985-01-02", first_name="Grace", email="g@example.com"
            )
            assert payee.customer_no
            assert (await client.retrieve_payee(customer_no=payee.customer_no)).first_name == "Grace"
            assert (await client.update_payee(customer_no=payee.customer_no, last_name="Hopper")).ret_code == "000100"
            account = await client.add_bank_account(
                customer_no=payee.customer_no,
                bank_account_id="123456789",
                branch_id="021000021",
                bank_account_purpose="CHECKING",
            )
            assert account.account_token
            listed = await client.list_payout_accounts(customer_no=payee.customer_no)
            assert [a.account_token for a in listed.accounts] == [account.account_token]
            payout = await client.pay(
                customer_no=payee.customer_no,
                account_token=account.account_token,
                amount="12.34",
                currency="USD",
                invoice_id="inv-async-1",
                ipn_url=ipn_receiver.url,
            )
            assert payout.status == PayoutStatus.PENDING and payout.amount == "12.34"
            # The IPN receiver is polled from a worker thread, off the loop.
            loop = asyncio.get_running_loop()
            ipns = await loop.run_in_executor(
                None, ipn_statuses, ipn_receiver, sandbox.api_token, "inv-async-1", "success"
            )
            assert ipns[-1]["transactionNo"] == payout.transaction_no
            settled = await client.inquire_payout(invoice_id="inv-async-1")
            assert settled.status == PayoutStatus.SUCCESS
            balance = await client.balance(currency="USD")
            assert balance.amount == "999987.66"
            assert sandbox.payouts()[0].transaction_no == payout.transaction_no
        # `async with` stopped it.
        assert "running=False" in repr(sandbox)

    asyncio.run(flow())


def test_results_keep_every_field_and_convert_to_dict(client: Client) -> None:
    customer_no, token = new_payee_and_account(client)
    payout = client.pay(customer_no=customer_no, account_token=token, amount="1", currency="USD", invoice_id="inv-d")
    as_dict = payout.to_dict()
    assert as_dict["invoice_id"] == "inv-d" and as_dict["amount"] == "1.00"
    assert set(as_dict) >= {"transaction_no", "status", "currency", "account_token", "customer_no", "created_time"}
    listed = client.list_payout_accounts(customer_no=customer_no).to_dict()
    assert listed["accounts"][0]["account_token"] == token
    assert listed["user"]["customer_no"] == customer_no
